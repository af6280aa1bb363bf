// What `task add` accepts as a share, and what it refuses with one sentence:
// a subvolume of this appliance's own, never the filesystem's top level, a
// snapshot Ferry took, a replica a peer sent here, or a share that a task
// already sends to the same peer and pool, or whose replica directory there
// would be another task's. Two tasks into one replica chain would prune each
// other's replicas; two shares under one name would be one chain.

import path from 'node:path';
import { APPLIANCE_ID_PATTERN } from '../../proto/ids.js';
import type { Btrfs } from '../btrfs/index.js';
import { FerryError } from '../domain/errors.js';
import { validateShareName } from '../domain/names.js';
import type { Store } from '../store/index.js';
import { isInside } from './pool-admin.js';

/** The top level of a btrfs filesystem (BTRFS_FS_TREE_OBJECTID). */
const TOP_LEVEL_ID = 5;

export interface CheckedShare {
  readonly sharePath: string;
  /** Its name on the receiver: its replica directory. */
  readonly share: string;
  readonly shareUuid: string;
}

export async function checkShare(
  deps: { btrfs: Btrfs; store: Store },
  request: { sharePath: string; shareName?: string | undefined; peer: string; peerName: string; pool: string },
): Promise<CheckedShare> {
  const { btrfs, store } = deps;
  const sharePath = path.resolve(request.sharePath);
  if (!(await btrfs.isSubvolume(sharePath))) throw new FerryError('SHARE_MISSING', `share ${sharePath} is not a btrfs subvolume`);
  const info = await btrfs.show(sharePath);
  if (info.id === TOP_LEVEL_ID) {
    throw new FerryError('INVALID_INPUT', `${sharePath} is the top level of its btrfs filesystem, not a share: replicate a subvolume inside it (btrfs subvolume create ${path.join(sharePath, 'NAME')})`);
  }
  if (sharePath.split(path.sep).includes('.ferry-snapshots')) {
    throw new FerryError('INVALID_INPUT', `${sharePath} is a snapshot Ferry took (it is under .ferry-snapshots): replicate the share it was taken of`);
  }
  for (const pool of store.pools.list()) {
    if (sharePath === pool.path) throw new FerryError('INVALID_INPUT', `${sharePath} is pool '${pool.name}', where peers' replicas live, not a share`);
    if (!isInside(sharePath, pool.path)) continue;
    const first = path.relative(pool.path, sharePath).split(path.sep)[0] ?? '';
    if (APPLIANCE_ID_PATTERN.test(first) || store.chains.list({ peer: first, pool: pool.name }).length > 0) {
      throw new FerryError(
        'INVALID_INPUT',
        `${sharePath} is a replica in pool '${pool.name}' (its directory of peer ${first}), not a share: to work on it, make a writable copy of it first`,
      );
    }
  }

  const share = request.shareName ?? validateShareName(path.basename(sharePath));
  for (const task of store.tasks.list()) {
    if (task.peer !== request.peer || task.pool !== request.pool) continue;
    const uuid = task.shareUuid ?? (await btrfs.show(task.sharePath).then((i) => i.uuid).catch(() => null));
    if (uuid === info.uuid || task.sharePath === sharePath) {
      throw new FerryError(
        'ALREADY_EXISTS',
        `task '${task.name}' already replicates ${sharePath} to ${request.peerName} pool ${request.pool}: a second task there would prune the first one's replicas`,
      );
    }
    if (task.share === share) {
      throw new FerryError(
        'ALREADY_EXISTS',
        `task '${task.name}' already sends a share named '${share}' (${task.sharePath}) to ${request.peerName} pool ${request.pool}, and both would land in one replica directory: ` +
          `give this one another name there with --as NAME`,
      );
    }
  }
  return { sharePath, share, shareUuid: info.uuid };
}
