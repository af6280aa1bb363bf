// When is a task due? Pure functions of (schedule, last slot, creation time,
// now): the Scheduler asks them and owns the timer, and the tests drive them
// with plain dates.
//
// A slot is a moment the schedule names: for `--every N`, the grid
// createdAt + k·N (re-anchored at the last slot a run stood for, so changing N
// keeps the phase of the last run); for `--cron EXPR`, each occurrence of the
// expression in UTC (see cron.ts). A run stands for one slot, and the slot,
// not the time the run started, is what the daemon stores as the task's last
// slot: the grid never drifts with jitter, queueing or run length.
//
// After downtime (or a pause, or a run that outlasted its interval) every slot
// that passed collapses into ONE run, recorded as the newest of them; `missed`
// says how many older slots it absorbed, for the log.

import { FerryError } from '../domain/errors.js';
import type { Schedule } from '../domain/task.js';
import { compileCron } from './cron.js';

export { validateCron } from './cron.js';

/** What the scheduler needs of a task; a domain Task fits as it is. */
export interface SchedulableTask {
  readonly name: string;
  readonly schedule: Schedule;
  readonly paused: boolean;
  /** When the task was added: a Date, or an ISO string as Task holds it. */
  readonly createdAt: Date | string;
}

export interface Due {
  /** True when a slot has passed that no run has stood for yet (never for a paused task). */
  readonly due: boolean;
  /** The slot the run stands for: the newest passed slot. Null when not due. */
  readonly slot: Date | null;
  /** Older passed slots that this one run absorbs (0 when the run is on time). */
  readonly missed: number;
}

/** Cron `missed` counts stop here (every-N counts are exact). */
export const missedCountCap = 10_000;

/** Longest `--every` accepted: 10 years, far beyond any sensible replication interval. */
const maxEverySeconds = 10 * 366 * 86_400;

/** The schedule, when Ferry can run it; otherwise throws INVALID_INPUT with the reason. */
export function validateSchedule(schedule: Schedule): Schedule {
  switch (schedule.kind) {
    case 'every':
      if (!Number.isSafeInteger(schedule.seconds) || schedule.seconds < 1 || schedule.seconds > maxEverySeconds) {
        throw new FerryError(
          'INVALID_INPUT',
          `an --every interval must be a whole number of seconds from 1 to ${maxEverySeconds}, not ${String(schedule.seconds)}`,
        );
      }
      return schedule;
    case 'cron':
      compileCron(schedule.expr);
      return schedule;
  }
}

function toDate(value: Date | string, what: string): Date {
  const d = typeof value === 'string' ? new Date(value) : value;
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new FerryError('INVALID_INPUT', `${what} ${JSON.stringify(String(value))} is not a valid time`);
  }
  return d;
}

/** The slots of a schedule, as a grid around `anchor` (every-N) or the cron calendar. */
interface Slots {
  /** The first slot strictly after t. */
  after(t: Date): Date;
  /** The last slot at or before t (null: none, which only a cron before 1970 can give). */
  atOrBefore(t: Date): Date | null;
  /** Slots in [first, last], both slots, counted up to `cap`. */
  count(first: Date, last: Date, cap: number): number;
}

function slotsOf(schedule: Schedule, anchor: Date): Slots {
  validateSchedule(schedule);
  if (schedule.kind === 'every') {
    const period = schedule.seconds * 1000;
    const a = anchor.getTime();
    return {
      after: (t) => new Date(a + (Math.floor((t.getTime() - a) / period) + 1) * period),
      atOrBefore: (t) => new Date(a + Math.floor((t.getTime() - a) / period) * period),
      count: (first, last) => Math.round((last.getTime() - first.getTime()) / period) + 1,
    };
  }
  const cron = compileCron(schedule.expr);
  return {
    after: (t) => cron.after(t),
    atOrBefore: (t) => cron.atOrBefore(t),
    count: (first, last, cap) => cron.countBetween(new Date(first.getTime() - 1), last, cap),
  };
}

/**
 * Where a task's slots start from: its last slot, unless that is older than
 * the task itself (a stored slot of an earlier task of the same name), then
 * its creation.
 */
function anchorOf(lastSlot: Date | null, createdAt: Date): Date {
  return lastSlot !== null && lastSlot.getTime() >= createdAt.getTime() ? lastSlot : createdAt;
}

/**
 * The first slot strictly after `t`: for every-N on the grid through `anchor`
 * (in either direction), for cron the next occurrence (anchor unused).
 */
export function slotAfter(schedule: Schedule, anchor: Date, t: Date): Date {
  return slotsOf(schedule, anchor).after(t);
}

/**
 * The earliest slot the task has not run for: the first slot after its last
 * slot, or after its creation when it never ran (or the stored last slot is
 * older than the task: it belonged to an earlier task of the same name). A result at or before `now`
 * means the task is overdue (due at once). When the last slot (or creation) lies
 * after `now`, the clock went backwards since (an admin fixed a clock that ran
 * ahead, or a dead RTC booted in the past): rather than wait, perhaps for years,
 * until the clock catches up with a slot it no longer believes in, the task is
 * overdue for the newest slot at or before `now`, so replication never stalls
 * silently; the cost is one extra run.
 */
export function nextDue(schedule: Schedule, lastSlot: Date | null, createdAt: Date, now: Date): Date {
  const anchor = anchorOf(lastSlot, toDate(createdAt, 'task creation time'));
  const slots = slotsOf(schedule, anchor);
  if (anchor.getTime() > now.getTime()) return slots.atOrBefore(now) ?? now;
  return slots.after(anchor);
}

/**
 * Whether the task is due at `now`, for which slot, and how many older slots
 * that one run absorbs. A paused task is never due (run-now is the scheduler's
 * business, not the schedule's).
 */
export function dueNow(task: SchedulableTask, lastSlot: Date | null, now: Date): Due {
  const notDue: Due = { due: false, slot: null, missed: 0 };
  if (task.paused) return notDue;
  const createdAt = toDate(task.createdAt, `task ${JSON.stringify(task.name)} creation time`);
  const pending = nextDue(task.schedule, lastSlot, createdAt, now);
  if (pending.getTime() > now.getTime()) return notDue;
  const slots = slotsOf(task.schedule, anchorOf(lastSlot, createdAt));
  const newest = slots.atOrBefore(now);
  if (newest === null || newest.getTime() < pending.getTime()) return { due: true, slot: pending, missed: 0 };
  const count = slots.count(pending, newest, missedCountCap + 1);
  return { due: true, slot: newest, missed: Math.min(Math.max(count - 1, 0), missedCountCap) };
}

/**
 * A delay in [0, maxMs] that depends only on the task name (a hash), so
 * tasks due at the same moment start spread out, and the same task always gets
 * the same delay (tests and logs stay predictable).
 */
export function jitterMs(taskName: string, maxMs: number): number {
  if (!Number.isFinite(maxMs) || maxMs < 1) return 0;
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(taskName, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // FNV-1a leaves its high bits poorly mixed for names that differ only at
  // the end ("task-1", "task-2"); murmur3's finaliser spreads them.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  h >>>= 0;
  return Math.floor((h / 2 ** 32) * (Math.floor(maxMs) + 1));
}

/**
 * The jitter for a run of `slot`: jitterMs, but at most a tenth of the time to
 * the following slot, so a task due every minute is not pushed most of a
 * minute late while an hourly one may spread over `maxMs`.
 */
export function slotJitterMs(taskName: string, schedule: Schedule, slot: Date, maxMs: number): number {
  const spacing = slotsOf(schedule, slot).after(slot).getTime() - slot.getTime();
  return jitterMs(taskName, Math.min(maxMs, Math.floor(spacing / 10)));
}

/**
 * When the scheduler should start the task: its earliest unrun slot plus that
 * slot's jitter (the jitter of the earliest unrun slot, so later slots passing
 * cannot push it on forever). Null for a paused task. At or before `now`: start it.
 */
export function readyAt(task: SchedulableTask, lastSlot: Date | null, now: Date, jitterMaxMs: number): Date | null {
  if (task.paused) return null;
  const createdAt = toDate(task.createdAt, `task ${JSON.stringify(task.name)} creation time`);
  const pending = nextDue(task.schedule, lastSlot, createdAt, now);
  return new Date(pending.getTime() + slotJitterMs(task.name, task.schedule, pending, jitterMaxMs));
}
