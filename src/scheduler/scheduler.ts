// The scheduler says "task due" to the daemon, which runs the task on the
// main thread. Its timers are bree jobs (bree-timers.ts): one per task on the
// task's own schedule, plus a periodic recheck; tests drive the same contract
// with a fake clock (timers.ts). What a fire means is decided here, in plain
// code over the pure rules of plan.ts, so that catch-up, the concurrency limit
// and the order of waiting runs do not depend on when exactly a timer fired.
//
// Rules:
// - One run per task at a time. A slot that passes while the task runs
//   (scheduled or run now) is not a second run: when the run ends the task
//   runs once more if any slot passed meanwhile, however many did.
// - At most `maxConcurrent` runs at once, run-now ones included; tasks that
//   become ready beyond it wait in FIFO order (by the moment they became
//   ready) and start as others end. A run stands for the newest slot passed
//   when it starts, so slots that pass while it waits are absorbed too.
// - Jitter: each task starts jitterMs(name) after its slot (at most a tenth of
//   the time to its following slot); the slot, not the start, is recorded.
// - Paused tasks never start from the schedule; neither does any task while
//   the schedule is off (the service switch). Resuming a task whose slots
//   passed while it was paused runs it once (like downtime): the replica is
//   stale, and resuming is the admin asking for replication again.
// - runNow works on a paused task too, and with the schedule off: it is an
//   explicit admin action. It respects one-run-per-task and the concurrency
//   limit, and it does not move the schedule: a run-now is not recorded as a
//   slot, unless a slot was due anyway when it started, in which case that
//   one run stands for the slot too.
// - The last slot is stored when a run ends (success or failure: retries
//   belong inside the run, not to the scheduler), never when it starts: a
//   daemon killed mid-run finds the slot unrun at its next start and runs the
//   task once. Runs that end after stop() are not recorded either, for the
//   same reason (they were cut short by the shutdown).
// - After start(), a task whose slot passed while the daemon was down runs
//   once.
// - A recheck every `maxSleepMs` (default 15 minutes) looks at every task
//   and re-arms the `--every` grids: timers follow the monotonic clock, so
//   after the wall clock is stepped (NTP at boot, an admin fixing the time) a
//   slot could otherwise be missed by the size of the step. The check costs
//   microseconds and touches nothing on disk.
//
// Over 300 lines because it is one state machine (armed timers, the waiting
// queue, the runs under way) whose rules above hold only together; its
// contract is contract.ts and its pure rules plan.ts.

import { FerryError, toFerryError } from '../domain/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { dueNow, nextDue, readyAt, slotJitterMs, validateSchedule, type SchedulableTask } from './plan.js';
import type { DueRun, RunNowResult, RunReason, SchedulerOptions, SlotStore } from './contract.js';
import { ClockTimers, maxTimerMs, systemClock, type Clock, type TaskTimers, type TimerEvents, type TimerHandle } from './timers.js';

export { systemClock, type Clock } from './timers.js';

export type { DueRun, RunNowResult, RunReason, SchedulerOptions, SlotStore } from './contract.js';

interface Run {
  readonly name: string;
  reason: RunReason;
  slot: Date | null;
  missed: number;
}

interface Ready {
  readonly slot: Date;
  readonly missed: number;
  readonly readyAt: number;
}

interface Waiting extends Run {
  /** When it became ready, for FIFO order. */
  readonly readyAt: number;
}

/** A fire this much before its task is ready (wall clock and timer disagreeing) is topped up, not dropped. */
const EARLY_FIRE_TOLERANCE_MS = 5_000;

export class Scheduler {
  readonly #onDue: SchedulerOptions['onDue'];
  readonly #store: SlotStore;
  readonly #maxConcurrent: number;
  readonly #jitterMaxMs: number;
  readonly #maxSleepMs: number;
  readonly #clock: Clock;
  readonly #timers: TaskTimers;
  readonly #log: Logger;

  #tasks = new Map<string, SchedulableTask>();
  /** Last slots known in memory: read once from the store, then kept current here. */
  readonly #lastSlots = new Map<string, Date | null>();
  readonly #running = new Map<string, Run>();
  #queue: Waiting[] = [];
  #started = false;
  /** Whether scheduled runs start (the service switch); run-now works either way. */
  #scheduleOn = true;
  /** Tasks armed with their timers, by name: the schedule they were armed with. */
  readonly #armed = new Map<string, string>();
  /** Short timers for fires that came a little before their task was ready. */
  readonly #topUps = new Map<string, TimerHandle>();

  constructor(options: SchedulerOptions) {
    if (!Number.isSafeInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      throw new FerryError('INVALID_INPUT', `the concurrent run limit must be a whole number of at least 1, not ${options.maxConcurrent}`);
    }
    const jitter = options.jitterMaxMs ?? 30_000;
    if (!Number.isFinite(jitter) || jitter < 0) {
      throw new FerryError('INVALID_INPUT', `the jitter limit must be 0 ms or more, not ${jitter}`);
    }
    const sleep = options.maxSleepMs ?? 15 * 60_000;
    if (!Number.isFinite(sleep) || sleep < 1) {
      throw new FerryError('INVALID_INPUT', `the longest sleep must be at least 1 ms, not ${sleep}`);
    }
    this.#onDue = options.onDue;
    this.#store = options.slots;
    this.#maxConcurrent = options.maxConcurrent;
    this.#jitterMaxMs = jitter;
    this.#maxSleepMs = Math.min(sleep, maxTimerMs);
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'scheduler' });
    const events: TimerEvents = { onFire: (name) => this.#onFire(name), onRecheck: () => this.#onRecheck() };
    this.#timers = options.timers ? options.timers(events) : new ClockTimers(this.#clock, events);
  }

  /** Replaces the set of tasks (after add, remove, pause, resume or a schedule change). */
  setTasks(tasks: Iterable<SchedulableTask>): void {
    const next = new Map<string, SchedulableTask>();
    for (const task of tasks) {
      try {
        validateSchedule(task.schedule);
        if (Number.isNaN(new Date(task.createdAt).getTime())) {
          throw new FerryError('INVALID_INPUT', `creation time ${JSON.stringify(String(task.createdAt))} is not a valid time`);
        }
      } catch (err) {
        // One bad row must not stop every other task; it is said once, here.
        this.#log.error('task not scheduled: its schedule is not valid', { task: task.name, error: toFerryError(err).message });
        continue;
      }
      next.set(task.name, task);
    }
    this.#tasks = next;
    for (const name of [...this.#lastSlots.keys()]) if (!next.has(name)) this.#lastSlots.delete(name);
    // Waiting runs of removed tasks go; so do scheduled waiting runs of paused ones.
    this.#queue = this.#queue.filter((w) => {
      const task = next.get(w.name);
      return task !== undefined && (w.reason === 'run-now' || !task.paused);
    });
    this.#arm();
    this.#evaluate();
  }

  /** Looks at every task now, starts what is ready (catch-up after downtime), and arms the timers. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#timers.armRecheck(this.#maxSleepMs);
    this.#arm();
    this.#evaluate();
  }

  /**
   * Turns scheduled runs on or off (the service switch). Off: no timer is
   * armed, waiting scheduled runs are dropped, run-now still works. On: a task
   * whose slot passed meanwhile runs once.
   */
  setScheduleEnabled(on: boolean): void {
    if (this.#scheduleOn === on) return;
    this.#scheduleOn = on;
    if (!on) {
      const dropped = this.#queue.filter((w) => w.reason === 'schedule').map((w) => w.name);
      this.#queue = this.#queue.filter((w) => w.reason === 'run-now');
      if (dropped.length > 0) this.#log.info('schedule off: waiting scheduled runs dropped', { tasks: dropped });
    }
    this.#arm();
    this.#evaluate();
  }

  /**
   * Cancels the timers and drops waiting runs; nothing starts until start().
   * Runs in progress are not waited for (the daemon aborts or finishes them);
   * when they end their slot is not recorded, so they count as missed.
   */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    for (const name of [...this.#armed.keys()]) this.#disarm(name);
    for (const handle of this.#topUps.values()) this.#clock.clearTimeout(handle);
    this.#topUps.clear();
    if (this.#queue.length > 0) this.#log.info('scheduler stopped: waiting runs dropped', { tasks: this.#queue.map((w) => w.name) });
    this.#queue = [];
    await this.#timers.stop();
  }

  /**
   * Starts a run of the task now, paused or not, schedule on or off:
   * 'started'; or, when the concurrency limit is reached, 'queued' (it starts
   * as soon as a run ends, in turn); or 'busy' when a run of the task is
   * already under way. Throws NOT_FOUND for an unknown task, INTERNAL when the
   * scheduler is not started.
   */
  runNow(taskName: string): RunNowResult {
    const task = this.#tasks.get(taskName);
    if (task === undefined) throw new FerryError('NOT_FOUND', `no task ${JSON.stringify(taskName)} is scheduled`);
    if (!this.#started) throw new FerryError('INTERNAL', 'the scheduler is not started');
    if (this.#running.has(taskName)) return 'busy';
    if (this.#isWaiting(taskName)) return 'queued';
    this.#queue.push({ name: taskName, reason: 'run-now', slot: null, missed: 0, readyAt: this.#clock.now().getTime() });
    this.#drain();
    return this.#running.has(taskName) ? 'started' : 'queued';
  }

  /** Whether a run of the task is under way. */
  isRunning(taskName: string): boolean {
    return this.#running.has(taskName);
  }

  /** Whether a run of the task waits for the concurrency limit. */
  isQueued(taskName: string): boolean {
    return this.#isWaiting(taskName);
  }

  /** Names of the tasks whose timers are armed. */
  get armed(): string[] {
    return [...this.#armed.keys()];
  }

  // -------------------------------------------------------------------------

  #isWaiting(name: string): boolean {
    return this.#queue.some((w) => w.name === name);
  }

  #lastSlot(name: string): Date | null {
    if (!this.#lastSlots.has(name)) this.#lastSlots.set(name, this.#store.get(name));
    return this.#lastSlots.get(name) ?? null;
  }

  /** Arms the timers of the tasks that should have one, and only those; a changed schedule is armed anew. */
  #arm(): void {
    const want = this.#started && this.#scheduleOn ? [...this.#tasks.values()].filter((t) => !t.paused) : [];
    const wanted = new Set(want.map((t) => t.name));
    for (const name of [...this.#armed.keys()]) if (!wanted.has(name)) this.#disarm(name);
    for (const task of want) {
      const key = JSON.stringify(task.schedule);
      if (this.#armed.get(task.name) === key) continue;
      this.#armTask(task, key);
    }
  }

  #armTask(task: SchedulableTask, key: string): void {
    try {
      const now = this.#clock.now();
      const last = this.#lastSlot(task.name);
      const created = new Date(task.createdAt);
      // The grid runs through the last slot a run stood for (or the creation), as in plan.ts.
      const anchor = last !== null && last.getTime() >= created.getTime() ? last : created;
      const next = nextDue(task.schedule, last, created, now);
      this.#timers.arm({ name: task.name, schedule: task.schedule, anchor, delayMs: slotJitterMs(task.name, task.schedule, next, this.#jitterMaxMs) });
      this.#armed.set(task.name, key);
    } catch (err) {
      this.#log.error('cannot arm the timer of the task', { task: task.name, error: toFerryError(err).message });
    }
  }

  #disarm(name: string): void {
    this.#timers.disarm(name);
    this.#armed.delete(name);
    const topUp = this.#topUps.get(name);
    if (topUp !== undefined) this.#clock.clearTimeout(topUp);
    this.#topUps.delete(name);
  }

  #onFire(name: string): void {
    if (!this.#started) return;
    const task = this.#tasks.get(name);
    if (task !== undefined && !this.#running.has(name) && !this.#isWaiting(name)) {
      // A timer that fired a moment before the task is ready (its clock and
      // the wall clock disagree) gets a short top-up instead of being lost.
      try {
        const now = this.#clock.now().getTime();
        const at = readyAt(task, this.#lastSlot(name), this.#clock.now(), this.#jitterMaxMs)?.getTime() ?? now;
        if (at > now && at - now <= EARLY_FIRE_TOLERANCE_MS && !this.#topUps.has(name)) {
          this.#topUps.set(
            name,
            this.#clock.setTimeout(() => {
              this.#topUps.delete(name);
              this.#evaluate();
            }, at - now),
          );
        }
      } catch {
        // said by #evaluate
      }
    }
    this.#evaluate();
  }

  #onRecheck(): void {
    if (!this.#started) return;
    // Re-arm every grid from the wall clock as it is now (a step, a drift), then look at every task.
    for (const name of [...this.#armed.keys()]) this.#armed.set(name, '');
    this.#arm();
    this.#evaluate();
  }

  /** The due slot when the task is ready to start at `now`, else null. */
  #ready(task: SchedulableTask, now: Date): Ready | null {
    const last = this.#lastSlot(task.name);
    const at = readyAt(task, last, now, this.#jitterMaxMs);
    if (at === null || at.getTime() > now.getTime()) return null;
    const due = dueNow(task, last, now);
    if (!due.due || due.slot === null) return null;
    return { slot: due.slot, missed: due.missed, readyAt: at.getTime() };
  }

  #evaluate(): void {
    if (!this.#started) return;
    const now = this.#clock.now();
    const ready: Waiting[] = [];
    for (const task of this.#scheduleOn ? this.#tasks.values() : []) {
      if (this.#running.has(task.name) || this.#isWaiting(task.name)) continue;
      let due: Ready | null;
      try {
        due = this.#ready(task, now);
      } catch (err) {
        this.#log.error('cannot work out when the task is due', { task: task.name, error: toFerryError(err).message });
        continue;
      }
      if (due === null) continue;
      ready.push({ name: task.name, reason: 'schedule', slot: due.slot, missed: due.missed, readyAt: due.readyAt });
    }
    // Earlier-ready first; ties keep the order of setTasks.
    ready.sort((a, b) => a.readyAt - b.readyAt);
    this.#queue.push(...ready);
    this.#drain();
  }

  #drain(): void {
    while (this.#started && this.#running.size < this.#maxConcurrent) {
      const next = this.#queue.shift();
      if (next === undefined) return;
      this.#begin(next);
    }
    if (this.#queue.length > 0) {
      this.#log.debug('runs wait for the concurrency limit', { limit: this.#maxConcurrent, waiting: this.#queue.map((w) => w.name) });
    }
  }

  #begin(waiting: Waiting): void {
    const run: Run = { name: waiting.name, reason: waiting.reason, slot: waiting.slot, missed: waiting.missed };
    // Slots may have passed while the run waited for a free place (or a slot
    // may be due as a run-now starts): this one run stands for all of them.
    // Jitter only spreads start times: a run starting now covers every passed slot.
    const task = this.#tasks.get(run.name);
    if (task !== undefined) {
      try {
        const due = dueNow(task, this.#lastSlot(task.name), this.#clock.now());
        if (due.due && due.slot !== null) {
          run.slot = due.slot;
          run.missed = due.missed;
        }
      } catch {
        // said by #evaluate; the run goes ahead with what it has
      }
    }
    this.#running.set(run.name, run);
    const info: DueRun = { reason: run.reason, slot: run.slot, missed: run.missed };
    this.#log.info(run.missed > 0 ? 'task due: catching up, missed slots collapse into one run' : 'task due', {
      task: run.name,
      reason: run.reason,
      slot: run.slot?.toISOString() ?? null,
      missed: run.missed,
    });
    let promise: Promise<void>;
    try {
      promise = this.#onDue(run.name, info);
    } catch (err) {
      promise = Promise.reject(toFerryError(err));
    }
    Promise.resolve(promise).then(
      () => this.#end(run),
      (err: unknown) => {
        this.#log.error('run failed', { task: run.name, error: toFerryError(err).message });
        this.#end(run);
      },
    );
  }

  #end(run: Run): void {
    this.#running.delete(run.name);
    if (run.slot !== null && this.#started && this.#tasks.has(run.name)) {
      this.#lastSlots.set(run.name, run.slot);
      try {
        this.#store.set(run.name, run.slot);
      } catch (err) {
        // Kept in memory all the same, so the task does not run again at once;
        // after a restart the slot counts as missed and runs once.
        this.#log.error('cannot store the last slot of the task', { task: run.name, error: toFerryError(err).message });
      }
    }
    this.#evaluate();
  }
}
