// The admin's side of what this appliance holds and has done: the replicas
// peers sent here and the writable copies made of them (promote, clone),
// restores asked of peers, and both trails.

import type { CopyView, ReplicaView } from '../api/ports.js';
import type { CopyBody, ReplicaQuery, RestoreBody, RestoreView, TrailQuery } from '../api/schemas.js';
import type { WritableCopy } from '../domain/chain.js';
import { FerryError } from '../domain/errors.js';
import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import type { Receiver } from '../receiver/receiver.js';
import type { Store } from '../store/index.js';
import type { TrailListOptions } from '../store/trail-table.js';
import type { Restores } from './restores.js';

export interface ReplicaAdminDeps {
  readonly store: Store;
  readonly receiver: Receiver;
  readonly restores: Restores;
}

export class ReplicaAdmin {
  constructor(private readonly d: ReplicaAdminDeps) {}

  sendTrail(query: TrailQuery): Promise<SendTrailEntry[]> {
    return Promise.resolve(this.d.store.sendTrail.list({ ...(query.task ? { task: query.task } : {}), ...trailRange(query), limit: query.limit ?? 50 }));
  }

  receiveTrail(query: TrailQuery): Promise<ReceiveTrailEntry[]> {
    const peer = query.peer ? this.#peerIdOrRaw(query.peer) : undefined;
    return Promise.resolve(
      this.d.store.receiveTrail.list({ ...(peer ? { peer } : {}), ...(query.share ? { share: query.share } : {}), ...trailRange(query), limit: query.limit ?? 50 }),
    );
  }

  async listReplicas(query: ReplicaQuery): Promise<ReplicaView[]> {
    const filter = { ...(query.peer ? { peer: this.#peerIdOrRaw(query.peer) } : {}), ...(query.share ? { share: query.share } : {}) };
    return (await this.d.receiver.chains(filter)).map((c) => ({
      peer: c.peer,
      peerName: this.d.store.peers.get(c.peer)?.name ?? null,
      pool: c.pool,
      share: c.share,
      sourceUuid: c.sourceUuid,
      snapshots: c.replicas.map((r, i) => ({ name: r.name, receivedUuid: r.receivedUuid, path: r.path, committedAt: r.committedAt, bytes: r.bytes, newest: i === c.replicas.length - 1 })),
      copies: this.d.store.copies
        .list()
        .filter((k) => k.peer === c.peer && k.pool === c.pool && k.share === c.share)
        .map((k) => copyView(k)),
    }));
  }

  async copyReplica(body: CopyBody): Promise<CopyView> {
    const peer = this.#peerIdOrRaw(body.peer);
    if (!this.d.store.peers.get(peer) && this.d.store.chains.list({ peer }).length === 0) {
      throw new FerryError('NOT_FOUND', `no peer with id or name '${body.peer}' (see 'ferry peer list')`);
    }
    const copy = await this.d.receiver.copy({ kind: body.kind, peer, share: body.share, pool: body.pool, snapshot: body.snapshot, to: body.to });
    // Promoted in place of a task's share (taking over after a failback): the task goes on with the new subvolume.
    for (const task of this.d.store.tasks.list()) if (task.sharePath === copy.path) this.d.store.tasks.setShareUuid(task.name, copy.uuid);
    return copyView(copy);
  }

  async discardClone(path: string): Promise<CopyView> {
    return copyView(await this.d.receiver.discard(path));
  }

  restore(body: RestoreBody): Promise<RestoreView> {
    return this.d.restores.start(body);
  }

  getRestore(id: string): Promise<RestoreView> {
    return Promise.resolve(this.d.restores.get(id));
  }

  #peerIdOrRaw(idOrName: string): string {
    return this.d.store.peers.find(idOrName)?.id ?? idOrName;
  }
}

/** The status, time range and page cursor of a trail query, as the store takes them. */
function trailRange(query: TrailQuery): TrailListOptions {
  return {
    ...(query.status ? { status: query.status } : {}),
    ...(query.since ? { since: query.since } : {}),
    ...(query.until ? { until: query.until } : {}),
    ...(query.before ? { before: query.before } : {}),
  };
}

function copyView(copy: WritableCopy): CopyView {
  return { path: copy.path, kind: copy.kind, peer: copy.peer, share: copy.share, snapshot: copy.snapshot, createdAt: copy.createdAt };
}
