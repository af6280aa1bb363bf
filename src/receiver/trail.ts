// The receiving side's trail: every open that passed admission starts an
// entry, every end (committed, failed, dropped, superseded) finishes it, and
// a refused open is recorded as failed when its names were valid.

import { describeError, type FerryError } from '../domain/errors.js';
import { endStatusOf } from '../domain/trail.js';
import type { TransferReceipt, TransferRequest } from '../domain/transfer.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/index.js';
import type { RestoreExpectation } from './restores.js';

export class ReceiveTrail {
  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly clock: () => Date,
  ) {}

  start(peer: string, request: TransferRequest, options: { restore?: RestoreExpectation | null; failback?: boolean } = {}): void {
    const restore = options.restore ?? null;
    this.store.receiveTrail.start({
      id: request.attemptId,
      ...(restore ? { kind: 'restore' as const } : options.failback ? { kind: 'failback' as const } : {}),
      task: restore ? restore.task : request.task,
      share: request.share,
      snapshot: request.snapshot,
      parent: request.parent?.name ?? null,
      mode: request.parent ? 'incremental' : 'full',
      peer,
      pool: request.pool,
      reason: restore ? `restore ${restore.restoreId}` : null,
      startedAt: this.clock().toISOString(),
    });
  }

  progress(attemptId: string, bytes: number): void {
    this.store.receiveTrail.progress(attemptId, bytes);
  }

  finish(request: TransferRequest, err: FerryError | null, bytes: number, receipt: TransferReceipt | null): void {
    this.store.receiveTrail.finish(request.attemptId, {
      status: endStatusOf(err?.code ?? null),
      endedAt: this.clock().toISOString(),
      bytes,
      errorCode: err?.code ?? null,
      error: err ? describeError(err) : null,
      replicaPath: receipt?.replicaPath ?? null,
      retention: receipt?.retention ?? null,
    });
  }

  /** A refused open is logged; it lands in the trail too when its names were valid. */
  refuse(peer: string, request: TransferRequest, err: FerryError): void {
    this.logger.warn('transfer refused', { peer, attemptId: request.attemptId, share: request.share, code: err.code, error: err.message });
    try {
      if (this.store.receiveTrail.get(request.attemptId)) return;
      this.start(peer, request);
      this.store.receiveTrail.finish(request.attemptId, { status: 'failed', endedAt: this.clock().toISOString(), bytes: 0, errorCode: err.code, error: describeError(err), replicaPath: null });
    } catch (trailErr) {
      // The refusal stands whether or not the trail could take it.
      this.logger.error('could not record a refused transfer', { peer, attemptId: request.attemptId, error: String(trailErr) });
    }
  }
}
