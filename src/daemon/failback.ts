// The common ground of a failback, as this appliance's store knows it.
//
// A share promoted from a replica (`ferry replica promote`) and sent back to
// the peer the replica came from builds on that replica: it is the task's
// base, a parent outside its snapshot directory. On the other side, the
// snapshot of this appliance that the peer's share was promoted from is a
// parent the receiver may use, but only when this appliance sent it to that
// peer: the peer has had its data already.

import path from 'node:path';
import type { Btrfs } from '../btrfs/index.js';
import type { Task } from '../domain/task.js';
import type { SentSnapshots } from '../receiver/receiver.js';
import type { Base } from '../sender/sender.js';
import { taskSnapshotDir } from '../sender/paths.js';
import type { Store } from '../store/index.js';

/** The replica a task's share was promoted from, when the task sends it back to that replica's peer. */
export function promotionBases(store: Store): (task: Task) => Base[] {
  return (task) => {
    const copy = store.copies.get(path.resolve(task.sharePath));
    if (!copy || copy.kind !== 'promote' || copy.peer !== task.peer) return [];
    return [{ name: copy.snapshot, identity: copy.baseIdentity, path: copy.basePath }];
  };
}

/** A snapshot of one of this appliance's tasks to `peer`, by identity, that a run sent there successfully. */
export function sentSnapshots(store: Store, btrfs: Btrfs): SentSnapshots {
  return async (peer, identity) => {
    for (const task of store.tasks.list().filter((t) => t.peer === peer)) {
      const dir = taskSnapshotDir(task);
      const match = (await btrfs.children(dir)).find((s) => s.readOnly && (s.receivedUuid ?? s.uuid) === identity);
      if (!match) continue;
      const sent = store.sendTrail.list({ task: task.name, status: 'succeeded', limit: 10_000 }).some((e) => e.snapshot === match.name && e.peer === peer);
      if (sent) return { name: match.name, path: path.join(dir, match.name) };
    }
    return null;
  };
}
