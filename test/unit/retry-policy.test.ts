import { describe, expect, it } from 'vitest';
import { defaultRetryPolicy, retryPolicyFor } from '../../src/replication/retry-policy.js';

describe('a task’s retry policy', () => {
  it.each<[string, { retries?: number; retryBackoffMs?: number }, { maxAttempts: number; baseDelayMs: number; maxDelayMs: number }]>([
    ['the default', {}, { maxAttempts: 4, baseDelayMs: 2_000, maxDelayMs: 60_000 }],
    ['no retries', { retries: 0 }, { maxAttempts: 1, baseDelayMs: 2_000, maxDelayMs: 60_000 }],
    ['more retries, faster', { retries: 7, retryBackoffMs: 500 }, { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 60_000 }],
    ['a backoff longer than the cap raises the cap', { retryBackoffMs: 600_000 }, { maxAttempts: 4, baseDelayMs: 600_000, maxDelayMs: 600_000 }],
  ])('%s', (_label, task, policy) => {
    expect(retryPolicyFor(task, defaultRetryPolicy)).toEqual(policy);
  });
});
