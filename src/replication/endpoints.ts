// The two ends of a transfer as the replication driver sees them. The driver
// never knows whether the receiver is in this process or across the network:
// tests join a local pair in-process, the daemon joins an HTTP pair.

import type { Readable } from 'node:stream';
import type { HealthFinding } from '../domain/health.js';
import type { LocalSnapshot, Replica } from '../domain/snapshot.js';
import type { Task } from '../domain/task.js';
import type { EndStatus } from '../domain/trail.js';
import type { HoldingsQuery, TransferReceipt, TransferRequest } from '../domain/transfer.js';

/** The sending appliance's side: snapshots of the task's share and `btrfs send`. */
export interface SenderEndpoint {
  /**
   * The task's share subvolume now (SHARE_MISSING when it is gone): its UUID,
   * the identity its replica chain carries, and the identity of what it was
   * made from when it is a writable snapshot (a restored share), else null.
   */
  shareIdentity(task: Task): Promise<{ uuid: string; origin: string | null }>;
  /** Read-only snapshots this task took of its share, oldest first. */
  listSnapshots(task: Task): Promise<LocalSnapshot[]>;
  /** Takes a read-only snapshot of the task's share under the given name. */
  takeSnapshot(task: Task, name: string): Promise<LocalSnapshot>;
  /**
   * The `btrfs send` stream of a snapshot. The stream ends cleanly only after
   * `btrfs send` exited 0; any failure destroys it with an error, so a
   * receiver never mistakes a cut stream for a whole one.
   */
  send(task: Task, snapshot: string, parent: string | null, signal: AbortSignal): Readable;
  /** The bytes `send` with the same arguments will write, from a metadata-only walk; for progress and the receiver's quota. */
  estimate?(task: Task, snapshot: string, parent: string | null, signal: AbortSignal): Promise<number>;
  deleteSnapshots(task: Task, names: readonly string[]): Promise<void>;
  /** Health findings about the pool that holds the task's share. */
  poolHealth?(task: Task): Promise<HealthFinding[]>;
}

/** A finding as the receiver reports it: its role is always 'target', and its code may be one this side does not know. */
export interface TargetFinding {
  readonly severity: HealthFinding['severity'];
  readonly code: string;
  readonly message: string;
}

/** The receiving appliance's side, as reached from the sender. */
export interface ReceiverEndpoint {
  /** The replicas the receiver holds of a share in a pool, oldest first. */
  holdings(request: HoldingsQuery, signal: AbortSignal): Promise<Replica[]>;
  /** Health findings about a pool the receiver granted. */
  poolHealth?(request: { pool: string }, signal: AbortSignal): Promise<readonly TargetFinding[]>;
  /** Checks and reserves a transfer; answers its id. */
  open(request: TransferRequest, signal: AbortSignal): Promise<{ transferId: string }>;
  /** Streams the send stream into the transfer; resolves once the replica is committed. */
  transfer(transferId: string, stream: Readable, signal: AbortSignal): Promise<TransferReceipt>;
  /** Drops an opened transfer that will not stream (its source was refused before any byte); without it the receiver's open expires. */
  drop?(transferId: string, reason: unknown): Promise<void>;
}

/** Where the driver writes the send trail (the store's send trail fits it). */
export interface SendTrailWriter {
  start(entry: {
    id: string;
    /** 'failback' when the parent is a base (a replica the share was promoted from); else a replication. */
    kind?: 'replicate' | 'failback';
    task: string;
    share: string;
    snapshot: string | null;
    parent: string | null;
    mode: 'full' | 'incremental' | null;
    peer: string;
    pool: string;
    reason: string | null;
    findings?: string | null;
    startedAt: string;
  }): void;
  progress(id: string, bytes: number): void;
  /** Finished attempts of a task with the given status, newest first. */
  list(filter: { task: string; status: EndStatus; limit: number }): readonly { id: string; snapshot: string | null }[];
  /** Marks a failed or interrupted attempt succeeded after all (the receiver holds its snapshot). */
  reconcile(id: string, note: string): boolean;
  finish(
    id: string,
    result: {
      status: EndStatus;
      endedAt: string;
      bytes: number;
      errorCode: string | null;
      error: string | null;
      retention?: string | null;
    },
  ): void;
}
