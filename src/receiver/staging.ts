// Where the receiver's transfers leave things: `<pool>/<peer>/<share>/.incoming-<transfer>`
// (a jail, see jail.ts, or an older Ferry's staging subvolume) and
// `.incoming-<transfer>.ready` (a subvolume moved out of its jail, not yet committed).
// Finding them reads directories only; deleting them is the receiver's,
// which knows the transfers under way.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { READY_SUFFIX, STAGING_PREFIX } from './paths.js';

/** Peer directories are named by appliance id (tests use other ids of the same shape). */
const PEER_DIR = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Whether a directory name could be a peer's directory. */
export function isPeerDirName(name: string): boolean {
  return PEER_DIR.test(name);
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Every staging path on the given pools, in or out of use. */
export async function findStaging(pools: readonly { readonly path: string }[]): Promise<string[]> {
  const found: string[] = [];
  for (const pool of pools) {
    for (const peer of await listDir(pool.path)) {
      if (!PEER_DIR.test(peer)) continue;
      for (const share of await listDir(path.join(pool.path, peer))) {
        const dir = path.join(pool.path, peer, share);
        for (const entry of await listDir(dir)) if (entry.startsWith(STAGING_PREFIX)) found.push(path.join(dir, entry));
      }
    }
  }
  return found;
}

/** The transfer a staging path belongs to, or null when the path is not a staging path on one of the pools. */
export function stagingTransfer(stagingPath: string, pools: readonly { readonly path: string }[]): string | null {
  const name = path.basename(stagingPath);
  if (!name.startsWith(STAGING_PREFIX)) return null;
  const shareDir = path.dirname(stagingPath);
  const peerDir = path.dirname(shareDir);
  if (!PEER_DIR.test(path.basename(peerDir)) || !pools.some((p) => path.dirname(peerDir) === p.path)) return null;
  const id = name.slice(STAGING_PREFIX.length);
  return id.endsWith(READY_SUFFIX) ? id.slice(0, -READY_SUFFIX.length) : id;
}
