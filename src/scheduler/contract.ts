// What the scheduler and the daemon say to each other: the daemon gives it
// the tasks, where their last slots are kept and what to call when one is
// due; the scheduler says which run is due and why (scheduler.ts).

import type { Logger } from '../log/logger.js';
import type { Clock, TaskTimers, TimerEvents } from './timers.js';

/** Where the daemon keeps each task's last slot (in tests, a Map does). */
export interface SlotStore {
  get(task: string): Date | null;
  set(task: string, slot: Date): void;
}

export type RunReason = 'schedule' | 'run-now';

/** What onDue is told about the run it should perform. */
export interface DueRun {
  readonly reason: RunReason;
  /** The slot this run stands for; null for a run-now that no slot was due for. */
  readonly slot: Date | null;
  /** Older slots this run absorbs (downtime, a pause, a long previous run). */
  readonly missed: number;
}

export type RunNowResult = 'started' | 'queued' | 'busy';

export interface SchedulerOptions {
  /** Runs the task (on the main thread); the scheduler waits for the promise to know the run ended. */
  readonly onDue: (taskName: string, run: DueRun) => Promise<void>;
  /** The last slot of each task; read when a task is first seen, written when a scheduled run ends. */
  readonly slots: SlotStore;
  /** Global limit on concurrent runs (transfers). */
  readonly maxConcurrent: number;
  /** Largest jitter added to a slot, per task, deterministic by name. Default 30 s. */
  readonly jitterMaxMs?: number;
  /** Longest single sleep of the timer. Default 15 minutes. */
  readonly maxSleepMs?: number;
  /** What tells time: now(), and a short top-up timer when a fire came a little early. */
  readonly clock?: Clock;
  /** The timers that fire at the tasks' slots; default ClockTimers over `clock` (bree's in the daemon). */
  readonly timers?: (events: TimerEvents) => TaskTimers;
  readonly logger?: Logger;
}
