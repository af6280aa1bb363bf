// Request bodies and query strings of the admin API, validated with zod
// (zod/mini, as the whole contract: routes.ts says why). The CLI and the web
// UI send these; the daemon answers with the views of views.ts. Each is built
// when first used, as the views are (views.ts says why).

import * as z from 'zod/mini';
import { useIssueSentences } from '../domain/issue-sentences.js';
import { poolNameSchema, shareNameSchema, taskNameSchema } from '../domain/names.js';
import { maxRetries } from '../domain/task.js';
import { endStatuses } from '../domain/trail.js';

// Every refusal these schemas raise, wherever they run (daemon, CLI, browser), reads as a sentence.
useIssueSentences();

/** An absolute path on this appliance. A NUL can never be in one; refused here rather than by the file system. */
function absolutePath(what: string) {
  return z.string().check(
    z.minLength(1),
    z.maxLength(4096),
    z.startsWith('/', `${what} must be absolute`),
    z.refine((p) => !p.includes('\0'), `${what} must not contain a NUL character`),
  );
}

export const PoolAddBody = z.lazy(() => z.strictObject({ name: poolNameSchema, path: absolutePath('pool path') }));
export type PoolAddBody = z.infer<typeof PoolAddBody>;

/** How long an invite may live: a minute to a week. */
export const INVITE_TTL = { minSeconds: 60, maxSeconds: 7 * 86_400 } as const;

export const InviteBody = z.lazy(() => z.strictObject({
  ttlSeconds: z.optional(z.int().check(z.gte(INVITE_TTL.minSeconds), z.lte(INVITE_TTL.maxSeconds))),
  /** A pool of this appliance to grant to whoever accepts the invite. */
  grantPool: z.optional(poolNameSchema),
}));

export const GrantBody = z.lazy(() => z.strictObject({ peer: z.string().check(z.minLength(1), z.maxLength(200)) }));

/** A change to a pool's policy (or one peer's on it): a number sets, null clears, absent leaves. */
export const PolicyBody = z.lazy(() => z.strictObject({
  peer: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  keepAtLeast: z.optional(z.nullable(z.int().check(z.gte(1), z.lte(10_000)))),
  keepDays: z.optional(z.nullable(z.int().check(z.gte(1), z.lte(36_500)))),
  quotaBytes: z.optional(z.nullable(z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER)))),
  maxTransfers: z.optional(z.nullable(z.int().check(z.gte(1), z.lte(64)))),
}));
export type PolicyBody = z.infer<typeof PolicyBody>;
/** What `peer remove` does with the tasks that send to the peer: pause them (default) or remove them. */
export const PeerRemoveQuery = z.lazy(() => z.strictObject({ tasks: z.optional(z.enum(['pause', 'remove'])) }));
export type PeerRemoveQuery = z.infer<typeof PeerRemoveQuery>;
export const AcceptBody = z.lazy(() => z.strictObject({ invite: z.string().check(z.minLength(1), z.maxLength(8192)) }));
export const SetAddressBody = z.lazy(() => z.strictObject({ address: z.string().check(z.minLength(1), z.maxLength(300)) }));

const taskAddFields = () => ({
  name: taskNameSchema,
  sharePath: absolutePath('share path'),
  /** The share's name on the receiver (its replica directory); default the share's folder name. */
  shareName: z.optional(shareNameSchema),
  peer: z.string().check(z.minLength(1), z.maxLength(200)),
  pool: poolNameSchema,
  every: z.optional(z.int().check(z.positive())),
  cron: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  keepLocal: z.optional(z.int().check(z.gte(1), z.lte(10000))),
  keepRemote: z.optional(z.int().check(z.gte(1), z.lte(10000))),
  onDegradedSource: z.optional(z.enum(['replicate', 'hold'])),
  onDegradedTarget: z.optional(z.enum(['replicate', 'hold'])),
  /** Attempts after the first within a run, for transient failures. */
  retries: z.optional(z.int().check(z.gte(0), z.lte(maxRetries))),
  /** The first retry's delay, in milliseconds. */
  retryBackoffMs: z.optional(z.int().check(z.gte(100), z.lte(3_600_000))),
});
export const TaskAddBody = z.lazy(() => z.strictObject(taskAddFields()));
export type TaskAddBody = z.infer<typeof TaskAddBody>;

/** A change to a task: each field given replaces the task's; `every` and `cron` replace the schedule (one of them). */
export const TaskEditBody = z.lazy(() =>
  z
    .pick(z.strictObject(taskAddFields()), { every: true, cron: true, keepLocal: true, keepRemote: true, onDegradedSource: true, onDegradedTarget: true, retries: true, retryBackoffMs: true })
    .check(z.refine((b) => b.every === undefined || b.cron === undefined, { message: 'give every or cron, not both', path: ['cron'] })),
);
export type TaskEditBody = z.infer<typeof TaskEditBody>;

const isoTime = z.iso.datetime({ offset: true });

export const TrailQuery = z.lazy(() => z.strictObject({
  task: z.optional(taskNameSchema),
  peer: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  share: z.optional(shareNameSchema),
  status: z.optional(z.enum(['running', ...endStatuses])),
  /** Attempts started at or after this time. */
  since: z.optional(isoTime),
  /** Attempts started before this time. */
  until: z.optional(isoTime),
  /** The next page: attempts listed after this one (the last id of the page before). */
  before: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  limit: z.optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(10000))),
}));
export type TrailQuery = z.infer<typeof TrailQuery>;

export const ReplicaQuery = z.lazy(() => z.strictObject({
  peer: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  share: z.optional(shareNameSchema),
}));
export type ReplicaQuery = z.infer<typeof ReplicaQuery>;

/** `replica promote` and `replica clone`: a writable copy of a replica, at `to`. */
export const CopyBody = z.lazy(() => z.strictObject({
  kind: z.enum(['promote', 'clone']),
  share: shareNameSchema,
  peer: z.string().check(z.minLength(1), z.maxLength(200)),
  pool: z.optional(poolNameSchema),
  snapshot: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  to: absolutePath('target path'),
}));
export type CopyBody = z.infer<typeof CopyBody>;

export const DiscardBody = z.lazy(() => z.strictObject({ path: absolutePath('clone path') }));

/** `ferry restore`: a replica this appliance sent, back from the peer holding it, as a writable share at `to`. */
export const RestoreBody = z.lazy(() => z.strictObject({
  share: shareNameSchema,
  from: z.string().check(z.minLength(1), z.maxLength(200)),
  pool: z.optional(poolNameSchema),
  snapshot: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  to: absolutePath('target path'),
}));
export type RestoreBody = z.infer<typeof RestoreBody>;

export const ServiceBody = z.lazy(() => z.strictObject({ enabled: z.boolean() }));

export type { PeerView, RestoreView, RunView, StatusView } from './views.js';
