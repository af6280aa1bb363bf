// The Scheduler driven by a fake clock: time moves only when a test says so,
// and every timer fires at exactly its due time.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { FerryError } from '../../src/domain/errors.js';
import type { Schedule } from '../../src/domain/task.js';
import { createLogger } from '../../src/log/logger.js';
import { jitterMs, type SchedulableTask } from '../../src/scheduler/plan.js';
import { Scheduler, type Clock, type DueRun, type SchedulerOptions } from '../../src/scheduler/scheduler.js';

const T0 = Date.parse('2026-01-05T00:00:00.000Z'); // a Monday
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const DAY = 24 * H;
const iso = (ms: number): string => new Date(ms).toISOString();

/** Lets promise callbacks (run endings) happen before time moves on. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Timer {
  readonly at: number;
  readonly fn: () => void;
  /** Made by the scheduler (through Clock), or by a test run that takes time. */
  readonly mine: boolean;
}

class FakeClock implements Clock {
  #now: number;
  #next = 1;
  readonly #timers = new Map<number, Timer>();
  /** How many scheduler timers have fired. */
  wakes = 0;

  constructor(start: number) {
    this.#now = start;
  }
  now(): Date {
    return new Date(this.#now);
  }
  get ms(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn, mine: true });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  /** A run's own wait, kept apart from the scheduler's timers. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#timers.set(this.#next++, { at: this.#now + ms, fn: resolve, mine: false });
    });
  }
  /** Due times of the scheduler's pending timers. */
  schedulerTimers(): number[] {
    return [...this.#timers.values()].filter((t) => t.mine).map((t) => t.at);
  }
  /** Moves time forward by `ms`, firing every timer due on the way at its own time. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (let guard = 0; ; guard++) {
      if (guard > 100_000) throw new Error('timer storm: the scheduler keeps re-arming without time moving');
      let first: [number, Timer] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= target && (first === undefined || entry[1].at < first[1].at)) first = entry;
      if (first === undefined) break;
      this.#timers.delete(first[0]);
      this.#now = Math.max(this.#now, first[1].at);
      if (first[1].mine) this.wakes++;
      first[1].fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }
  /** Moves to an absolute time. */
  async to(ms: number): Promise<void> {
    await this.advance(ms - this.#now);
  }
}

interface Started {
  readonly task: string;
  readonly at: string;
  readonly reason: DueRun['reason'];
  readonly slot: string | null;
  readonly missed: number;
}

interface Options {
  readonly start?: number;
  readonly maxConcurrent?: number;
  readonly jitterMaxMs?: number;
  readonly maxSleepMs?: number;
  /** How long each task's run takes, in fake time (default: ends at once). */
  readonly durations?: Readonly<Record<string, number>>;
  readonly lastSlots?: Readonly<Record<string, number>>;
  readonly onDue?: SchedulerOptions['onDue'];
  readonly storeSet?: (task: string, slot: Date) => void;
}

function harness(options: Options = {}) {
  const clock = new FakeClock(options.start ?? T0);
  const slots = new Map<string, Date>(Object.entries(options.lastSlots ?? {}).map(([k, v]) => [k, new Date(v)]));
  const runs: Started[] = [];
  const active = new Map<string, number>();
  let activeTotal = 0;
  let maxActiveTotal = 0;
  let maxActiveOneTask = 0;
  const logs: { level: string; msg: string; task?: string; error?: string }[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as (typeof logs)[number]) });
  const onDue =
    options.onDue ??
    (async (task: string, run: DueRun): Promise<void> => {
      runs.push({ task, at: iso(clock.ms), reason: run.reason, slot: run.slot === null ? null : iso(run.slot.getTime()), missed: run.missed });
      // A scheduler that re-runs at once without end would never yield to the
      // test: stop it, so the test fails instead of hanging.
      if (runs.length > 1000) void scheduler.stop();
      active.set(task, (active.get(task) ?? 0) + 1);
      activeTotal++;
      maxActiveTotal = Math.max(maxActiveTotal, activeTotal);
      maxActiveOneTask = Math.max(maxActiveOneTask, active.get(task) ?? 0);
      const ms = options.durations?.[task] ?? 0;
      if (ms > 0) await clock.sleep(ms);
      active.set(task, (active.get(task) ?? 1) - 1);
      activeTotal--;
    });
  const scheduler = new Scheduler({
    clock,
    onDue,
    logger,
    maxConcurrent: options.maxConcurrent ?? 4,
    jitterMaxMs: options.jitterMaxMs ?? 0,
    ...(options.maxSleepMs === undefined ? {} : { maxSleepMs: options.maxSleepMs }),
    slots: {
      get: (task) => slots.get(task) ?? null,
      set: options.storeSet ?? ((task, slot) => void slots.set(task, slot)),
    },
  });
  return {
    clock,
    scheduler,
    runs,
    slots,
    logs,
    stored: (task: string): string | null => {
      const s = slots.get(task);
      return s === undefined ? null : iso(s.getTime());
    },
    startTimes: (): string[] => runs.map((r) => `${r.task}@${r.at}`),
    max: () => ({ total: maxActiveTotal, perTask: maxActiveOneTask }),
  };
}

const every = (seconds: number): Schedule => ({ kind: 'every', seconds });
const cron = (expr: string): Schedule => ({ kind: 'cron', expr });
const task = (name: string, schedule: Schedule, extra: Partial<SchedulableTask> = {}): SchedulableTask => ({
  name,
  schedule,
  paused: false,
  createdAt: iso(T0),
  ...extra,
});

describe('Scheduler: on time', () => {
  it('every-N fires on its slot, not a millisecond before', async () => {
    const h = harness();
    h.scheduler.setTasks([task('a', every(60))]);
    h.scheduler.start();
    await h.clock.advance(60 * S - 1);
    expect(h.runs).toEqual([]);
    await h.clock.advance(1);
    expect(h.runs).toEqual([{ task: 'a', at: iso(T0 + 60 * S), reason: 'schedule', slot: iso(T0 + 60 * S), missed: 0 }]);
    expect(h.stored('a')).toBe(iso(T0 + 60 * S));
    await h.clock.advance(60 * S);
    await h.clock.advance(60 * S);
    expect(h.startTimes()).toEqual([`a@${iso(T0 + 60 * S)}`, `a@${iso(T0 + 120 * S)}`, `a@${iso(T0 + 180 * S)}`]);
  });

  it.each<[string, number, string[]]>([
    ['*/15 * * * *', 7 * M, ['2026-01-05T00:15:00.000Z', '2026-01-05T00:30:00.000Z', '2026-01-05T00:45:00.000Z']],
    ['0 2 * * *', 7 * M, ['2026-01-05T02:00:00.000Z', '2026-01-06T02:00:00.000Z']],
    ['30 1 * * 0', 0, ['2026-01-11T01:30:00.000Z']], // Sunday
  ])('cron %s fires on its occurrences, not before', async (expr, offset, expected) => {
    const start = T0 + offset;
    const h = harness({ start });
    h.scheduler.setTasks([task('c', cron(expr), { createdAt: iso(start) })]);
    h.scheduler.start();
    for (const at of expected) {
      await h.clock.to(Date.parse(at) - 1);
      expect(h.runs.map((r) => r.at)).not.toContain(at);
      await h.clock.advance(1);
      expect(h.runs.at(-1)).toEqual({ task: 'c', at, reason: 'schedule', slot: at, missed: 0 });
    }
    expect(h.runs).toHaveLength(expected.length);
  });

  it('does nothing before start(): the constructor and setTasks arm no timer', async () => {
    const h = harness();
    h.scheduler.setTasks([task('a', every(60))]);
    expect(h.clock.schedulerTimers()).toEqual([]);
    await h.clock.advance(DAY);
    expect(h.runs).toEqual([]);
  });

  it('arms one timer per task that can be due, at its next slot, and the recheck; none for a paused or removed task', async () => {
    const h = harness({ maxSleepMs: DAY });
    h.scheduler.setTasks([task('hourly', every(3600)), task('ten', every(600)), task('paused', every(60), { paused: true })]);
    h.scheduler.start();
    const sorted = (): number[] => h.clock.schedulerTimers().sort((a, b) => a - b);
    expect(sorted()).toEqual([T0 + 10 * M, T0 + H, T0 + DAY]);
    expect(h.scheduler.armed.sort()).toEqual(['hourly', 'ten']);
    h.scheduler.setTasks([task('hourly', every(3600))]);
    expect(sorted()).toEqual([T0 + H, T0 + DAY]);
    h.scheduler.setTasks([task('hourly', every(3600), { paused: true })]);
    expect(sorted()).toEqual([T0 + DAY]);
    h.scheduler.setTasks([]);
    expect(sorted()).toEqual([T0 + DAY]);
    // Only the recheck wakes it.
    await h.clock.advance(DAY);
    expect(h.clock.wakes).toBe(1);
    expect(h.runs).toEqual([]);
  });

  it('with the schedule off, arms no task timer and starts nothing; back on, it catches up once; run-now works either way', async () => {
    const h = harness({ maxSleepMs: DAY });
    h.scheduler.setTasks([task('ten', every(600))]);
    h.scheduler.start();
    h.scheduler.setScheduleEnabled(false);
    expect(h.scheduler.armed).toEqual([]);
    await h.clock.advance(H + 5 * M);
    expect(h.runs).toEqual([]);
    h.scheduler.setScheduleEnabled(true);
    expect(h.scheduler.armed).toEqual(['ten']);
    await h.clock.advance(1);
    h.scheduler.setScheduleEnabled(false);
    expect(h.scheduler.runNow('ten')).toBe('started');
    await h.clock.advance(1);
    expect(h.runs).toEqual([
      { task: 'ten', at: iso(T0 + H + 5 * M), reason: 'schedule', slot: iso(T0 + H), missed: 5 },
      { task: 'ten', at: iso(T0 + H + 5 * M + 1), reason: 'run-now', slot: null, missed: 0 },
    ]);
  });

  it('quiet when idle: wakes only when a task is due, or once per maxSleepMs', async () => {
    const long = harness({ maxSleepMs: DAY });
    long.scheduler.setTasks([task('hourly', every(3600))]);
    long.scheduler.start();
    await long.clock.advance(3 * H);
    expect(long.clock.wakes).toBe(3);
    expect(long.runs).toHaveLength(3);

    const capped = harness(); // default cap: 15 minutes
    capped.scheduler.setTasks([task('daily', every(86_400))]);
    capped.scheduler.start();
    await capped.clock.advance(DAY);
    expect(capped.clock.wakes).toBe(96);
    expect(capped.runs).toHaveLength(1);
  });

  it('adds the task jitter to each slot, records the slot itself', async () => {
    const h = harness({ jitterMaxMs: 30 * S });
    const ja = jitterMs('alpha', 30 * S);
    const jb = jitterMs('bravo', 30 * S);
    expect(ja).toBeGreaterThan(0);
    expect(ja).not.toBe(jb);
    h.scheduler.setTasks([task('alpha', every(3600)), task('bravo', every(3600))]);
    h.scheduler.start();
    await h.clock.to(T0 + H + ja - 1);
    expect(h.runs.filter((r) => r.task === 'alpha')).toEqual([]);
    await h.clock.advance(1);
    expect(h.runs.find((r) => r.task === 'alpha')).toEqual({ task: 'alpha', at: iso(T0 + H + ja), reason: 'schedule', slot: iso(T0 + H), missed: 0 });
    await h.clock.to(T0 + H + 30 * S);
    expect(h.runs.find((r) => r.task === 'bravo')?.at).toBe(iso(T0 + H + jb));
    expect(h.stored('alpha')).toBe(iso(T0 + H));
    await h.clock.to(T0 + 2 * H + 30 * S);
    expect(h.runs.filter((r) => r.task === 'alpha').map((r) => r.at)).toEqual([iso(T0 + H + ja), iso(T0 + 2 * H + ja)]);
  });
});

describe('Scheduler: pause and resume', () => {
  it('a paused task never starts from the schedule; resuming runs it once, then on its grid', async () => {
    const h = harness();
    h.scheduler.setTasks([task('a', every(60))]);
    h.scheduler.start();
    await h.clock.advance(60 * S);
    expect(h.runs).toHaveLength(1);
    h.scheduler.setTasks([task('a', every(60), { paused: true })]);
    await h.clock.advance(9 * M + 30 * S); // now T0 + 10m30s: slots 2m..10m passed
    expect(h.runs).toHaveLength(1);
    h.scheduler.setTasks([task('a', every(60))]);
    await h.clock.advance(0);
    expect(h.runs).toHaveLength(2);
    expect(h.runs[1]).toEqual({ task: 'a', at: iso(T0 + 10 * M + 30 * S), reason: 'schedule', slot: iso(T0 + 10 * M), missed: 8 });
    await h.clock.to(T0 + 11 * M - 1);
    expect(h.runs).toHaveLength(2);
    await h.clock.advance(1);
    expect(h.runs.at(-1)?.at).toBe(iso(T0 + 11 * M));
  });

  it('a task paused while waiting for a free place does not start', async () => {
    const h = harness({ maxConcurrent: 1, durations: { long: 10 * M } });
    h.scheduler.setTasks([task('long', every(60)), task('b', every(120))]);
    h.scheduler.start();
    await h.clock.to(T0 + 2 * M);
    expect(h.scheduler.isQueued('b')).toBe(true);
    h.scheduler.setTasks([task('long', every(60)), task('b', every(120), { paused: true })]);
    expect(h.scheduler.isQueued('b')).toBe(false);
    await h.clock.to(T0 + 30 * M);
    expect(h.runs.filter((r) => r.task === 'b')).toEqual([]);
  });
});

describe('Scheduler: one run per task, and the global limit', () => {
  it('no overlap: a run that outlasts its interval is followed by one run, not one per missed slot', async () => {
    const h = harness({ durations: { a: 150 * S } });
    h.scheduler.setTasks([task('a', every(60))]);
    h.scheduler.start();
    await h.clock.advance(90 * S);
    expect(h.scheduler.isRunning('a')).toBe(true);
    expect(h.scheduler.runNow('a')).toBe('busy');
    await h.clock.to(T0 + 6 * M);
    expect(h.runs).toEqual([
      { task: 'a', at: iso(T0 + 60 * S), reason: 'schedule', slot: iso(T0 + 60 * S), missed: 0 },
      { task: 'a', at: iso(T0 + 210 * S), reason: 'schedule', slot: iso(T0 + 180 * S), missed: 1 },
      { task: 'a', at: iso(T0 + 360 * S), reason: 'schedule', slot: iso(T0 + 360 * S), missed: 2 },
    ]);
    expect(h.max().perTask).toBe(1);
  });

  it('never runs more than maxConcurrent at once; the rest start as others end', async () => {
    const h = harness({ maxConcurrent: 2, durations: { x: 30 * S, y: 45 * S, z: 10 * S } });
    h.scheduler.setTasks([task('x', every(3600)), task('y', every(3600)), task('z', every(3600))]);
    h.scheduler.start();
    await h.clock.to(T0 + H);
    expect(h.startTimes()).toEqual([`x@${iso(T0 + H)}`, `y@${iso(T0 + H)}`]);
    expect(h.scheduler.isQueued('z')).toBe(true);
    expect(h.scheduler.isRunning('z')).toBe(false);
    await h.clock.to(T0 + H + 29 * S);
    expect(h.runs).toHaveLength(2);
    await h.clock.advance(S);
    expect(h.startTimes()).toEqual([`x@${iso(T0 + H)}`, `y@${iso(T0 + H)}`, `z@${iso(T0 + H + 30 * S)}`]);
    // z still stands for its 01:00 slot
    expect(h.runs[2]?.slot).toBe(iso(T0 + H));
    await h.clock.to(T0 + 2 * H);
    expect(h.max().total).toBe(2);
  });

  it('waiting runs start in the order their tasks became ready', async () => {
    const h = harness({ maxConcurrent: 1, durations: { a: 100 * S, b: 10 * S, c: 10 * S } });
    // listed c, b, a: the order of setTasks must not matter
    h.scheduler.setTasks([task('c', every(80)), task('b', every(70)), task('a', every(60))]);
    h.scheduler.start();
    await h.clock.to(T0 + 165 * S);
    expect(h.startTimes()).toEqual([`a@${iso(T0 + 60 * S)}`, `b@${iso(T0 + 160 * S)}`]);
    await h.clock.to(T0 + 200 * S);
    expect(h.startTimes().slice(0, 4)).toEqual([
      `a@${iso(T0 + 60 * S)}`,
      `b@${iso(T0 + 160 * S)}`,
      `c@${iso(T0 + 170 * S)}`,
      `a@${iso(T0 + 180 * S)}`,
    ]);
    // b waited from 70 s to 160 s: it stands for the newest slot (140 s) and absorbed 70 s
    expect(h.runs[1]).toMatchObject({ slot: iso(T0 + 140 * S), missed: 1 });
    expect(h.max().total).toBe(1);
  });
});

describe('Scheduler: after downtime', () => {
  it('several overdue tasks at start queue by their overdue slot, oldest first', async () => {
    const h = harness({ start: T0 + 10 * M, maxConcurrent: 1, durations: { a: S, b: S, c: S } });
    // listed c, b, a; overdue since 80 s, 70 s and 60 s
    h.scheduler.setTasks([task('c', every(80)), task('b', every(70)), task('a', every(60))]);
    h.scheduler.start();
    await h.clock.advance(3 * S);
    expect(h.runs.map((r) => r.task)).toEqual(['a', 'b', 'c']);
  });


  it('runs a task once at start when its slots passed while the daemon was down', async () => {
    const h = harness({ start: T0 + 10 * DAY + 30 * M, lastSlots: { a: T0 } });
    h.scheduler.setTasks([task('a', every(3600), { createdAt: iso(T0 - DAY) })]);
    h.scheduler.start();
    await h.clock.advance(0);
    expect(h.runs).toEqual([{ task: 'a', at: iso(T0 + 10 * DAY + 30 * M), reason: 'schedule', slot: iso(T0 + 10 * DAY), missed: 239 }]);
    await h.clock.advance(30 * M - 1);
    expect(h.runs).toHaveLength(1);
    await h.clock.advance(1);
    expect(h.runs.at(-1)?.at).toBe(iso(T0 + 10 * DAY + H));
  });

  it('cron: one catch-up run, then the next occurrence', async () => {
    const now = Date.parse('2026-01-10T12:00:00.000Z');
    const h = harness({ start: now, lastSlots: { nightly: Date.parse('2026-01-01T02:00:00.000Z') } });
    h.scheduler.setTasks([task('nightly', cron('0 2 * * *'), { createdAt: '2025-12-01T00:00:00.000Z' })]);
    h.scheduler.start();
    await h.clock.to(Date.parse('2026-01-11T01:59:59.999Z'));
    expect(h.runs).toEqual([{ task: 'nightly', at: iso(now), reason: 'schedule', slot: '2026-01-10T02:00:00.000Z', missed: 8 }]);
    await h.clock.advance(1);
    expect(h.runs.at(-1)?.at).toBe('2026-01-11T02:00:00.000Z');
  });

  it('a task that never ran and was created long ago runs once', async () => {
    const h = harness({ start: T0 + 3 * DAY + 5 * M });
    h.scheduler.setTasks([task('a', every(86_400))]);
    h.scheduler.start();
    await h.clock.advance(DAY - 10 * M);
    expect(h.runs).toEqual([{ task: 'a', at: iso(T0 + 3 * DAY + 5 * M), reason: 'schedule', slot: iso(T0 + 3 * DAY), missed: 2 }]);
  });

  it('a task whose next slot has not come does not run at start', async () => {
    const h = harness({ start: T0 + 90 * M, lastSlots: { a: T0 + H } });
    h.scheduler.setTasks([task('a', every(3600))]);
    h.scheduler.start();
    await h.clock.advance(30 * M - 1);
    expect(h.runs).toEqual([]);
    await h.clock.advance(1);
    expect(h.runs).toHaveLength(1);
  });

  it('a run cut short by stop() is not recorded, so it runs once at the next start', async () => {
    const h = harness({ durations: { a: 10 * M } });
    h.scheduler.setTasks([task('a', every(3600))]);
    h.scheduler.start();
    await h.clock.to(T0 + H + M);
    expect(h.scheduler.isRunning('a')).toBe(true);
    await h.scheduler.stop();
    await h.clock.to(T0 + H + 20 * M);
    expect(h.scheduler.isRunning('a')).toBe(false);
    expect(h.stored('a')).toBeNull();
    h.scheduler.start();
    await h.clock.advance(0);
    expect(h.runs.map((r) => [r.at, r.slot])).toEqual([
      [iso(T0 + H), iso(T0 + H)],
      [iso(T0 + H + 20 * M), iso(T0 + H)],
    ]);
  });

  it('a last slot in the future (the clock went back) runs once now instead of stalling', async () => {
    const h = harness({ start: T0 + 90 * M, lastSlots: { a: T0 + 30 * DAY } });
    h.scheduler.setTasks([task('a', every(3600))]);
    h.scheduler.start();
    await h.clock.advance(0);
    expect(h.runs).toEqual([{ task: 'a', at: iso(T0 + 90 * M), reason: 'schedule', slot: iso(T0 + H), missed: 0 }]);
    await h.clock.to(T0 + 2 * H);
    expect(h.runs.map((r) => r.at)).toEqual([iso(T0 + 90 * M), iso(T0 + 2 * H)]);
  });
});

describe('Scheduler: run now', () => {
  it('starts at once, also for a paused task, without moving the schedule', async () => {
    const h = harness({ durations: { a: 10 * S } });
    h.scheduler.setTasks([task('a', every(60)), task('p', every(60), { paused: true })]);
    h.scheduler.start();
    await h.clock.advance(30 * S);
    expect(h.scheduler.runNow('a')).toBe('started');
    expect(h.scheduler.isRunning('a')).toBe(true);
    expect(h.scheduler.runNow('a')).toBe('busy');
    expect(h.scheduler.runNow('p')).toBe('started');
    await h.clock.advance(10 * S);
    expect(h.scheduler.isRunning('a')).toBe(false);
    // a run-now stands for no slot: nothing stored, and the 60 s slot still runs on time
    expect(h.stored('a')).toBeNull();
    expect(h.stored('p')).toBeNull();
    await h.clock.to(T0 + 60 * S);
    expect(h.runs).toEqual([
      { task: 'a', at: iso(T0 + 30 * S), reason: 'run-now', slot: null, missed: 0 },
      { task: 'p', at: iso(T0 + 30 * S), reason: 'run-now', slot: null, missed: 0 },
      { task: 'a', at: iso(T0 + 60 * S), reason: 'schedule', slot: iso(T0 + 60 * S), missed: 0 },
    ]);
  });

  it('waits for a free place under the global limit', async () => {
    const h = harness({ maxConcurrent: 1, durations: { long: 5 * M } });
    h.scheduler.setTasks([task('long', every(3600)), task('b', every(3600), { paused: true })]);
    h.scheduler.start();
    expect(h.scheduler.runNow('long')).toBe('started');
    expect(h.scheduler.runNow('b')).toBe('queued');
    expect(h.scheduler.runNow('b')).toBe('queued');
    await h.clock.advance(5 * M - 1);
    expect(h.runs.map((r) => r.task)).toEqual(['long']);
    await h.clock.advance(1);
    expect(h.startTimes()).toEqual([`long@${iso(T0)}`, `b@${iso(T0 + 5 * M)}`]);
  });

  it('a run-now started while a slot is due stands for that slot: no second run right after', async () => {
    const h = harness({ jitterMaxMs: 30 * S });
    const j = jitterMs('a', 6 * S); // a tenth of the 60 s interval caps it
    expect(j).toBeGreaterThan(1);
    h.scheduler.setTasks([task('a', every(60))]);
    h.scheduler.start();
    await h.clock.to(T0 + 60 * S + 1); // slot passed, jitter not yet
    expect(h.runs).toEqual([]);
    expect(h.scheduler.runNow('a')).toBe('started');
    await h.clock.to(T0 + 119 * S);
    expect(h.runs).toEqual([{ task: 'a', at: iso(T0 + 60 * S + 1), reason: 'run-now', slot: iso(T0 + 60 * S), missed: 0 }]);
    expect(h.stored('a')).toBe(iso(T0 + 60 * S));
  });

  it('refuses an unknown task, and any task while stopped', () => {
    const h = harness();
    h.scheduler.setTasks([task('a', every(60))]);
    const notStarted = (() => {
      try {
        h.scheduler.runNow('a');
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(notStarted).toBeInstanceOf(FerryError);
    expect((notStarted as FerryError).code).toBe('INTERNAL');
    h.scheduler.start();
    expect(() => h.scheduler.runNow('nope')).toThrow(/no task "nope"/);
  });
});

describe('Scheduler: stop, changes and failures', () => {
  it('stop() cancels the timer and waiting runs; nothing starts until start()', async () => {
    const h = harness({ maxConcurrent: 1, durations: { a: 10 * M } });
    h.scheduler.setTasks([task('a', every(60)), task('b', every(60))]);
    h.scheduler.start();
    await h.clock.to(T0 + 2 * M);
    expect(h.scheduler.isQueued('b')).toBe(true);
    await h.scheduler.stop();
    expect(h.clock.schedulerTimers()).toEqual([]);
    expect(h.scheduler.isQueued('b')).toBe(false);
    await h.clock.advance(DAY);
    expect(h.runs.map((r) => r.task)).toEqual(['a']);
    expect(h.clock.schedulerTimers()).toEqual([]);
  });

  it('removing a task cancels its slot; adding one arms the timer', async () => {
    const h = harness();
    h.scheduler.setTasks([task('a', every(60))]);
    h.scheduler.start();
    h.scheduler.setTasks([]);
    await h.clock.advance(5 * M);
    expect(h.runs).toEqual([]);
    h.scheduler.setTasks([task('b', every(600), { createdAt: iso(T0 + 5 * M) })]);
    // b's first slot, and the recheck (15 minutes after start by default).
    expect(h.clock.schedulerTimers()).toEqual([T0 + 15 * M, T0 + 15 * M]);
    expect(h.scheduler.armed).toEqual(['b']);
    await h.clock.advance(10 * M);
    expect(h.startTimes()).toEqual([`b@${iso(T0 + 15 * M)}`]);
  });

  it('a failed run is logged and still uses its slot; the next slot runs on time', async () => {
    const attempts: string[] = [];
    const ref: { clock?: FakeClock; scheduler?: Scheduler } = {};
    const h = harness({
      onDue: (name) => {
        attempts.push(iso(ref.clock?.ms ?? 0));
        if (attempts.length > 1000) void ref.scheduler?.stop(); // fail, do not hang
        if (attempts.length === 1) return Promise.reject(new FerryError('PEER_UNREACHABLE', 'peer down'));
        if (attempts.length === 2) throw new Error('thrown, not rejected');
        return Promise.resolve(void name);
      },
    });
    ref.clock = h.clock;
    ref.scheduler = h.scheduler;
    h.scheduler.setTasks([task('a', every(60))]);
    h.scheduler.start();
    await h.clock.to(T0 + 3 * M + 30 * S);
    expect(attempts).toEqual([iso(T0 + M), iso(T0 + 2 * M), iso(T0 + 3 * M)]);
    expect(h.stored('a')).toBe(iso(T0 + 3 * M));
    const failures = h.logs.filter((l) => l.msg === 'run failed');
    expect(failures.map((l) => l.error)).toEqual(['peer down', 'thrown, not rejected']);
  });

  it('a store that cannot write is logged, and the task does not run again at once', async () => {
    const h = harness({
      storeSet: () => {
        throw new Error('disk full');
      },
    });
    h.scheduler.setTasks([task('a', every(60))]);
    h.scheduler.start();
    await h.clock.to(T0 + 119 * S);
    expect(h.runs).toHaveLength(1);
    expect(h.logs.some((l) => l.msg === 'cannot store the last slot of the task' && l.error === 'disk full')).toBe(true);
    await h.clock.advance(S);
    expect(h.runs).toHaveLength(2);
  });

  it('a task with an invalid schedule is logged and skipped; the others run', async () => {
    const h = harness();
    h.scheduler.setTasks([task('bad', cron('0 0 30 2 *')), task('good', every(60))]);
    h.scheduler.start();
    await h.clock.advance(60 * S);
    expect(h.runs.map((r) => r.task)).toEqual(['good']);
    expect(h.logs.find((l) => l.task === 'bad')?.level).toBe('error');
    expect(() => h.scheduler.runNow('bad')).toThrow(/no task "bad"/);
  });

  describe('with the default (system) clock', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    it('fires on time under vitest fake timers', async () => {
      vi.useFakeTimers({ now: T0 });
      const at: number[] = [];
      const scheduler = new Scheduler({
        maxConcurrent: 1,
        jitterMaxMs: 0,
        onDue: () => {
          at.push(Date.now());
          if (at.length > 1000) void scheduler.stop(); // fail, do not hang
          return Promise.resolve();
        },
        slots: { get: () => null, set: () => undefined },
      });
      scheduler.setTasks([task('a', every(60))]);
      scheduler.start();
      await vi.advanceTimersByTimeAsync(60 * S - 1);
      expect(at).toEqual([]);
      await vi.advanceTimersByTimeAsync(60 * S + 1);
      expect(at).toEqual([T0 + 60 * S, T0 + 120 * S]);
      await scheduler.stop();
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  it('refuses a nonsensical limit', () => {
    const make = (maxConcurrent: number) => () =>
      new Scheduler({ maxConcurrent, onDue: () => Promise.resolve(), slots: { get: () => null, set: () => undefined } });
    expect(make(0)).toThrow(FerryError);
    expect(make(1.5)).toThrow(/concurrent run limit/);
    expect(make(1)).not.toThrow();
  });
});
