// How often a run tries again, and how long it waits in between: the
// driver's default, and a task's own settings over it.

import { toFerryError } from '../domain/errors.js';
import { defaultRetries, defaultRetryBackoffMs, type Task } from '../domain/task.js';
import { backoffDelay, sleep } from '../util/backoff.js';

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

/**
 * Runs `attempt` until it succeeds, fails for good (an error that is not
 * transient), is stopped by `signal`, or the policy's attempts are spent,
 * waiting out the backoff in between. A restore's send retries this way; the
 * driver's runs keep their own loop, which also settles each failed attempt.
 */
export async function retrying<T>(policy: RetryPolicy, signal: AbortSignal, attempt: (index: number) => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt(i);
    } catch (err) {
      if (signal.aborted || toFerryError(err).errorClass !== 'transient' || i + 1 >= policy.maxAttempts) throw err;
      await sleep(backoffDelay(i, { baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs }), signal);
    }
  }
}
