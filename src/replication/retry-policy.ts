// How often a run tries again, and how long it waits in between: the
// driver's default, and a task's own settings over it.

import { defaultRetries, defaultRetryBackoffMs, type Task } from '../domain/task.js';

export interface RetryPolicy {
  /** Attempts in one run, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: defaultRetries + 1, baseDelayMs: defaultRetryBackoffMs, maxDelayMs: 60_000 };

/** A task's own retry settings over the driver's default. */
export function retryPolicyFor(task: Pick<Task, 'retries' | 'retryBackoffMs'>, base: RetryPolicy): RetryPolicy {
  const baseDelayMs = task.retryBackoffMs ?? base.baseDelayMs;
  return {
    maxAttempts: task.retries === undefined ? base.maxAttempts : task.retries + 1,
    baseDelayMs,
    maxDelayMs: Math.max(base.maxDelayMs, baseDelayMs),
  };
}
