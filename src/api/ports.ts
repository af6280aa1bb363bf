// What the admin API needs from the appliance. The daemon implements it; the
// API layer only validates, authenticates and translates to HTTP.

import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import type { CopyBody, RestoreBody, RestoreView, PoolAddBody, PeerView, PolicyBody, ReplicaQuery, RunView, StatusView, TaskAddBody, TrailQuery } from './schemas.js';

/** A retention floor and quota as stored: null for not set. */
export interface PolicyView {
  readonly keepAtLeast: number | null;
  readonly keepDays: number | null;
  readonly quotaBytes: number | null;
}

/** A pool's health as the last maintenance check found it. */
export interface HealthView {
  readonly checkedAt: string;
  readonly findings: readonly { readonly severity: 'info' | 'warning' | 'critical'; readonly code: string; readonly message: string }[];
}

export interface PoolView {
  readonly name: string;
  readonly path: string;
  readonly createdAt: string;
  /** Peers granted (id and name); empty: every paired peer may write, each in its own directory. */
  readonly grants: readonly { readonly id: string; readonly name: string | null }[];
  /** The pool's own floor and quota (the quota applies to each peer). */
  readonly policy: PolicyView;
  /** Per-peer overrides, field by field. */
  readonly peerPolicies: readonly (PolicyView & { readonly peer: string; readonly peerName: string | null })[];
  /** As the last maintenance check found it; null before the first. */
  readonly health: HealthView | null;
}

export interface TaskView {
  readonly name: string;
  readonly share: string;
  readonly sharePath: string;
  readonly peer: string;
  readonly pool: string;
  readonly schedule: string;
  readonly keepLocal: number;
  readonly keepRemote: number;
  readonly onDegradedSource: 'replicate' | 'hold';
  readonly onDegradedTarget: 'replicate' | 'hold';
  /** Attempts after the first within a run (transient failures only), and the first retry's delay. */
  readonly retries: number;
  readonly retryBackoffMs: number;
  readonly paused: boolean;
  readonly running: boolean;
  readonly health: { readonly state: string; readonly reason: string | null; readonly consecutiveFailures: number };
  readonly lastSucceeded: string | null;
  /** The health of the pool the share lives on, as the last maintenance check found it; null before the first. */
  readonly sourceHealth: HealthView | null;
}

export interface ReplicaView {
  readonly peer: string;
  readonly peerName: string | null;
  readonly pool: string;
  readonly share: string;
  /** The source share's subvolume UUID on the sender: the chain's identity. */
  readonly sourceUuid: string;
  /**
   * Oldest first. `newest` marks the newest replica: from the receiver's side
   * the newest common parent (the sender's next run builds on it, unless it
   * lost that snapshot); `bytes` is the stream that made the replica.
   */
  readonly snapshots: readonly { name: string; path: string; receivedUuid: string; committedAt: string; bytes: number; newest: boolean }[];
  /** Writable copies made from these replicas (promote, clone). */
  readonly copies: readonly CopyView[];
}

/** A writable copy of a replica. */
export interface CopyView {
  readonly path: string;
  readonly kind: 'promote' | 'clone' | 'restore';
  readonly peer: string;
  readonly share: string;
  readonly snapshot: string;
  readonly createdAt: string;
}

export interface AdminPorts {
  status(): Promise<StatusView>;
  setService(enabled: boolean): Promise<void>;
  addPool(body: PoolAddBody): Promise<PoolView>;
  listPools(): Promise<PoolView[]>;
  removePool(name: string): Promise<void>;
  grantPool(pool: string, peer: string): Promise<PoolView>;
  revokePool(pool: string, peer: string): Promise<PoolView>;
  setPoolPolicy(pool: string, change: PolicyBody): Promise<PoolView>;
  invite(options: { ttlSeconds?: number | undefined; grantPool?: string | undefined }): Promise<{ invite: string; expiresAt: string; fingerprint: string }>;
  accept(invite: string): Promise<PeerView>;
  listPeers(): Promise<PeerView[]>;
  removePeer(peer: string): Promise<PeerView>;
  setPeerAddress(peer: string, address: string): Promise<PeerView>;
  addTask(body: TaskAddBody): Promise<{ task: TaskView; warnings: string[] }>;
  listTasks(): Promise<TaskView[]>;
  showTask(name: string): Promise<TaskView & { recent: SendTrailEntry[] }>;
  runTask(name: string): Promise<RunView>;
  getRun(id: string): Promise<RunView>;
  /** Cancels the task's queued or running run; answers once it ended (NOT_FOUND when there is none). */
  cancelTask(name: string): Promise<RunView>;
  pauseTask(name: string, paused: boolean): Promise<TaskView>;
  removeTask(name: string): Promise<void>;
  sendTrail(query: TrailQuery): Promise<SendTrailEntry[]>;
  receiveTrail(query: TrailQuery): Promise<ReceiveTrailEntry[]>;
  listReplicas(query: ReplicaQuery): Promise<ReplicaView[]>;
  copyReplica(body: CopyBody): Promise<CopyView>;
  discardClone(path: string): Promise<CopyView>;
  /** Checks everything it can, asks the peer, and answers once the peer has agreed; the transfer goes on after. */
  restore(body: RestoreBody): Promise<RestoreView>;
  getRestore(id: string): Promise<RestoreView>;
}
