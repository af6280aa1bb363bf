// A receiving end in memory: the contract of ReceiverEndpoint
// (src/replication/endpoints.ts) without btrfs, sockets or a store, for tests
// of the driver's logic that need no real stream. test/peer/endpoint-
// contract.test.ts runs the same cases against it, the in-process receiver
// and the HTTP one, so what passes here holds there.

import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FerryError } from '../../src/domain/errors.js';
import type { Replica } from '../../src/domain/snapshot.js';
import type { HoldingsQuery, TransferReceipt, TransferRequest } from '../../src/domain/transfer.js';
import type { ReceiverEndpoint } from '../../src/replication/endpoints.js';

export class FakeReceiver implements ReceiverEndpoint {
  /** pool -> share -> replicas, oldest first. */
  readonly #held = new Map<string, Map<string, Replica[]>>();
  readonly #open = new Map<string, TransferRequest>();
  /** Every request made of it, in order: 'holdings', 'open', 'transfer'. */
  readonly calls: string[] = [];
  /** Set to make the next `transfer` calls fail with these errors, one each, after reading the stream. */
  readonly failures: FerryError[] = [];

  constructor(pools: readonly string[]) {
    for (const pool of pools) this.#held.set(pool, new Map());
  }

  #pool(name: string): Map<string, Replica[]> {
    const pool = this.#held.get(name);
    if (!pool) throw new FerryError('POOL_NOT_GRANTED', `there is no pool '${name}' on this appliance`);
    return pool;
  }

  async holdings(query: HoldingsQuery): Promise<Replica[]> {
    this.calls.push('holdings');
    await Promise.resolve();
    return [...(this.#pool(query.pool).get(query.share) ?? [])];
  }

  async open(request: TransferRequest): Promise<{ transferId: string }> {
    this.calls.push('open');
    await Promise.resolve();
    const held = this.#pool(request.pool).get(request.share) ?? [];
    if (held.some((r) => r.name === request.snapshot)) {
      throw new FerryError('ALREADY_EXISTS', `a replica named '${request.snapshot}' of share '${request.share}' exists already`);
    }
    if (request.parent && !held.some((r) => r.name === request.parent?.name && r.receivedUuid === request.parent.uuid)) {
      throw new FerryError('PARENT_MISSING', `parent '${request.parent.name}' is not held here`);
    }
    const transferId = randomUUID();
    this.#open.set(transferId, request);
    return { transferId };
  }

  async transfer(transferId: string, stream: Readable): Promise<TransferReceipt> {
    this.calls.push('transfer');
    const request = this.#open.get(transferId);
    if (!request) throw new FerryError('TRANSFER_NOT_FOUND', `no open transfer '${transferId}' for this peer`);
    this.#open.delete(transferId);
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).length;
    const failure = this.failures.shift();
    if (failure) throw failure;
    const pool = this.#pool(request.pool);
    pool.set(request.share, [...(pool.get(request.share) ?? []), { name: request.snapshot, receivedUuid: request.snapshotUuid }]);
    return { attemptId: request.attemptId, snapshot: request.snapshot, receivedUuid: request.snapshotUuid, bytes, replicaPath: `memory:${request.pool}/${request.share}/${request.snapshot}`, retention: null };
  }

  drop(transferId: string): Promise<void> {
    this.#open.delete(transferId);
    return Promise.resolve();
  }
}
