// Task health as the UI and CLI show it, derived from the newest trail
// entries of a task. Pure, with `now` passed in, so that "3 failures, last one
// 2h ago" reads the same in a test as on an appliance.

import type { TrailStatus } from './trail.js';

export type HealthState = 'ok' | 'never-run' | 'running' | 'failing' | 'needs-attention';

export interface TaskHealth {
  readonly state: HealthState;
  /** Why the state is not plain ok; null for ok, never-run, and a first run under way. */
  readonly reason: string | null;
  /** Failed attempts since the last success (running attempts at the head not counted). */
  readonly consecutiveFailures: number;
}

export interface AttemptSummary {
  readonly status: TrailStatus;
  readonly errorCode: string | null;
  readonly error: string | null;
  readonly endedAt: string | null;
}

/** Failed attempts in a row after which a task needs an admin rather than another retry. */
export const attentionThreshold = 3;

/** Coarse age for a human: the largest whole unit only. */
function age(endedAt: string | null, now: Date): string {
  if (endedAt === null) return '';
  const ended = Date.parse(endedAt);
  if (Number.isNaN(ended) || Number.isNaN(now.getTime())) return '';
  const seconds = Math.floor((now.getTime() - ended) / 1000);
  // A clock step can put the attempt in the future; "0s ago" would mislead.
  if (seconds < 0) return ` at ${endedAt}`;
  const units: readonly [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  for (const [unit, size] of units) {
    if (seconds >= size) return ` ${Math.floor(seconds / size)}${unit} ago`;
  }
  return ' just now';
}

function describeFailure(attempt: AttemptSummary, now: Date): string {
  // The stored error is the message, then details such as stderr; the first
  // line is the sentence an admin scans for, the rest is in the trail.
  const message = attempt.error?.split('\n', 1)[0]?.trim() || null;
  const code = attempt.errorCode ?? (attempt.status === 'interrupted' ? 'INTERRUPTED' : null);
  const what = [code, message].filter((part) => part !== null && part !== '').join(': ') || 'no error recorded';
  return `${what} (last attempt${age(attempt.endedAt, now)})`;
}

/**
 * Health of a task from its recent attempts, newest first. Cancelled attempts
 * are passed over (an admin chose them). Interrupted attempts count as failures: a single daemon stop only makes the task 'failing' until
 * the next success, but a daemon that crashes during every transfer must reach
 * 'needs-attention' like any other repeated failure (zrepl #171).
 */
export function taskHealth(recent: readonly AttemptSummary[], now: Date, context: { readonly peerPaired?: boolean } = {}): TaskHealth {
  const health = fromAttempts(recent, now);
  // A task whose peer was unpaired cannot run at all, however its last run went.
  if (context.peerPaired === false) {
    return { state: 'needs-attention', reason: "its peer is no longer paired: pair again, or remove the task", consecutiveFailures: health.consecutiveFailures };
  }
  return health;
}

function fromAttempts(recent: readonly AttemptSummary[], now: Date): TaskHealth {
  if (recent.length === 0) return { state: 'never-run', reason: null, consecutiveFailures: 0 };

  let i = 0;
  while (i < recent.length && recent[i]?.status === 'running') i++;
  const running = i > 0;

  let consecutiveFailures = 0;
  let lastFailure: AttemptSummary | null = null;
  for (; i < recent.length; i++) {
    const attempt = recent[i];
    // Only the head can be running; an older running entry is a leftover of a
    // crash that has not been marked interrupted yet, and it says nothing of success.
    if (attempt === undefined || attempt.status === 'succeeded') break;
    // A cancel is the admin's own doing: neither a failure nor a success.
    if (attempt.status === 'running' || attempt.status === 'cancelled') continue;
    consecutiveFailures++;
    lastFailure ??= attempt;
  }

  const failures = `${consecutiveFailures} failed ${consecutiveFailures === 1 ? 'attempt' : 'attempts'} in a row`;
  // Repeated failure outranks "running": a retry under way after three
  // failures is still something the admin must look at.
  if (lastFailure !== null && consecutiveFailures >= attentionThreshold) {
    const retrying = running ? '; another attempt is running' : '';
    return { state: 'needs-attention', reason: `${failures}: ${describeFailure(lastFailure, now)}${retrying}`, consecutiveFailures };
  }
  if (running) {
    const reason = lastFailure === null ? null : `retrying after ${failures}: ${describeFailure(lastFailure, now)}`;
    return { state: 'running', reason, consecutiveFailures };
  }
  if (lastFailure !== null) {
    return { state: 'failing', reason: `${failures}: ${describeFailure(lastFailure, now)}`, consecutiveFailures };
  }
  return { state: 'ok', reason: null, consecutiveFailures: 0 };
}
