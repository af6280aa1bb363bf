// The receiver's record of replica chains (src/domain/chain.ts), checked
// against the disk: a replica counts as held only when the subvolume the
// receiver committed is still there, read-only, under its name and with the
// UUIDs recorded. Subvolumes in a chain's directory that the receiver never
// committed (a leftover, something an admin or another process put there)
// belong to no chain: no sender sees them as a parent, no retention deletes them.

import path from 'node:path';
import type { Btrfs, PoolListing, SubvolumeInfo } from '../btrfs/index.js';
import type { Chain, ChainReplica } from '../domain/chain.js';
import { FerryError } from '../domain/errors.js';
import { isSnapshotName } from '../domain/names.js';
import type { Logger } from '../log/logger.js';
import type { Pool, Store } from '../store/index.js';
import { replicaDir } from './paths.js';

export interface HeldChain {
  readonly chain: Chain | undefined;
  /** Oldest first. */
  readonly replicas: readonly ChainReplica[];
}

export class ChainBook {
  constructor(
    private readonly btrfs: Btrfs,
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly clock: () => Date,
  ) {}

  /**
   * The chain of `<pool>/<peer>/<share>/` and its replicas still on disk as
   * committed; records of replicas deleted by hand are dropped. Given the
   * sender's share UUID, a directory that holds replicas from before chains
   * were recorded is adopted as that share's chain (trust on first use, once).
   * Given a listing of the pool, it reads the replicas from it.
   */
  async held(peer: string, pool: Pool, share: string, shareUuid: string | null, listing?: PoolListing): Promise<HeldChain> {
    const dir = replicaDir(pool.path, peer, share);
    const onDisk = await (listing ? listing.children(dir) : this.btrfs.children(dir));
    const chain = this.store.chains.get(peer, pool.name, share);
    if (!chain) return shareUuid === null ? { chain: undefined, replicas: [] } : this.#adopt(peer, pool.name, share, shareUuid, onDisk);
    const byUuid = new Map(onDisk.map((s) => [s.uuid, s]));
    const held: ChainReplica[] = [];
    for (const r of this.store.chains.replicas(chain.id)) {
      const found = byUuid.get(r.uuid);
      if (found && found.name === r.name && found.readOnly && found.receivedUuid === r.receivedUuid) {
        held.push(r);
        continue;
      }
      this.store.chains.removeReplica(chain.id, r.name);
      this.logger.warn('a recorded replica is gone or changed on disk; it no longer counts', { peer, pool: pool.name, share, replica: r.name });
    }
    return { chain, replicas: held };
  }

  #adopt(peer: string, pool: string, share: string, shareUuid: string, onDisk: readonly SubvolumeInfo[]): HeldChain {
    const legacy = onDisk.filter((s) => s.readOnly && s.receivedUuid !== null && isSnapshotName(s.name));
    if (legacy.length === 0) return { chain: undefined, replicas: [] };
    const now = this.clock().toISOString();
    const adopted = legacy.map((s) => ({ name: s.name, uuid: s.uuid, receivedUuid: s.receivedUuid as string, parent: null, bytes: 0, committedAt: now }));
    const chain = this.store.transaction(() => {
      const created = this.store.chains.create({ peer, pool, share, sourceUuid: shareUuid }, this.clock());
      for (const r of adopted) this.store.chains.addReplica(created.id, r);
      return created;
    });
    this.logger.warn('replicas from before chains were recorded adopted as one chain', { peer, pool, share, sourceUuid: shareUuid, replicas: adopted.length });
    return { chain, replicas: adopted };
  }

  /**
   * Refuses a share that is not the chain's source, unless the chain holds
   * nothing any more, or the share was made from one of the chain's own
   * replicas (`origin`: a share restored or promoted from it), which the chain
   * then follows; or from a snapshot this appliance sent the peer
   * (`originSentHere`: the peer promoted its replica, then sent it back).
   */
  checkSource(held: HeldChain, shareUuid: string, share: string, origin: string | null, originSentHere = false): void {
    const { chain } = held;
    if (!chain || chain.sourceUuid === shareUuid || held.replicas.length === 0) return;
    if (origin !== null && (originSentHere || held.replicas.some((r) => r.receivedUuid === origin))) return;
    throw new FerryError(
      'SHARE_MISMATCH',
      `the replicas of '${share}' here belong to the source subvolume ${chain.sourceUuid}, but this transfer comes from subvolume ${shareUuid}: ` +
        `two different shares are being sent under one name (give one task another name on the receiver with 'ferry task add ... --as NAME'), or the share was recreated`,
    );
  }

  /** Records a committed replica, starting or re-binding the chain as needed. */
  record(peer: string, pool: string, share: string, shareUuid: string, replica: ChainReplica): Chain {
    return this.store.transaction(() => {
      let chain = this.store.chains.get(peer, pool, share);
      if (!chain) chain = this.store.chains.create({ peer, pool, share, sourceUuid: shareUuid }, this.clock());
      else if (chain.sourceUuid !== shareUuid) {
        // An empty chain, or one whose share was restored or promoted from its replica (checkSource refused the rest).
        this.store.chains.rebind(chain.id, shareUuid);
        this.logger.warn('the chain follows another source share from now on', { peer, pool, share, from: chain.sourceUuid, to: shareUuid });
        chain = { ...chain, sourceUuid: shareUuid };
      }
      this.store.chains.addReplica(chain.id, replica);
      return chain;
    });
  }

  /** Deletes one replica of a chain, on disk and in the record. */
  async remove(chain: Chain, poolPath: string, name: string): Promise<void> {
    await this.btrfs.delete(path.join(replicaDir(poolPath, chain.peer, chain.share), name));
    this.store.chains.removeReplica(chain.id, name);
  }
}
