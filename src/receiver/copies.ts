// Writable copies of replicas: `replica promote` (a share to work on, when the
// source is lost), `replica clone` (a test failover, removed again with
// `replica discard`). Each is a writable snapshot of the replica, never the
// replica made writable: that would clear its received UUID and break the
// chain (Rockstor #2902), and replication into the chain goes on undisturbed.
// The copy must sit in the replica's pool (a snapshot cannot cross
// filesystems), outside every peer's directory.

import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Btrfs } from '../btrfs/index.js';
import type { ChainReplica, WritableCopy } from '../domain/chain.js';
import { FerryError, toFerryError } from '../domain/errors.js';
import { isSnapshotName } from '../domain/names.js';
import type { Logger } from '../log/logger.js';
import type { Pool, Store } from '../store/index.js';
import type { ChainBook } from './chains.js';
import { replicaDir } from './paths.js';
import { isPeerDirName } from './staging.js';

export interface CopyRequest {
  readonly kind: 'promote' | 'clone';
  readonly peer: string;
  readonly share: string;
  /** Needed only when the peer sent the share into more than one pool. */
  readonly pool?: string | undefined;
  /** The newest replica when absent. */
  readonly snapshot?: string | undefined;
  readonly to: string;
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

function inside(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

export class CopyMaker {
  constructor(
    private readonly btrfs: Btrfs,
    private readonly store: Store,
    private readonly chains: ChainBook,
    private readonly logger: Logger,
    private readonly clock: () => Date,
  ) {}

  /** The replica a request names, with its pool; NOT_FOUND in one sentence otherwise. */
  async #replica(request: Pick<CopyRequest, 'peer' | 'share' | 'pool' | 'snapshot'>): Promise<{ pool: Pool; replica: ChainReplica }> {
    const chains = this.store.chains.list({ peer: request.peer, share: request.share }).filter((c) => request.pool === undefined || c.pool === request.pool);
    if (chains.length === 0) throw new FerryError('NOT_FOUND', `peer ${request.peer} has sent no share named '${request.share}'${request.pool ? ` into pool '${request.pool}'` : ''} here (see 'ferry replica list')`);
    if (chains.length > 1) throw new FerryError('INVALID_INPUT', `peer ${request.peer} sent '${request.share}' into pools ${chains.map((c) => `'${c.pool}'`).join(' and ')}: say which with --pool`);
    const chain = chains[0]!;
    const pool = this.store.pools.get(chain.pool);
    if (!pool) throw new FerryError('NOT_FOUND', `pool '${chain.pool}' of these replicas is no longer a pool here`);
    const held = await this.chains.held(chain.peer, pool, chain.share, null);
    const names = held.replicas.map((r) => r.name);
    if (request.snapshot !== undefined && !isSnapshotName(request.snapshot)) {
      throw new FerryError('INVALID_NAME', `'${request.snapshot}' is not a snapshot name; replicas of '${request.share}': ${names.join(', ') || 'none'}`);
    }
    const replica = request.snapshot === undefined ? held.replicas.at(-1) : held.replicas.find((r) => r.name === request.snapshot);
    if (!replica) {
      throw new FerryError('NOT_FOUND', request.snapshot === undefined ? `no replica of '${request.share}' is held here` : `no replica '${request.snapshot}' of '${request.share}' is held here; there are: ${names.join(', ') || 'none'}`);
    }
    return { pool, replica };
  }

  /** Where a copy may go: a new path in the replica's pool, outside every peer's directory. */
  async #checkTarget(to: string, pool: Pool): Promise<string> {
    const target = path.resolve(to);
    if (!inside(target, pool.path)) {
      const others = this.store.pools.list().some((p) => inside(target, p.path));
      throw new FerryError(
        'INVALID_INPUT',
        others
          ? `${target} is in another pool than the replica's ('${pool.name}', ${pool.path}): a snapshot cannot leave its filesystem`
          : `${target} is outside every pool of this appliance: a copy of a replica must be inside its pool '${pool.name}' (${pool.path})`,
      );
    }
    const first = path.relative(pool.path, target).split(path.sep)[0] ?? '';
    if (isPeerDirName(first) && (this.store.chains.list({ peer: first }).length > 0 || this.store.peers.get(first))) {
      throw new FerryError('INVALID_INPUT', `${target} is inside the directory of peer ${first}, where its replicas live: choose a path beside it`);
    }
    if (await exists(target)) throw new FerryError('ALREADY_EXISTS', `${target} exists already: choose a path that does not`);
    const parent = await stat(path.dirname(target)).catch(() => null);
    if (!parent?.isDirectory()) throw new FerryError('NOT_FOUND', `${path.dirname(target)} is not a directory`);
    return target;
  }

  async make(request: CopyRequest): Promise<WritableCopy> {
    const { pool, replica } = await this.#replica(request);
    const target = await this.#checkTarget(request.to, pool);
    const source = path.join(replicaDir(pool.path, request.peer, request.share), replica.name);
    const id = randomUUID();
    const startedAt = this.clock().toISOString();
    this.store.receiveTrail.start({ id, kind: request.kind, task: request.share, share: request.share, snapshot: replica.name, parent: null, mode: null, peer: request.peer, pool: pool.name, reason: `to ${target}`, startedAt });
    try {
      await this.btrfs.snapshot(source, target, { readOnly: false });
      const info = await this.btrfs.show(target);
      const copy: WritableCopy = {
        path: target,
        uuid: info.uuid,
        kind: request.kind,
        peer: request.peer,
        pool: pool.name,
        share: request.share,
        snapshot: replica.name,
        basePath: source,
        baseIdentity: replica.receivedUuid,
        createdAt: this.clock().toISOString(),
      };
      this.store.copies.add(copy);
      this.store.receiveTrail.finish(id, { status: 'succeeded', endedAt: this.clock().toISOString(), bytes: 0, errorCode: null, error: null, replicaPath: target });
      this.logger.info(`replica ${request.kind === 'promote' ? 'promoted' : 'cloned'}`, { peer: request.peer, share: request.share, replica: replica.name, to: target });
      return copy;
    } catch (thrown) {
      const err = toFerryError(thrown);
      this.store.receiveTrail.finish(id, { status: 'failed', endedAt: this.clock().toISOString(), bytes: 0, errorCode: err.code, error: err.message, replicaPath: null });
      throw err;
    }
  }

  /** Deletes a test-failover clone, and only that: a promoted share is data an admin works on. */
  async discard(to: string): Promise<WritableCopy> {
    const target = path.resolve(to);
    const copy = this.store.copies.get(target);
    if (!copy) throw new FerryError('NOT_FOUND', `${target} is not a clone made by 'ferry replica clone' (see 'ferry replica list')`);
    if (copy.kind !== 'clone') throw new FerryError('INVALID_INPUT', `${target} is a ${copy.kind === 'promote' ? 'promoted share' : 'restored share'}, not a test clone: delete it yourself if you mean to`);
    if (await this.btrfs.isSubvolume(target)) await this.btrfs.delete(target);
    this.store.copies.remove(target);
    this.logger.info('clone discarded', { path: target });
    return copy;
  }
}
