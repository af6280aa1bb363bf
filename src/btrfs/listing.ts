// One `btrfs subvolume list` of a whole filesystem, and what it answers
// without another process: the subvolumes that are entries of a directory,
// with their UUIDs, as `subvolume show` would give them one process each.
//
// A listing names each subvolume by its path inside the subvolume it sits in
// (btrfs' own back reference); full paths from the top level are built by
// following those up. A directory's entries are read fresh (readdir), so a
// subvolume deleted since the listing is not reported; one made since (or
// any entry the listing cannot place, such as a name with a newline) is
// asked of `subvolume show`, so the answer is never less right than one
// `show` per entry, only cheaper.

import { access, constants, readdir, readFile, realpath } from 'node:fs/promises';
import { join, posix, relative, resolve } from 'node:path';
import { FerryError, toFerryError } from '../domain/errors.js';
import type { BtrfsContext } from './context.js';
import { findMount, parseMountInfo, type MountEntry } from './parse-health.js';
import { isSubvolume, listAll, show } from './subvolume.js';
import type { SubvolumeInfo, SubvolumeListing } from './types.js';

const MOUNTINFO = '/proc/self/mountinfo';
/** The filesystem's top level: a subvolume in it has no path above its own. */
const TOP_LEVEL = 5;
/** Entries of a directory asked of `subvolume show` at once, when the listing cannot place them. */
const SHOW_CONCURRENCY = 4;

export interface PoolListing {
  /** Every subvolume of the filesystem (the top level excepted), as listed. */
  readonly subvolumes: readonly SubvolumeListing[];
  /** The adapter's count of changes it had made when this was taken: a later count means it may be out of date. */
  readonly changes: number;
  /** The subvolumes that are entries of `dir`, sorted by name; [] if `dir` is missing. */
  children(dir: string): Promise<SubvolumeInfo[]>;
  /** Tells the listing of a subvolume made after it was taken (a commit), by the path `children` will find it at, so that it need not ask. */
  learn(info: SubvolumeInfo): void;
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** Each subvolume's path from the filesystem's top level, without a leading '/'. */
export function fullPaths(subvolumes: readonly SubvolumeListing[]): Map<string, SubvolumeListing> {
  const byId = new Map(subvolumes.map((s) => [s.id, s]));
  const memo = new Map<number, string | null>();
  const pathOf = (s: SubvolumeListing, depth: number): string | null => {
    const known = memo.get(s.id);
    if (known !== undefined) return known;
    let full: string | null;
    if (s.topLevel === TOP_LEVEL) full = s.path;
    else {
      const above = byId.get(s.topLevel);
      // Unreachable (deleted, not yet cleaned) or a loop in a corrupt listing: not placed.
      const abovePath = above && depth < 256 ? pathOf(above, depth + 1) : null;
      full = abovePath === null ? null : `${abovePath}/${s.path}`;
    }
    memo.set(s.id, full);
    return full;
  };
  const out = new Map<string, SubvolumeListing>();
  for (const s of subvolumes) {
    const full = pathOf(s, 0);
    if (full !== null) out.set(full, s);
  }
  return out;
}

/** Where `dir` (absolute, symlink-free) is inside its filesystem, from the top level; null when it is not on btrfs. */
function placeOf(mounts: readonly MountEntry[], dir: string): { mount: MountEntry; inside: string } | null {
  const mount = findMount(mounts, dir);
  if (mount?.fsType !== 'btrfs') return null;
  const inside = posix.join(mount.root, relative(mount.mountPoint, dir)).replace(/^\/+/, '');
  return { mount, inside };
}

/** A read-only subvolume refuses writing with EROFS (btrfs_permission), which `access` asks without writing. */
async function isReadOnly(path: string): Promise<boolean | null> {
  try {
    await access(path, constants.W_OK);
    return false;
  } catch (err) {
    if (errnoOf(err) === 'EROFS') return true;
    return null;
  }
}

export async function takeListing(ctx: BtrfsContext, path: string, changes: number, signal?: AbortSignal): Promise<PoolListing> {
  const [subvolumes, mountinfo, real] = await Promise.all([listAll(ctx, path, signal), readFile(MOUNTINFO, 'utf8'), realpath(path)]);
  const mounts = parseMountInfo(mountinfo);
  const listed = placeOf(mounts, real);
  const byPath = fullPaths(subvolumes);
  const learned = new Map<string, SubvolumeInfo>();

  const children = async (dir: string): Promise<SubvolumeInfo[]> => {
    let names: string[];
    let realDir: string;
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      names = entries.filter((e) => e.isDirectory()).map((e) => e.name);
      realDir = await realpath(dir);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      if (errnoOf(err) === 'ENOTDIR') throw new FerryError('INVALID_INPUT', `Cannot list the subvolumes in ${dir}: it is not a directory.`, { cause: err });
      throw toFerryError(err);
    }
    // Code-point order, so the result does not depend on the locale.
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const here = placeOf(mounts, realDir);
    // Another filesystem than the one listed, or a mount that is read-only as a whole (every access says EROFS there): ask each.
    const sameFs = listed !== null && here !== null && here.mount.device === listed.mount.device;
    const writableMount = here !== null && !here.mount.mountOptions.includes('ro') && !here.mount.superOptions.includes('ro');
    const found: (SubvolumeInfo | null)[] = new Array<SubvolumeInfo | null>(names.length).fill(null);
    const unplaced: number[] = [];
    for (const [i, name] of names.entries()) {
      const path = join(dir, name);
      if (!(await isSubvolume(path))) continue;
      const entry = sameFs && writableMount ? byPath.get(here.inside === '' ? name : `${here.inside}/${name}`) : undefined;
      const readOnly = entry ? await isReadOnly(path) : null;
      const known = learned.get(resolve(dir, name));
      if (known) found[i] = { ...known, path, name };
      else if (entry && readOnly !== null) {
        found[i] = { path, name, id: entry.id, uuid: entry.uuid, parentUuid: entry.parentUuid, receivedUuid: entry.receivedUuid, generation: entry.generation, readOnly };
      } else unplaced.push(i);
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let k = next++; k < unplaced.length; k = next++) {
        const i = unplaced[k]!;
        try {
          found[i] = await show(ctx, join(dir, names[i]!), signal);
        } catch (err) {
          // Deleted between readdir and show: it is no longer a child.
          if (err instanceof FerryError && (err.code === 'NOT_FOUND' || err.code === 'NOT_A_SUBVOLUME')) continue;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SHOW_CONCURRENCY, unplaced.length) }, worker));
    return found.filter((info): info is SubvolumeInfo => info !== null);
  };

  return {
    subvolumes,
    changes,
    children,
    learn: (info) => {
      learned.set(resolve(info.path), info);
    },
  };
}

/**
 * The subvolumes that are entries of `dir`: one listing of its filesystem,
 * taken only when the directory holds a subvolume at all.
 */
export async function children(ctx: BtrfsContext, dir: string, changes: number): Promise<SubvolumeInfo[]> {
  let any = false;
  try {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && (await isSubvolume(join(dir, entry.name)))) {
        any = true;
        break;
      }
    }
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    if (errnoOf(err) === 'ENOTDIR') throw new FerryError('INVALID_INPUT', `Cannot list the subvolumes in ${dir}: it is not a directory.`, { cause: err });
    throw toFerryError(err);
  }
  if (!any) return [];
  return (await takeListing(ctx, dir, changes)).children(dir);
}
