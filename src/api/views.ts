// What the admin API answers, as zod schemas: declared once, they type the
// daemon's answers, serialize them (a field the contract lacks never leaves
// the daemon), describe them in the OpenAPI document, and let the CLI check
// what it receives. zod/mini, as the whole contract (routes.ts says why).
//
// Each view is built when it is first used (z.lazy): the daemon uses them
// all, the `ferry` command one or two per call, and building every view at
// each start was an eighth of what `ferry status` costs (npm run bench:cli).
// A view that extends another spreads the other's fields (taskFields,
// peerFields, ...): a lazy schema has no shape until it is built.

import * as z from 'zod/mini';
import { endStatuses, sendModes, trailKinds, type ReceiveTrailEntry, type SendTrailEntry } from '../domain/trail.js';
import { copyKinds, healthSeverities } from '../domain/vocabulary.js';

const timestamp = z.string().check(z.describe('ISO 8601 time, UTC'));

export const ApiErrorBody = z.object({ code: z.string().check(z.describe('a stable code of the error catalogue')), message: z.string().check(z.describe('one sentence for a person')) });
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

export const Severity = z.enum(healthSeverities);

/** A retention floor, quota and cap on transfers at once, as stored: null for not set. */
const policyFields = () => ({
  keepAtLeast: z.nullable(z.int()),
  keepDays: z.nullable(z.int()),
  quotaBytes: z.nullable(z.int()),
  maxTransfers: z.nullable(z.int()),
});
export const PolicyView = z.lazy(() => z.object(policyFields()));
export type PolicyView = z.infer<typeof PolicyView>;

/** A pool's health as the last maintenance check found it. */
export const HealthView = z.lazy(() => z.object({
  checkedAt: timestamp,
  findings: z.array(z.object({ severity: Severity, code: z.string(), message: z.string() })),
  /** The filesystem's size and free space (btrfs' estimate) at the check; null when it could not be read. */
  space: z.nullable(z.object({ sizeBytes: z.number(), freeBytes: z.number() })),
}));
export type HealthView = z.infer<typeof HealthView>;

export const PoolView = z.lazy(() => z.object({
  name: z.string(),
  path: z.string(),
  createdAt: timestamp,
  /** Peers granted (id and name); empty: every paired peer may write, each in its own directory. */
  grants: z.array(z.object({ id: z.string(), name: z.nullable(z.string()) })),
  /** The pool's own floor and quota (the quota applies to each peer). */
  policy: PolicyView,
  /** Per-peer overrides, field by field. */
  peerPolicies: z.array(z.object({ ...policyFields(), peer: z.string(), peerName: z.nullable(z.string()) })),
  /** As the last maintenance check found it; null before the first. */
  health: z.nullable(HealthView),
}));
export type PoolView = z.infer<typeof PoolView>;

const trailEntryFields = () => ({
  id: z.string(),
  kind: z.enum(trailKinds),
  task: z.string(),
  share: z.string(),
  parent: z.nullable(z.string()),
  mode: z.nullable(z.enum(sendModes)),
  status: z.enum(['running', ...endStatuses]),
  startedAt: timestamp,
  endedAt: z.nullable(timestamp),
  bytes: z.int(),
  errorCode: z.nullable(z.string()),
  error: z.nullable(z.string()),
  reason: z.nullable(z.string()),
  findings: z.nullable(z.string()),
  retention: z.nullable(z.string()),
  peer: z.string(),
  pool: z.string(),
});

export const SendTrailEntryView = z.lazy(() => z.object({ ...trailEntryFields(), snapshot: z.nullable(z.string()) })) satisfies z.ZodMiniType<SendTrailEntry>;
export const ReceiveTrailEntryView = z.lazy(() => z.object({ ...trailEntryFields(), snapshot: z.string(), replicaPath: z.nullable(z.string()) })) satisfies z.ZodMiniType<ReceiveTrailEntry>;

const taskFields = () => ({
  name: z.string(),
  share: z.string(),
  sharePath: z.string(),
  peer: z.string(),
  pool: z.string(),
  /** In words: `every 1h` or `cron 0 3 * * *`. */
  schedule: z.string(),
  /** The schedule's fields, as `task add` takes them: one of the two is set. */
  every: z.nullable(z.int()),
  cron: z.nullable(z.string()),
  /** The time between two scheduled runs (for cron, between its next two): a task is late once its last success is older than this. */
  periodSeconds: z.nullable(z.int()),
  /** When the scheduler starts the next run; null while the task is paused or the service is off. */
  nextRunAt: z.nullable(timestamp),
  keepLocal: z.int(),
  keepRemote: z.int(),
  onDegradedSource: z.enum(['replicate', 'hold']),
  onDegradedTarget: z.enum(['replicate', 'hold']),
  /** Attempts after the first within a run (transient failures only), and the first retry's delay. */
  retries: z.int(),
  retryBackoffMs: z.int(),
  paused: z.boolean(),
  running: z.boolean(),
  health: z.object({ state: z.string(), reason: z.nullable(z.string()), consecutiveFailures: z.int() }),
  lastSucceeded: z.nullable(timestamp),
  /** The newest attempt, whatever its status; null before the first. */
  lastAttempt: z.nullable(SendTrailEntryView),
  /** The health of the pool the share lives on, as the last maintenance check found it; null before the first. */
  sourceHealth: z.nullable(HealthView),
});
export const TaskView = z.lazy(() => z.object(taskFields()));
export type TaskView = z.infer<typeof TaskView>;

export const TaskDetailView = z.lazy(() => z.object({ ...taskFields(), recent: z.array(SendTrailEntryView) }));
export type TaskDetailView = z.infer<typeof TaskDetailView>;

/** A writable copy of a replica. */
export const CopyView = z.lazy(() => z.object({
  path: z.string(),
  kind: z.enum(copyKinds),
  peer: z.string(),
  share: z.string(),
  snapshot: z.string(),
  createdAt: timestamp,
}));
export type CopyView = z.infer<typeof CopyView>;

export const ReplicaView = z.lazy(() => z.object({
  peer: z.string(),
  peerName: z.nullable(z.string()),
  pool: z.string(),
  share: z.string(),
  /** The source share's subvolume UUID on the sender: the chain's identity. */
  sourceUuid: z.string(),
  /**
   * Oldest first. `newest` marks the newest replica: from the receiver's side
   * the newest common parent (the sender's next run builds on it, unless it
   * lost that snapshot); `bytes` is the stream that made the replica.
   */
  snapshots: z.array(z.object({ name: z.string(), path: z.string(), receivedUuid: z.string(), committedAt: timestamp, bytes: z.int(), newest: z.boolean() })),
  /** Writable copies made from these replicas (promote, clone). */
  copies: z.array(CopyView),
}));
export type ReplicaView = z.infer<typeof ReplicaView>;

/** A restore, as the CLI follows it. `mode` 'local' when this appliance still held the snapshot and nothing travelled. */
export const RestoreView = z.lazy(() => z.object({
  id: z.string(),
  share: z.string(),
  peer: z.string(),
  pool: z.string(),
  snapshot: z.string(),
  parent: z.nullable(z.string()),
  mode: z.enum([...sendModes, 'local']),
  state: z.enum(['running', 'succeeded', 'failed']),
  bytes: z.int(),
  /** The writable share made from the restored snapshot. */
  path: z.string(),
  startedAt: timestamp,
  endedAt: z.nullable(timestamp),
  errorCode: z.nullable(z.string()),
  error: z.nullable(z.string()),
}));
export type RestoreView = z.infer<typeof RestoreView>;

/** A run, as the CLI polls it: 'queued' while it waits for the concurrency limit. */
export const RunView = z.lazy(() => z.object({
  id: z.string(),
  task: z.string(),
  state: z.enum(['queued', 'running', ...endStatuses]),
  bytes: z.int(),
  /** The bytes the current attempt is expected to send (btrfs send --no-data); null before it is known or when it cannot be. */
  estimatedBytes: z.nullable(z.int()),
  startedAt: timestamp,
  endedAt: z.nullable(timestamp),
  snapshot: z.nullable(z.string()),
  errorCode: z.nullable(z.string()),
  error: z.nullable(z.string()),
}));
export type RunView = z.infer<typeof RunView>;

export const StatusView = z.lazy(() => z.object({
  id: z.string(),
  name: z.string(),
  fingerprint: z.string(),
  listen: z.string(),
  advertise: z.string(),
  admin: z.string(),
  /** Where the web UI answers: on the admin listener when it is loopback, and on the TLS listener for the LAN if one is set. */
  ui: z.object({
    local: z.nullable(z.string()),
    lan: z.nullable(z.string()),
    /** SHA-256 of the LAN listener's certificate, as a browser shows it: compare before trusting it. */
    tlsFingerprint: z.nullable(z.string()),
    /** False until `ferry admin password` set the login password. */
    passwordSet: z.boolean(),
  }),
  service: z.enum(['enabled', 'disabled']),
  transfers: z.array(
    z.object({
      direction: z.enum(['send', 'receive']),
      task: z.optional(z.string()),
      peer: z.string(),
      share: z.string(),
      snapshot: z.string(),
      bytes: z.optional(z.int()),
    }),
  ),
}));
export type StatusView = z.infer<typeof StatusView>;

const peerFields = () => ({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  fingerprint: z.string(),
  pairedAt: timestamp,
  /** Pools of this appliance granted to the peer by name (a pool without grants takes every peer and is not listed). */
  grants: z.array(z.string()),
});
export const PeerView = z.lazy(() => z.object(peerFields()));
export type PeerView = z.infer<typeof PeerView>;

/** A peer removed, and what became of the tasks that sent to it (they could only fail). */
export const PeerRemovedView = z.lazy(() =>
  z.object({
    ...peerFields(),
    tasks: z.array(z.object({ name: z.string(), action: z.enum(['paused', 'removed']) })),
    /** Whether the peer heard of it (and forgot this appliance too, pausing that many of its tasks), or why not. */
    told: z.object({ reached: z.boolean(), tasksPaused: z.int().check(z.nonnegative()), error: z.nullable(z.string()) }),
  }),
);
export type PeerRemovedView = z.infer<typeof PeerRemovedView>;

export const InviteView = z.lazy(() => z.object({ invite: z.string(), expiresAt: timestamp, fingerprint: z.string() }));
export type InviteView = z.infer<typeof InviteView>;

export const AddedTaskView = z.lazy(() => z.object({ task: TaskView, warnings: z.array(z.string()) }));
export type AddedTaskView = z.infer<typeof AddedTaskView>;

export const RemovedView = z.lazy(() => z.object({ removed: z.string() }));

/**
 * One event of GET /api/v1/events (server-sent events, `event: run`): a run
 * changed state or moved bytes. Rate and ETA are measured by the daemon from
 * the first byte of the current attempt; null until they mean something.
 */
export const RunEvent = z.lazy(() => z.object({
  type: z.literal('run'),
  run: RunView,
  rateBytesPerSecond: z.nullable(z.number()),
  etaSeconds: z.nullable(z.number()),
}));
export type RunEvent = z.infer<typeof RunEvent>;
