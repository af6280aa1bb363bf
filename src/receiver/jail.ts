// A jail per transfer. `btrfs receive -C` chroots into the directory it
// receives in, so a link the stream makes (or its parent holds) to "/" names
// that directory, and the stream can write, rename and plant through it: the
// stream check sees only paths, not what they resolve to. So every transfer
// receives into a fresh private directory of its own,
// `<replica dir>/.incoming-<transfer>/`, that holds nothing but what this
// transfer made. Afterwards, pass or fail, the jail must hold exactly the one
// received subvolume under its staging name; anything else refuses the
// transfer. Commit moves the subvolume out beside the replicas (as a
// snapshot with the same received UUID: a read-only subvolume cannot change
// directory, see src/btrfs/rehome.ts) and deletes the jail; a refusal, a
// failure or the sweep after a crash deletes the jail whole, subvolumes
// first (a read-only one cannot be emptied file by file).

import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../domain/errors.js';
import { READY_SUFFIX, REPLICA_AREA_MODE, STAGING_PREFIX, stagingName } from './paths.js';

/** What the jail needs of btrfs: telling and deleting subvolumes. */
export interface JailBtrfs {
  isSubvolume(path: string): Promise<boolean>;
  delete(path: string): Promise<void>;
}

/** A transfer's jail and the path its subvolume is received under, inside it. */
export interface Jail {
  readonly dir: string;
  /** The subvolume's name inside the jail: the staging name the stream guard gives the stream's head. */
  readonly name: string;
  readonly staging: string;
  /** The name it is moved out under, beside the replicas, before the commit's rename. */
  readonly ready: string;
}


export function jailOf(dir: string, transferId: string): Jail {
  const jail = path.join(dir, stagingName(transferId));
  const name = stagingName(transferId);
  return { dir: jail, name, staging: path.join(jail, name), ready: name + READY_SUFFIX };
}

/** Makes the jail: new (never reused), a real directory, root's alone whatever the umask. */
export async function makeJail(jail: Jail): Promise<void> {
  await mkdir(jail.dir, { mode: REPLICA_AREA_MODE });
  const info = await lstat(jail.dir);
  if (!info.isDirectory() || (info.mode & 0o7777) !== REPLICA_AREA_MODE) {
    throw new FerryError('INTERNAL', `${jail.dir} is not a private directory: refusing to receive into it`);
  }
}

/** Shows a name from the pool in a message: printable, bounded. */
function shownName(name: string): string {
  return JSON.stringify(name.slice(0, 100));
}

/**
 * After the receive, pass or fail: the jail holds the received subvolume
 * (or nothing, when receive failed before making it) and nothing else.
 * Anything else was made outside the subvolume, through a link; STREAM_REFUSED.
 */
export async function checkJail(btrfs: JailBtrfs, jail: Jail): Promise<void> {
  const entries = await readdir(jail.dir);
  const strays = entries.filter((e) => e !== jail.name).sort();
  if (strays.length > 0) {
    const more = strays.length > 1 ? ` and ${strays.length - 1} more` : '';
    throw new FerryError('STREAM_REFUSED', `the stream made ${shownName(strays[0]!)}${more} outside its subvolume (through a symbolic link): the transfer is refused and all it made is deleted`);
  }
  if (entries.includes(jail.name) && !(await btrfs.isSubvolume(jail.staging))) {
    throw new FerryError('STREAM_REFUSED', `the stream replaced its subvolume with something else outside its subvolume: the transfer is refused and all it made is deleted`);
  }
}

/**
 * Deletes what a transfer left under an `.incoming-*` path: a jail (with
 * whatever the stream put in it) or, from an older Ferry, a bare staging
 * subvolume. Links are never followed; subvolumes go by `btrfs subvolume
 * delete`, the rest by unlinking.
 */
export async function discardIncoming(btrfs: JailBtrfs, where: string): Promise<void> {
  const info = await lstat(where).catch(() => null);
  if (!info) return;
  if (!info.isDirectory()) {
    await rm(where, { force: true });
    return;
  }
  if (await btrfs.isSubvolume(where)) {
    await btrfs.delete(where);
    return;
  }
  for (const entry of await readdir(where, { withFileTypes: true })) {
    if (entry.isDirectory()) await discardIncoming(btrfs, path.join(where, entry.name));
  }
  await rm(where, { recursive: true, force: true });
}

/** Whether a directory entry is a transfer's leftover (a jail, or an older Ferry's staging subvolume). */
export function isIncomingName(name: string): boolean {
  return name.startsWith(STAGING_PREFIX);
}
