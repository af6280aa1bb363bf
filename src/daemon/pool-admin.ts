// The admin's side of this appliance as a receiver: pools, who may write into
// them (grants), and what the receiver keeps whatever a sender asks (the
// retention floor) and how much a peer may store there (its quota).

import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { HealthView, PoolView } from '../api/ports.js';
import type { PolicyBody, PoolAddBody } from '../api/schemas.js';
import type { Btrfs } from '../btrfs/index.js';
import { FerryError } from '../domain/errors.js';
import { adminCheck } from '../domain/health.js';
import type { Peer, Store } from '../store/index.js';

export class PoolAdmin {
  constructor(
    private readonly store: Store,
    private readonly btrfs: Btrfs,
    /** A paired peer by id or name; NOT_FOUND otherwise. */
    private readonly peer: (idOrName: string) => Peer,
    /** The pool's health as maintenance last checked it. */
    private readonly health: (pool: string) => HealthView | null = () => null,
  ) {}

  async add(body: PoolAddBody): Promise<PoolView> {
    const resolved = path.resolve(body.path);
    const st = await stat(resolved).catch(() => null);
    if (!st?.isDirectory()) throw new FerryError('NOT_FOUND', `pool path ${resolved} is not a directory`);
    await this.btrfs.freeBytes(resolved).catch((cause: unknown) => {
      throw new FerryError('NOT_BTRFS', `pool path ${resolved} is not on a btrfs filesystem`, { cause });
    });
    if (resolved.split(path.sep).includes('.ferry-snapshots')) {
      throw new FerryError('INVALID_INPUT', `${resolved} is inside a folder of Ferry's own snapshots (.ferry-snapshots); choose a directory of its own for the pool`);
    }
    const real = await realpath(resolved);
    for (const other of this.store.pools.list()) {
      const otherReal = await realpath(other.path).catch(() => other.path);
      if (otherReal === real) throw new FerryError('ALREADY_EXISTS', `pool '${other.name}' is at ${real} already`);
      if (isInside(real, otherReal)) {
        throw new FerryError('INVALID_INPUT', `${real} is inside pool '${other.name}' (${otherReal}), whose peer directories hold replicas: pools must not nest`);
      }
      if (isInside(otherReal, real)) throw new FerryError('INVALID_INPUT', `pool '${other.name}' (${otherReal}) is inside ${real}: pools must not nest`);
    }
    this.store.pools.add({ name: body.name, path: resolved });
    const view = this.view(body.name);
    // Maintenance has not looked yet: the admin sees at once what it would say (a degraded pool, one mounted without nosuid,nodev).
    const health = await this.btrfs.poolHealth(resolved).catch(() => null);
    if (view.health !== null || health === null) return view;
    return { ...view, health: { checkedAt: new Date().toISOString(), ...adminCheck('target', health) } };
  }

  list(): PoolView[] {
    return this.store.pools.list().map((p) => this.view(p.name));
  }

  remove(name: string): void {
    if (!this.store.pools.remove(name)) throw new FerryError('NOT_FOUND', `no pool named '${name}'`);
  }

  grant(pool: string, peer: string): PoolView {
    this.#mustExist(pool);
    this.store.grants.grant(pool, this.peer(peer).id);
    return this.view(pool);
  }

  /** A peer no longer paired can still be revoked by its id. */
  revoke(pool: string, peer: string): PoolView {
    this.#mustExist(pool);
    const id = this.#peerId(peer);
    if (!this.store.grants.revoke(pool, id)) throw new FerryError('NOT_FOUND', `peer ${peer} has no grant on pool '${pool}'`);
    return this.view(pool);
  }

  setPolicy(pool: string, change: PolicyBody): PoolView {
    this.#mustExist(pool);
    const peer = change.peer === undefined ? null : this.peer(change.peer).id;
    this.store.policies.set(pool, peer, {
      ...(change.keepAtLeast === undefined ? {} : { keepAtLeast: change.keepAtLeast }),
      ...(change.keepDays === undefined ? {} : { keepDays: change.keepDays }),
      ...(change.quotaBytes === undefined ? {} : { quotaBytes: change.quotaBytes }),
      ...(change.maxTransfers === undefined ? {} : { maxTransfers: change.maxTransfers }),
    });
    return this.view(pool);
  }

  view(name: string): PoolView {
    const pool = this.#mustExist(name);
    const nameOf = (id: string): string | null => this.store.peers.get(id)?.name ?? null;
    const { keepAtLeast, keepDays, quotaBytes, maxTransfers } = this.store.policies.get(name, null);
    return {
      name: pool.name,
      path: pool.path,
      createdAt: pool.createdAt,
      grants: this.store.grants.peersOf(name).map((id) => ({ id, name: nameOf(id) })),
      policy: { keepAtLeast, keepDays, quotaBytes, maxTransfers },
      peerPolicies: this.store.policies
        .list(name)
        .flatMap((r) => (r.peer === null ? [] : [{ peer: r.peer, peerName: nameOf(r.peer), keepAtLeast: r.keepAtLeast, keepDays: r.keepDays, quotaBytes: r.quotaBytes, maxTransfers: r.maxTransfers }])),
      health: this.health(name),
    };
  }

  #mustExist(name: string): NonNullable<ReturnType<Store['pools']['get']>> {
    const pool = this.store.pools.get(name);
    if (!pool) throw new FerryError('NOT_FOUND', `no pool named '${name}' (see 'ferry pool list')`);
    return pool;
  }

  #peerId(idOrName: string): string {
    try {
      return this.peer(idOrName).id;
    } catch {
      return idOrName;
    }
  }
}

/** Whether `inner` is strictly below `outer`. */
export function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}
