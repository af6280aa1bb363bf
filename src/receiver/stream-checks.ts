// Checks of what a peer sent, made by the receiver before it commits: the
// stream's head against what the sender announced, and the path a replica
// would be committed on.

import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import type { StreamHead } from '../btrfs/index.js';
import { FerryError } from '../domain/errors.js';
import type { TransferRequest } from '../domain/transfer.js';
import type { Pool } from '../store/index.js';

/** The stream must be the snapshot the sender announced, on the parent it announced. */
export function checkHead(head: StreamHead, request: TransferRequest): void {
  if (head.uuid !== request.snapshotUuid) {
    throw new FerryError('RECEIVED_MISMATCH', `the stream carries snapshot UUID ${head.uuid}, but ${request.snapshotUuid} was announced`);
  }
  const parentUuid = request.parent?.uuid ?? null;
  if (head.parentUuid !== parentUuid) {
    throw new FerryError('RECEIVED_MISMATCH', `the stream's parent is ${head.parentUuid ?? 'none (a full send)'}, but ${parentUuid ?? 'none (a full send)'} was announced`);
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The stream or its jail was refused: that says more than an abort it raced with. */
export function isStreamRefusal(err: unknown): boolean {
  return err instanceof FerryError && err.code === 'STREAM_REFUSED';
}

/** The lock of one chain (a peer's share on a pool): its transfers, and the restores sent from it, take turns. */
export function shareKey(peer: string, pool: Pool, share: string): string {
  return `${peer}/${pool.name}/${share}`;
}

/** The first component of `where` (from the root down) that is a symbolic link; null when none is. */
export async function linkOnPath(where: string): Promise<string | null> {
  const parts = path.resolve(where).split(path.sep).filter(Boolean);
  let at: string = path.sep;
  for (const part of parts) {
    at = path.join(at, part);
    // A component gone is no link: the subvolume check after this refuses it.
    const info = await lstat(at).catch(() => null);
    if (info?.isSymbolicLink()) return at;
  }
  return null;
}
