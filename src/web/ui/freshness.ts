// Is a task current? Its last success against its schedule: late once the
// last success is older than the schedule's period (TaskView.periodSeconds),
// never succeeded before its first success. The scheduler starts a run up to
// a tenth of the period (30 s at most) after its slot, so that much more is
// allowed before "late": otherwise every task would flash late at each slot.
// A task whose run is under way is still current up to twice its period:
// that run is the one that catches up.

import type { HealthView, TaskView } from '../../api/views.js';

export type Freshness = 'current' | 'late' | 'never' | 'unknown';

export interface TaskFreshness {
  readonly state: Freshness;
  /** Seconds since the last success; null before the first. */
  readonly lagSeconds: number | null;
}

export function taskFreshness(task: TaskView, now: number): TaskFreshness {
  if (task.lastSucceeded === null) return { state: 'never', lagSeconds: null };
  const lag = Math.max(0, (now - Date.parse(task.lastSucceeded)) / 1000);
  if (task.periodSeconds === null) return { state: 'unknown', lagSeconds: lag };
  const jitter = Math.min(30, task.periodSeconds / 10);
  const allowed = (task.running ? 2 * task.periodSeconds : task.periodSeconds) + jitter;
  return { state: lag > allowed ? 'late' : 'current', lagSeconds: lag };
}

export type Severity = 'info' | 'warning' | 'critical';

const rank: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

/** The gravest finding of a health check; null when it found nothing (or never ran). */
export function worstSeverity(health: HealthView | null): Severity | null {
  if (health === null) return null;
  let worst: Severity | null = null;
  for (const f of health.findings) if (worst === null || rank[f.severity] > rank[worst]) worst = f.severity;
  return worst;
}
