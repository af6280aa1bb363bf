// What the admin API answers, as zod schemas: declared once, they type the
// daemon's answers, serialize them (a field the contract lacks never leaves
// the daemon), describe them in the OpenAPI document, and let the CLI check
// what it receives.

import { z } from 'zod';
import { endStatuses, sendModes, trailKinds, type ReceiveTrailEntry, type SendTrailEntry } from '../domain/trail.js';
import { copyKinds, healthSeverities } from '../domain/vocabulary.js';

const timestamp = z.string().describe('ISO 8601 time, UTC');

export const ApiErrorBody = z.object({ code: z.string().describe('a stable code of the error catalogue'), message: z.string().describe('one sentence for a person') });
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

export const Severity = z.enum(healthSeverities);

/** A retention floor, quota and cap on transfers at once, as stored: null for not set. */
export const PolicyView = z.object({
  keepAtLeast: z.number().int().nullable(),
  keepDays: z.number().int().nullable(),
  quotaBytes: z.number().int().nullable(),
  maxTransfers: z.number().int().nullable(),
});
export type PolicyView = z.infer<typeof PolicyView>;

/** A pool's health as the last maintenance check found it. */
export const HealthView = z.object({
  checkedAt: timestamp,
  findings: z.array(z.object({ severity: Severity, code: z.string(), message: z.string() })),
  /** The filesystem's size and free space (btrfs' estimate) at the check; null when it could not be read. */
  space: z.object({ sizeBytes: z.number(), freeBytes: z.number() }).nullable(),
});
export type HealthView = z.infer<typeof HealthView>;

export const PoolView = z.object({
  name: z.string(),
  path: z.string(),
  createdAt: timestamp,
  /** Peers granted (id and name); empty: every paired peer may write, each in its own directory. */
  grants: z.array(z.object({ id: z.string(), name: z.string().nullable() })),
  /** The pool's own floor and quota (the quota applies to each peer). */
  policy: PolicyView,
  /** Per-peer overrides, field by field. */
  peerPolicies: z.array(PolicyView.extend({ peer: z.string(), peerName: z.string().nullable() })),
  /** As the last maintenance check found it; null before the first. */
  health: HealthView.nullable(),
});
export type PoolView = z.infer<typeof PoolView>;



const trailEntryFields = {
  id: z.string(),
  kind: z.enum(trailKinds),
  task: z.string(),
  share: z.string(),
  parent: z.string().nullable(),
  mode: z.enum(sendModes).nullable(),
  status: z.enum(['running', ...endStatuses]),
  startedAt: timestamp,
  endedAt: timestamp.nullable(),
  bytes: z.number().int(),
  errorCode: z.string().nullable(),
  error: z.string().nullable(),
  reason: z.string().nullable(),
  findings: z.string().nullable(),
  retention: z.string().nullable(),
  peer: z.string(),
  pool: z.string(),
};

export const SendTrailEntryView = z.object({ ...trailEntryFields, snapshot: z.string().nullable() }) satisfies z.ZodType<SendTrailEntry>;
export const ReceiveTrailEntryView = z.object({ ...trailEntryFields, snapshot: z.string(), replicaPath: z.string().nullable() }) satisfies z.ZodType<ReceiveTrailEntry>;

export const TaskView = z.object({
  name: z.string(),
  share: z.string(),
  sharePath: z.string(),
  peer: z.string(),
  pool: z.string(),
  /** In words: `every 1h` or `cron 0 3 * * *`. */
  schedule: z.string(),
  /** The schedule's fields, as `task add` takes them: one of the two is set. */
  every: z.number().int().nullable(),
  cron: z.string().nullable(),
  /** The time between two scheduled runs (for cron, between its next two): a task is late once its last success is older than this. */
  periodSeconds: z.number().int().nullable(),
  /** When the scheduler starts the next run; null while the task is paused or the service is off. */
  nextRunAt: timestamp.nullable(),
  keepLocal: z.number().int(),
  keepRemote: z.number().int(),
  onDegradedSource: z.enum(['replicate', 'hold']),
  onDegradedTarget: z.enum(['replicate', 'hold']),
  /** Attempts after the first within a run (transient failures only), and the first retry's delay. */
  retries: z.number().int(),
  retryBackoffMs: z.number().int(),
  paused: z.boolean(),
  running: z.boolean(),
  health: z.object({ state: z.string(), reason: z.string().nullable(), consecutiveFailures: z.number().int() }),
  lastSucceeded: timestamp.nullable(),
  /** The newest attempt, whatever its status; null before the first. */
  lastAttempt: SendTrailEntryView.nullable(),
  /** The health of the pool the share lives on, as the last maintenance check found it; null before the first. */
  sourceHealth: HealthView.nullable(),
});
export type TaskView = z.infer<typeof TaskView>;

export const TaskDetailView = TaskView.extend({ recent: z.array(SendTrailEntryView) });
export type TaskDetailView = z.infer<typeof TaskDetailView>;

/** A writable copy of a replica. */
export const CopyView = z.object({
  path: z.string(),
  kind: z.enum(copyKinds),
  peer: z.string(),
  share: z.string(),
  snapshot: z.string(),
  createdAt: timestamp,
});
export type CopyView = z.infer<typeof CopyView>;

export const ReplicaView = z.object({
  peer: z.string(),
  peerName: z.string().nullable(),
  pool: z.string(),
  share: z.string(),
  /** The source share's subvolume UUID on the sender: the chain's identity. */
  sourceUuid: z.string(),
  /**
   * Oldest first. `newest` marks the newest replica: from the receiver's side
   * the newest common parent (the sender's next run builds on it, unless it
   * lost that snapshot); `bytes` is the stream that made the replica.
   */
  snapshots: z.array(z.object({ name: z.string(), path: z.string(), receivedUuid: z.string(), committedAt: timestamp, bytes: z.number().int(), newest: z.boolean() })),
  /** Writable copies made from these replicas (promote, clone). */
  copies: z.array(CopyView),
});
export type ReplicaView = z.infer<typeof ReplicaView>;

/** A restore, as the CLI follows it. `mode` 'local' when this appliance still held the snapshot and nothing travelled. */
export const RestoreView = z.object({
  id: z.string(),
  share: z.string(),
  peer: z.string(),
  pool: z.string(),
  snapshot: z.string(),
  parent: z.string().nullable(),
  mode: z.enum([...sendModes, 'local']),
  state: z.enum(['running', 'succeeded', 'failed']),
  bytes: z.number().int(),
  /** The writable share made from the restored snapshot. */
  path: z.string(),
  startedAt: timestamp,
  endedAt: timestamp.nullable(),
  errorCode: z.string().nullable(),
  error: z.string().nullable(),
});
export type RestoreView = z.infer<typeof RestoreView>;

/** A run, as the CLI polls it: 'queued' while it waits for the concurrency limit. */
export const RunView = z.object({
  id: z.string(),
  task: z.string(),
  state: z.enum(['queued', 'running', ...endStatuses]),
  bytes: z.number().int(),
  /** The bytes the current attempt is expected to send (btrfs send --no-data); null before it is known or when it cannot be. */
  estimatedBytes: z.number().int().nullable(),
  startedAt: timestamp,
  endedAt: timestamp.nullable(),
  snapshot: z.string().nullable(),
  errorCode: z.string().nullable(),
  error: z.string().nullable(),
});
export type RunView = z.infer<typeof RunView>;

export const StatusView = z.object({
  id: z.string(),
  name: z.string(),
  fingerprint: z.string(),
  listen: z.string(),
  advertise: z.string(),
  admin: z.string(),
  /** Where the web UI answers: on the admin listener when it is loopback, and on the TLS listener for the LAN if one is set. */
  ui: z.object({
    local: z.string().nullable(),
    lan: z.string().nullable(),
    /** SHA-256 of the LAN listener's certificate, as a browser shows it: compare before trusting it. */
    tlsFingerprint: z.string().nullable(),
    /** False until `ferry admin password` set the login password. */
    passwordSet: z.boolean(),
  }),
  service: z.enum(['enabled', 'disabled']),
  transfers: z.array(
    z.object({
      direction: z.enum(['send', 'receive']),
      task: z.string().optional(),
      peer: z.string(),
      share: z.string(),
      snapshot: z.string(),
      bytes: z.number().int().optional(),
    }),
  ),
});
export type StatusView = z.infer<typeof StatusView>;

export const PeerView = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  fingerprint: z.string(),
  pairedAt: timestamp,
  /** Pools of this appliance granted to the peer by name (a pool without grants takes every peer and is not listed). */
  grants: z.array(z.string()),
});
export type PeerView = z.infer<typeof PeerView>;

/** A peer removed, and what became of the tasks that sent to it (they could only fail). */
export const PeerRemovedView = PeerView.extend({
  tasks: z.array(z.object({ name: z.string(), action: z.enum(['paused', 'removed']) })),
  /** Whether the peer heard of it (and forgot this appliance too, pausing that many of its tasks), or why not. */
  told: z.object({ reached: z.boolean(), tasksPaused: z.number().int().nonnegative(), error: z.string().nullable() }),
});
export type PeerRemovedView = z.infer<typeof PeerRemovedView>;

export const InviteView = z.object({ invite: z.string(), expiresAt: timestamp, fingerprint: z.string() });
export type InviteView = z.infer<typeof InviteView>;

export const AddedTaskView = z.object({ task: TaskView, warnings: z.array(z.string()) });
export type AddedTaskView = z.infer<typeof AddedTaskView>;

export const RemovedView = z.object({ removed: z.string() });

/**
 * One event of GET /api/v1/events (server-sent events, `event: run`): a run
 * changed state or moved bytes. Rate and ETA are measured by the daemon from
 * the first byte of the current attempt; null until they mean something.
 */
export const RunEvent = z.object({
  type: z.literal('run'),
  run: RunView,
  rateBytesPerSecond: z.number().nullable(),
  etaSeconds: z.number().nullable(),
});
export type RunEvent = z.infer<typeof RunEvent>;
