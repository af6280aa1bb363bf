// Request bodies and query strings of the admin API, validated with zod.
// The CLI and the web UI send these; the daemon answers with the views of
// views.ts.

import { z } from 'zod';
import { useIssueSentences } from '../domain/issue-sentences.js';
import { poolNameSchema, shareNameSchema, taskNameSchema } from '../domain/names.js';
import { maxRetries } from '../domain/task.js';
import { endStatuses } from '../domain/trail.js';

// Every refusal these schemas raise, wherever they run (daemon, CLI, browser), reads as a sentence.
useIssueSentences();

/** An absolute path on this appliance. A NUL can never be in one; refused here rather than by the file system. */
function absolutePath(what: string) {
  return z
    .string()
    .min(1)
    .max(4096)
    .startsWith('/', `${what} must be absolute`)
    .refine((p) => !p.includes('\0'), `${what} must not contain a NUL character`);
}

export const PoolAddBody = z.strictObject({ name: poolNameSchema, path: absolutePath('pool path') });
export type PoolAddBody = z.infer<typeof PoolAddBody>;

/** How long an invite may live: a minute to a week. */
export const INVITE_TTL = { minSeconds: 60, maxSeconds: 7 * 86_400 } as const;

export const InviteBody = z.strictObject({
  ttlSeconds: z.number().int().min(INVITE_TTL.minSeconds).max(INVITE_TTL.maxSeconds).optional(),
  /** A pool of this appliance to grant to whoever accepts the invite. */
  grantPool: poolNameSchema.optional(),
});

export const GrantBody = z.strictObject({ peer: z.string().min(1).max(200) });

/** A change to a pool's policy (or one peer's on it): a number sets, null clears, absent leaves. */
export const PolicyBody = z.strictObject({
  peer: z.string().min(1).max(200).optional(),
  keepAtLeast: z.number().int().min(1).max(10_000).nullable().optional(),
  keepDays: z.number().int().min(1).max(36_500).nullable().optional(),
  quotaBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  maxTransfers: z.number().int().min(1).max(64).nullable().optional(),
});
export type PolicyBody = z.infer<typeof PolicyBody>;
/** What `peer remove` does with the tasks that send to the peer: pause them (default) or remove them. */
export const PeerRemoveQuery = z.strictObject({ tasks: z.enum(['pause', 'remove']).optional() });
export type PeerRemoveQuery = z.infer<typeof PeerRemoveQuery>;
export const AcceptBody = z.strictObject({ invite: z.string().min(1).max(8192) });
export const SetAddressBody = z.strictObject({ address: z.string().min(1).max(300) });

export const TaskAddBody = z.strictObject({
  name: taskNameSchema,
  sharePath: absolutePath('share path'),
  /** The share's name on the receiver (its replica directory); default the share's folder name. */
  shareName: shareNameSchema.optional(),
  peer: z.string().min(1).max(200),
  pool: poolNameSchema,
  every: z.number().int().positive().optional(),
  cron: z.string().min(1).max(200).optional(),
  keepLocal: z.number().int().min(1).max(10000).optional(),
  keepRemote: z.number().int().min(1).max(10000).optional(),
  onDegradedSource: z.enum(['replicate', 'hold']).optional(),
  onDegradedTarget: z.enum(['replicate', 'hold']).optional(),
  /** Attempts after the first within a run, for transient failures. */
  retries: z.number().int().min(0).max(maxRetries).optional(),
  /** The first retry's delay, in milliseconds. */
  retryBackoffMs: z.number().int().min(100).max(3_600_000).optional(),
});
export type TaskAddBody = z.infer<typeof TaskAddBody>;

/** A change to a task: each field given replaces the task's; `every` and `cron` replace the schedule (one of them). */
export const TaskEditBody = TaskAddBody.pick({ every: true, cron: true, keepLocal: true, keepRemote: true, onDegradedSource: true, onDegradedTarget: true, retries: true, retryBackoffMs: true })
  .strict()
  .refine((b) => b.every === undefined || b.cron === undefined, { message: 'give every or cron, not both', path: ['cron'] });
export type TaskEditBody = z.infer<typeof TaskEditBody>;

const isoTime = z.iso.datetime({ offset: true });

export const TrailQuery = z.strictObject({
  task: taskNameSchema.optional(),
  peer: z.string().min(1).max(200).optional(),
  share: shareNameSchema.optional(),
  status: z.enum(['running', ...endStatuses]).optional(),
  /** Attempts started at or after this time. */
  since: isoTime.optional(),
  /** Attempts started before this time. */
  until: isoTime.optional(),
  /** The next page: attempts listed after this one (the last id of the page before). */
  before: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(10000).optional(),
});
export type TrailQuery = z.infer<typeof TrailQuery>;

export const ReplicaQuery = z.strictObject({
  peer: z.string().min(1).max(200).optional(),
  share: shareNameSchema.optional(),
});
export type ReplicaQuery = z.infer<typeof ReplicaQuery>;

/** `replica promote` and `replica clone`: a writable copy of a replica, at `to`. */
export const CopyBody = z.strictObject({
  kind: z.enum(['promote', 'clone']),
  share: shareNameSchema,
  peer: z.string().min(1).max(200),
  pool: poolNameSchema.optional(),
  snapshot: z.string().min(1).max(64).optional(),
  to: absolutePath('target path'),
});
export type CopyBody = z.infer<typeof CopyBody>;

export const DiscardBody = z.strictObject({ path: absolutePath('clone path') });

/** `ferry restore`: a replica this appliance sent, back from the peer holding it, as a writable share at `to`. */
export const RestoreBody = z.strictObject({
  share: shareNameSchema,
  from: z.string().min(1).max(200),
  pool: poolNameSchema.optional(),
  snapshot: z.string().min(1).max(64).optional(),
  to: absolutePath('target path'),
});
export type RestoreBody = z.infer<typeof RestoreBody>;

export const ServiceBody = z.strictObject({ enabled: z.boolean() });

export type { PeerView, RestoreView, RunView, StatusView } from './views.js';
