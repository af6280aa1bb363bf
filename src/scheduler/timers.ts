// What wakes the scheduler: one timer per task, firing at each of the task's
// slots (its `--every` grid or its cron occurrences) plus the task's jitter,
// and one recheck now and then. In the daemon these are bree jobs
// (bree-timers.ts); tests drive the same contract with a fake clock
// (ClockTimers). The scheduler decides what a fire means (scheduler.ts).

import type { Schedule } from '../domain/task.js';
import { slotAfter } from './plan.js';

/** An opaque timer handle of the clock that made it. */
export type TimerHandle = unknown;

export interface Clock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A timer alone does not keep the process alive: the daemon's servers do,
    // and a test that forgets stop() still exits.
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Node's setTimeout takes at most 2^31-1 ms. */
export const maxTimerMs = 2 ** 31 - 1;

export interface TimerSpec {
  readonly name: string;
  readonly schedule: Schedule;
  /** Where an `--every` grid runs through (the task's last slot or its creation). */
  readonly anchor: Date;
  /** The task's jitter: each fire comes this long after its slot. */
  readonly delayMs: number;
}

export interface TaskTimers {
  /** Fires `onFire(name)` at each slot of the schedule from now on, `delayMs` after it. Replaces an earlier arm of the same name. */
  arm(spec: TimerSpec): void;
  disarm(name: string): void;
  /** Fires `onRecheck()` every `ms`. */
  armRecheck(ms: number): void;
  /** Stops every timer; nothing fires after it resolves. */
  stop(): Promise<void>;
}

export interface TimerEvents {
  readonly onFire: (name: string) => void;
  readonly onRecheck: () => void;
}

/**
 * The contract over a plain clock: what the scheduler's tests drive with a
 * fake one. Each fire re-arms for the next slot after it.
 */
export class ClockTimers implements TaskTimers {
  readonly #clock: Clock;
  readonly #events: TimerEvents;
  readonly #armed = new Map<string, TimerHandle>();
  #recheck: { readonly handle: TimerHandle } | null = null;

  constructor(clock: Clock, events: TimerEvents) {
    this.#clock = clock;
    this.#events = events;
  }

  arm(spec: TimerSpec): void {
    this.disarm(spec.name);
    const now = this.#clock.now();
    // The slot whose fire (slot + delay) is the first one still to come.
    let slot = slotAfter(spec.schedule, spec.anchor, new Date(now.getTime() - spec.delayMs));
    if (slot.getTime() + spec.delayMs <= now.getTime()) slot = slotAfter(spec.schedule, spec.anchor, slot);
    const wait = Math.min(slot.getTime() + spec.delayMs - now.getTime(), maxTimerMs);
    this.#armed.set(
      spec.name,
      this.#clock.setTimeout(() => {
        this.#armed.delete(spec.name);
        this.arm(spec);
        this.#events.onFire(spec.name);
      }, wait),
    );
  }

  disarm(name: string): void {
    if (!this.#armed.has(name)) return;
    this.#clock.clearTimeout(this.#armed.get(name));
    this.#armed.delete(name);
  }

  armRecheck(ms: number): void {
    if (this.#recheck !== null) this.#clock.clearTimeout(this.#recheck.handle);
    this.#recheck = {
      handle: this.#clock.setTimeout(() => {
        this.armRecheck(ms);
        this.#events.onRecheck();
      }, ms),
    };
  }

  /** Names of the tasks armed now. */
  get armed(): string[] {
    return [...this.#armed.keys()];
  }

  stop(): Promise<void> {
    for (const name of [...this.#armed.keys()]) this.disarm(name);
    if (this.#recheck !== null) this.#clock.clearTimeout(this.#recheck.handle);
    this.#recheck = null;
    return Promise.resolve();
  }
}
