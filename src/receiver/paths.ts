import path from 'node:path';
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
 * The name a transfer's subvolume is received under, inside the replica
 * directory itself: commit is then a rename within one directory (btrfs
 * refuses to move a read-only subvolume to another one), and the leading dot
 * keeps a partial receive from ever looking like a replica (those are named
 * by time, see isSnapshotName).
 */
export const STAGING_PREFIX = '.incoming-';

export function stagingName(transferId: string): string {
  return STAGING_PREFIX + transferId;
}
