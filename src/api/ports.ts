// What the admin API needs from the appliance. The daemon implements it; the
// API layer only validates, authenticates and translates to HTTP.

import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import type { PoolAddBody, PeerView, RunView, StatusView, TaskAddBody, TrailQuery } from './schemas.js';

export interface PoolView {
  readonly name: string;
  readonly path: string;
  readonly createdAt: string;
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
  readonly paused: boolean;
  readonly running: boolean;
  readonly health: { readonly state: string; readonly reason: string | null; readonly consecutiveFailures: number };
  readonly lastSucceeded: string | null;
}

export interface ReplicaView {
  readonly peer: string;
  readonly peerName: string | null;
  readonly pool: string;
  readonly share: string;
  readonly snapshots: readonly { name: string; path: string; receivedUuid: string }[];
}

export interface AdminPorts {
  status(): Promise<StatusView>;
  setService(enabled: boolean): Promise<void>;
  addPool(body: PoolAddBody): Promise<PoolView>;
  listPools(): Promise<PoolView[]>;
  removePool(name: string): Promise<void>;
  invite(ttlSeconds: number | undefined): Promise<{ invite: string; expiresAt: string; fingerprint: string }>;
  accept(invite: string): Promise<PeerView>;
  listPeers(): Promise<PeerView[]>;
  removePeer(peer: string): Promise<PeerView>;
  setPeerAddress(peer: string, address: string): Promise<PeerView>;
  addTask(body: TaskAddBody): Promise<{ task: TaskView; warnings: string[] }>;
  listTasks(): Promise<TaskView[]>;
  showTask(name: string): Promise<TaskView & { recent: SendTrailEntry[] }>;
  runTask(name: string): Promise<RunView>;
  getRun(id: string): Promise<RunView>;
  pauseTask(name: string, paused: boolean): Promise<TaskView>;
  removeTask(name: string): Promise<void>;
  sendTrail(query: TrailQuery): Promise<SendTrailEntry[]>;
  receiveTrail(query: TrailQuery): Promise<ReceiveTrailEntry[]>;
  listReplicas(): Promise<ReplicaView[]>;
}
