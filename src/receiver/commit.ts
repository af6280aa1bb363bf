// The commit of a received subvolume: verified (read-only, carrying the
// announced UUID, named as the jail expects), moved out of its jail as a
// snapshot beside the replicas, then renamed into place: the rename is the
// commit point. A replica is then recorded in its chain and retention runs.

import { rename } from 'node:fs/promises';
import path from 'node:path';
import type { Btrfs } from '../btrfs/index.js';
import { FerryError, toFerryError } from '../domain/errors.js';
import { receiverRetention } from '../domain/retention.js';
import type { TransferReceipt } from '../domain/transfer.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/index.js';
import type { ChainBook } from './chains.js';
import { discardIncoming, type Jail } from './jail.js';
import type { PendingTransfer, PendingTransfers } from './pending.js';
import { exists } from './stream-checks.js';

export interface CommitDeps {
  readonly btrfs: Btrfs;
  readonly store: Store;
  readonly chains: ChainBook;
  readonly pending: PendingTransfers;
  readonly logger: Logger;
  readonly clock: () => Date;
}

export async function commit(d: CommitDeps, pending: PendingTransfer, jail: Jail, name: string, bytes: number): Promise<TransferReceipt> {
  const { request, peer, pool } = pending;
  const { staging } = jail;
  if (name !== jail.name) {
    throw new FerryError('RECEIVED_MISMATCH', `btrfs receive created '${name}', expected '${jail.name}'`);
  }
  const info = await d.btrfs.show(staging);
  if (!info.readOnly || info.receivedUuid !== request.snapshotUuid) {
    throw new FerryError(
      'RECEIVED_MISMATCH',
      `received subvolume is ${info.readOnly ? 'read-only' : 'writable'} with received UUID ${info.receivedUuid ?? 'none'}; expected read-only with ${request.snapshotUuid}`,
    );
  }
  const target = path.join(pending.dir, request.snapshot);
  if (await exists(target)) throw new FerryError('ALREADY_EXISTS', `${pending.restore ? 'snapshot' : 'replica'} ${target} exists already`);
  // Out of the jail: a snapshot beside the replicas with the same received UUID (a read-only subvolume cannot change directory).
  const ready = path.join(pending.dir, jail.ready);
  await d.btrfs.rehome({ receivedUuid: info.receivedUuid, generation: info.generation, dir: pending.dir, name: jail.ready });
  const moved = await d.btrfs.show(ready);
  if (!moved.readOnly || moved.receivedUuid !== info.receivedUuid) {
    throw new FerryError('RECEIVED_MISMATCH', `the subvolume moved out of its jail is ${moved.readOnly ? 'read-only' : 'writable'} with received UUID ${moved.receivedUuid ?? 'none'}; expected read-only with ${info.receivedUuid}`);
  }
  await discardJail(d, jail.dir);
  // The commit point: a rename within one directory, atomic.
  await rename(ready, target);
  if (pending.restore) {
    d.logger.info('restored snapshot committed', { restoreId: pending.restore.restoreId, peer, share: request.share, snapshot: target });
    return { attemptId: request.attemptId, snapshot: request.snapshot, receivedUuid: info.receivedUuid, bytes, replicaPath: target, retention: null };
  }
  // Retention reads the chain from the admission's listing: it is told of the new replica rather than asking btrfs again.
  pending.listing?.learn({ ...moved, path: target, name: request.snapshot });
  const chain = d.chains.record(peer, pool.name, request.share, request.shareUuid, {
    name: request.snapshot,
    uuid: moved.uuid,
    receivedUuid: info.receivedUuid,
    parent: request.parent?.name ?? null,
    bytes,
    committedAt: d.clock().toISOString(),
  });
  d.logger.info('replica committed', { attemptId: request.attemptId, peer, share: request.share, replica: target, chain: chain.id });
  const retention = await prune(d, pending);
  return { attemptId: request.attemptId, snapshot: request.snapshot, receivedUuid: info.receivedUuid, bytes, replicaPath: target, retention };
}

/** Deletes a transfer's jail and all in it: a partial subvolume, or what a stream made outside it, must never linger. */
export async function discardJail(d: Pick<CommitDeps, 'btrfs' | 'logger'>, where: string): Promise<void> {
  try {
    await discardIncoming(d.btrfs, where);
  } catch (err) {
    d.logger.error('could not delete what a transfer left', { jail: where, error: String(err) });
  }
}

/** Retention after a commit: the sender's request above the admin's floor. Returns what it did, for both trails. */
async function prune(d: CommitDeps, pending: PendingTransfer): Promise<string | null> {
  const { request, peer, pool } = pending;
  try {
    const held = await d.chains.held(peer, pool, request.share, request.shareUuid, pending.listing ?? undefined);
    if (!held.chain) return null;
    const policy = d.store.policies.effective(pool.name, peer);
    const decision = receiverRetention({ replicas: held.replicas, keep: request.keepRemote, inFlight: d.pending.inFlight(pending.key), floor: policy, now: d.clock() });
    for (const name of decision.remove) {
      await d.chains.remove(held.chain, pool.path, name);
      d.logger.info('replica pruned', { peer, share: request.share, replica: name });
    }
    return decision.summary;
  } catch (err) {
    d.logger.warn('receiver retention failed', { peer, share: request.share, error: String(err) });
    return `retention failed: ${toFerryError(err).message}`;
  }
}
