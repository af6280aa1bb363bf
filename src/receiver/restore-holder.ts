// The holder's side of a restore: a peer asks for its own share back from
// the replicas held here. Which pool holds them, what to send (planned under
// the chain's lock, so no transfer of that share adds, prunes or replaces a
// replica until the send ends), and, right before the send, a check that each
// path is still the subvolume planned.

import path from 'node:path';
import type { Btrfs } from '../btrfs/index.js';
import { FerryError } from '../domain/errors.js';
import type { RestoreQuery } from '../domain/transfer.js';
import type { Pool, Store } from '../store/index.js';
import type { KeyedLock } from '../util/lock.js';
import type { ChainBook } from './chains.js';
import { replicaDir } from './paths.js';
import { planRestore, type RestoreSource } from './restores.js';
import { linkOnPath, shareKey } from './stream-checks.js';
import { validatePeerId, validateShareName } from './validate.js';

export class RestoreHolder {
  readonly #btrfs: Btrfs;
  readonly #store: Store;
  readonly #chains: ChainBook;
  /** The receiver's chain locks: a restore sent from a chain and the transfers into it take turns. */
  readonly #shares: KeyedLock;

  constructor(btrfs: Btrfs, store: Store, chains: ChainBook, shares: KeyedLock) {
    this.#btrfs = btrfs;
    this.#store = store;
    this.#chains = chains;
    this.#shares = shares;
  }

  /**
   * On the holder: what to send back for a restore the peer asks of its own
   * chain (see ./restores.ts). When it sends, the chain's lock is held from
   * this plan until `release` (the end of the send): no transfer of that share
   * may add, prune or replace a replica meanwhile.
   */
  async plan(peer: string, query: RestoreQuery): Promise<RestoreSource & { readonly release: () => void }> {
    validatePeerId(peer);
    validateShareName(query.share);
    // No grant is needed: the replicas are the peer's own data, even where its admin has since revoked the pool.
    const pool = this.#pool(peer, query);
    const release = this.#shares.tryAcquire(shareKey(peer, pool, query.share));
    if (!release) throw new FerryError('SHARE_BUSY', `a transfer of share '${query.share}' from you is under way here: restore once it ends`);
    try {
      const held = await this.#chains.held(peer, pool, query.share, null);
      const source = planRestore({ ...query, pool: pool.name }, held.replicas, replicaDir(pool.path, peer, query.share), held.chain?.sourceUuid ?? '');
      if (!source.plan.sending) release();
      return { ...source, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** The pool a restore asks for, or else the one pool holding the peer's share (an asker with no task for it does not know which). */
  #pool(peer: string, query: RestoreQuery): Pool {
    if (query.pool !== null) {
      const pool = this.#store.pools.get(query.pool);
      if (!pool) throw new FerryError('NOT_FOUND', `there is no pool '${query.pool}' on this appliance`);
      return pool;
    }
    const pools = [...new Set(this.#store.chains.list({ peer, share: query.share }).map((c) => c.pool))].flatMap((name) => this.#store.pools.get(name) ?? []);
    if (pools.length === 1) return pools[0]!;
    if (pools.length > 1) throw new FerryError('INVALID_INPUT', `replicas of share '${query.share}' from you are in pools ${pools.map((p) => `'${p.name}'`).join(' and ')} here: say which with --pool`);
    const held = [...new Set(this.#store.chains.list({ peer }).map((c) => c.share))].join(', ') || 'none';
    throw new FerryError('NOT_FOUND', `this appliance holds no replica of share '${query.share}' from you; shares of yours held here: ${held}`);
  }

  /**
   * Right before a restore's `btrfs send` (which follows links): each path
   * must still be the planned subvolume, reached through real directories
   * only, with the UUID and received UUID the chain recorded. Otherwise
   * REPLICA_CHANGED, and nothing is sent.
   */
  async check(source: RestoreSource): Promise<void> {
    const checks: [string, string, string][] = [[source.replicaPath, source.replicaUuid, source.plan.snapshotUuid]];
    if (source.parentPath && source.parentUuid && source.plan.parent) checks.push([source.parentPath, source.parentUuid, source.plan.parent.uuid]);
    for (const [where, uuid, receivedUuid] of checks) {
      const link = await linkOnPath(where);
      if (link !== null) throw new FerryError('REPLICA_CHANGED', `${link} is a symbolic link: replica '${path.basename(where)}' is not sent through it`);
      const info = await this.#btrfs.show(where).catch(() => null);
      if (!info || info.uuid !== uuid || info.receivedUuid !== receivedUuid || !info.readOnly) {
        throw new FerryError('REPLICA_CHANGED', `replica '${path.basename(where)}' is no longer the subvolume planned for the restore: nothing was sent`);
      }
    }
  }
}
