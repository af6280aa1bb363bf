// What the admin API needs from the appliance. The daemon implements it; the
// API layer only validates, authenticates and translates to HTTP.

import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import type { CopyBody, RestoreBody, PoolAddBody, PolicyBody, ReplicaQuery, TaskAddBody, TaskEditBody, TrailQuery } from './schemas.js';
import type { CopyView, PeerRemovedView, PeerView, PoolView, ReplicaView, RestoreView, RunEvent, RunView, StatusView, TaskView } from './views.js';

export type { CopyView, HealthView, PolicyView, PoolView, ReplicaView, TaskView } from './views.js';

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
  removePeer(peer: string, tasks?: 'pause' | 'remove'): Promise<PeerRemovedView>;
  setPeerAddress(peer: string, address: string): Promise<PeerView>;
  addTask(body: TaskAddBody): Promise<{ task: TaskView; warnings: string[] }>;
  listTasks(): Promise<TaskView[]>;
  /** Changes the fields given; the scheduler follows a new schedule at once. */
  editTask(name: string, change: TaskEditBody): Promise<TaskView>;
  showTask(name: string): Promise<TaskView & { recent: SendTrailEntry[] }>;
  runTask(name: string): Promise<RunView>;
  getRun(id: string): Promise<RunView>;
  /** Cancels the task's queued or running run; answers once it ended (NOT_FOUND when there is none). */
  cancelTask(name: string): Promise<RunView>;
  /** Live events: what a new listener is told first (runs queued or under way), then every change until it unsubscribes. */
  events(listener: (event: RunEvent) => void): { snapshot: RunEvent[]; unsubscribe: () => void };
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
