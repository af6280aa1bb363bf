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

/** Staging sits inside the peer's own directory, on the pool's filesystem, so commit is a rename. */
export function stagingDir(poolPath: string, peer: string, transferId: string): string {
  return path.join(peerDir(poolPath, peer), '.staging', transferId);
}
