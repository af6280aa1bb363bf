// The scheduler with its real timers: bree jobs in worker threads, on the real
// clock. An `--every` task and a cron task both start through bree's fires,
// at their slots and never before them. (The rules about what a fire means are
// driven with a fake clock in test/unit/scheduler.test.ts.)

import { afterAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { BreeTimers } from '../../src/scheduler/bree-timers.js';
import { Scheduler, type DueRun } from '../../src/scheduler/scheduler.js';

interface Seen {
  readonly task: string;
  readonly at: number;
  readonly slot: number | null;
}

const fires: Seen[] = [];
const runs: Seen[] = [];
const logs: string[] = [];
const slots = new Map<string, Date>();
let scheduler: Scheduler | undefined;

afterAll(async () => {
  await scheduler?.stop();
});

it('fires an --every task and a cron task through bree, each at its slot and not before', async () => {
  const now = Date.now();
  scheduler = new Scheduler({
    maxConcurrent: 4,
    jitterMaxMs: 0,
    logger: createLogger({ level: 'debug', write: (line) => logs.push(line) }),
    slots: { get: (t) => slots.get(t) ?? null, set: (t, s) => void slots.set(t, s) },
    onDue: (task: string, run: DueRun) => {
      runs.push({ task, at: Date.now(), slot: run.slot?.getTime() ?? null });
      return Promise.resolve();
    },
    timers: (events) =>
      new BreeTimers({
        logger: createLogger({ level: 'debug', write: (line) => logs.push(line) }),
        onRecheck: events.onRecheck,
        onFire: (name) => {
          fires.push({ task: name, at: Date.now(), slot: null });
          events.onFire(name);
        },
      }),
  });
  scheduler.setTasks([
    // Created a moment ago, so its grid is not a round number of the clock.
    { name: 'grid', schedule: { kind: 'every', seconds: 3 }, paused: false, createdAt: new Date(now - 1234).toISOString() },
    { name: 'minutely', schedule: { kind: 'cron', expr: '* * * * *' }, paused: false, createdAt: new Date(now).toISOString() },
  ]);
  scheduler.start();

  const deadline = Date.now() + 75_000;
  while (Date.now() < deadline && !(runs.some((r) => r.task === 'minutely') && runs.filter((r) => r.task === 'grid').length >= 3)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const grid = runs.filter((r) => r.task === 'grid');
  const cron = runs.filter((r) => r.task === 'minutely');
  expect(grid.length).toBeGreaterThanOrEqual(3);
  expect(cron.length).toBeGreaterThanOrEqual(1);

  for (const run of [...grid, ...cron]) {
    // Every run came from a bree fire (its task's, or another task's whose
    // fire found it due too: each fire looks at every task), at or after its slot.
    expect(fires.some((f) => f.at <= run.at)).toBe(true);
    expect(run.slot).not.toBeNull();
    expect(run.at).toBeGreaterThanOrEqual(run.slot ?? Number.POSITIVE_INFINITY);
    // ... and soon after it: bree keeps time, a worker thread starts in milliseconds.
    expect(run.at - (run.slot ?? 0)).toBeLessThan(2_000);
  }
  // The grid's slots: its creation plus whole periods of 3 s, one run each.
  for (const run of grid) expect(((run.slot ?? 0) - (now - 1234)) % 3000).toBe(0);
  expect(new Set(grid.map((r) => r.slot)).size).toBe(grid.length);
  // The cron's slot: a whole minute.
  expect((cron[0]?.slot ?? 1) % 60_000).toBe(0);
}, 90_000);
