import { chmod, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../domain/errors.js';
import { validatePeerId, validateShareName } from './validate.js';

// Every path the receiver builds from network-supplied names goes through
// here, after validation, so that a peer can only ever write under its own
// directory of a pool: <pool>/<peer-id>/<share>/.

export function peerDir(poolPath: string, peer: string): string {
  return path.join(poolPath, validatePeerId(peer));
}

export function replicaDir(poolPath: string, peer: string, share: string): string {
  return path.join(peerDir(poolPath, peer), validateShareName(share));
}

/**
 * The replica area is root's alone: a peer's replicas hold what the peer
 * chose (setuid binaries, device nodes, any file modes), so no local user may
 * even pass through its directory. mkdir's mode is cut by the umask and
 * leaves an existing directory as it was (an older Ferry made them 0755), so
 * the mode is set outright, on the peer's directory and the share's.
 */
export const REPLICA_AREA_MODE = 0o700;

/** Makes (or closes) a replica directory and its peer directory: 0700, real directories, not links. */
export async function makeReplicaDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: REPLICA_AREA_MODE });
  for (const d of [path.dirname(dir), dir]) {
    const info = await lstat(d);
    if (!info.isDirectory()) throw new FerryError('INTERNAL', `${d} is not a directory: refusing to receive into it`);
    if ((info.mode & 0o7777) !== REPLICA_AREA_MODE) await chmod(d, REPLICA_AREA_MODE);
  }
}

/**
 * The name of a transfer's jail in the replica directory, and of the
 * subvolume received in it (see jail.ts): the leading dot keeps a partial
 * receive from ever looking like a replica (those are named by time, see
 * isSnapshotName).
 */
export const STAGING_PREFIX = '.incoming-';

/** What follows the staging name on the subvolume moved out of its jail, beside the replicas, until the commit renames it. */
export const READY_SUFFIX = '.ready';

export function stagingName(transferId: string): string {
  return STAGING_PREFIX + transferId;
}
