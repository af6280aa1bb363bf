// The scheduler's timers as bree jobs: one per task, on the task's own
// schedule, and one for the periodic recheck. bree owns the timing (its
// `interval` after a first `timeout` for an `--every` grid, later's schedule
// for a cron); each fire runs a tiny job in a worker thread that waits the
// task's jitter and ends, and its ending tells the scheduler "task due". The
// run itself happens on the main thread, beside the store and the peer
// client: the worker only keeps time.
//
// Maintenance jobs (trail pruning, purges, sweeps, health checks) are bree
// jobs of their own, in their own worker files, added by the daemon through
// `addJob`; their messages come back through `onMessage`.

import type { MessagePort } from 'node:worker_threads';
import Bree from 'bree';
import type { Logger } from '../log/logger.js';
import { compileCron, later } from './cron.js';
import { slotAfter } from './plan.js';
import type { TaskTimers, TimerEvents, TimerSpec } from './timers.js';

const TASK_PREFIX = 'task:';
const RECHECK = 'scheduler:recheck';

/**
 * A task job's worker: waits the jitter it is given, then ends with 'done'
 * (bree then terminates it and the message handler says "due"). It runs from
 * its source text (bree's eval jobs), so it must stand alone.
 */
function dueWorker(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- bree runs it as an eval'd CommonJS worker
  const { parentPort, workerData } = require('node:worker_threads') as { parentPort: MessagePort | null; workerData: unknown };
  const delay = (workerData as { delayMs?: number } | null)?.delayMs ?? 0;
  const timer = setTimeout(() => parentPort?.postMessage('done'), delay);
  // bree.stop() asks a running job to cancel: end without a fire.
  parentPort?.on('message', (message) => {
    if (message !== 'cancel') return;
    clearTimeout(timer);
    parentPort.postMessage('cancelled');
  });
}

export interface MaintenanceJob {
  readonly name: string;
  /** An ES module file: bree runs it in a worker thread. */
  readonly path: string;
  readonly everyMs: number;
  readonly workerData?: unknown;
}

export interface BreeTimersOptions extends TimerEvents {
  readonly logger: Logger;
  /** A message a maintenance job's worker posted. */
  readonly onMessage?: (job: string, message: unknown) => void;
}

export class BreeTimers implements TaskTimers {
  readonly #bree: Bree;
  readonly #events: BreeTimersOptions;
  readonly #log: Logger;
  /** bree's add/remove/start/stop are async: they run one after another, in call order. */
  #chain: Promise<void> = Promise.resolve();
  readonly #jobs = new Set<string>();

  constructor(options: BreeTimersOptions) {
    this.#events = options;
    this.#log = options.logger.child({ component: 'bree' });
    this.#bree = new Bree({
      root: false,
      doRootCheck: false,
      jobs: [],
      defaultExtension: 'js',
      acceptedExtensions: ['.js', '.mjs'],
      // bree logs every worker's start and end at info: for Ferry that is debug detail.
      logger: {
        info: (msg: unknown) => this.#log.debug(String(msg)),
        warn: (msg: unknown) => this.#log.warn(String(msg)),
        error: (msg: unknown) => this.#log.error(String(msg)),
      },
      errorHandler: (err: unknown, meta: { name?: string }) => this.#log.error('a scheduler job failed', { job: meta.name, error: String(err) }),
      workerMessageHandler: ({ name, message }: { name: string; message: unknown }) => this.#message(name, message),
    });
    // Loading bree set later's global time zone to local time; Ferry's cron is UTC.
    later.date.UTC();
  }

  #message(name: string, message: unknown): void {
    if (message === 'done' && name.startsWith(TASK_PREFIX)) this.#events.onFire(name.slice(TASK_PREFIX.length));
    else if (message === 'done' && name === RECHECK) this.#events.onRecheck();
    else if (message !== 'done' && message !== 'cancelled') this.#events.onMessage?.(name, message);
  }

  #then(step: () => Promise<void>): void {
    this.#chain = this.#chain.then(step).catch((err: unknown) => this.#log.error('a scheduler timer could not be set', { error: String(err) }));
  }

  async #replace(job: Record<string, unknown> & { name: string }): Promise<void> {
    if (this.#jobs.has(job.name)) await this.#bree.remove(job.name);
    await this.#bree.add(job);
    this.#jobs.add(job.name);
    await this.#bree.start(job.name);
  }

  arm(spec: TimerSpec): void {
    const name = TASK_PREFIX + spec.name;
    const job: Record<string, unknown> & { name: string } = { name, path: dueWorker, worker: { workerData: { delayMs: spec.delayMs } } };
    if (spec.schedule.kind === 'cron') {
      // later's schedule of the expression (UTC), as bree runs a `cron` job.
      job.cron = compileCron(spec.schedule.expr).schedule;
    } else {
      // The grid through the anchor: first the time to its next slot, then every N.
      job.timeout = Math.max(0, slotAfter(spec.schedule, spec.anchor, new Date()).getTime() - Date.now());
      job.interval = spec.schedule.seconds * 1000;
    }
    this.#then(() => this.#replace(job));
  }

  disarm(name: string): void {
    this.#then(() => this.#drop(TASK_PREFIX + name));
  }

  async #drop(name: string): Promise<void> {
    if (!this.#jobs.has(name)) return;
    this.#jobs.delete(name);
    await this.#bree.remove(name);
  }

  armRecheck(ms: number): void {
    this.#then(() => this.#replace({ name: RECHECK, path: dueWorker, interval: ms }));
  }

  /** A maintenance job on its own interval (not run at start). */
  addJob(job: MaintenanceJob): void {
    this.#then(() => this.#replace({ name: job.name, path: job.path, interval: job.everyMs, worker: { workerData: job.workerData } }));
  }

  /** Runs a maintenance job now (unless it runs already); resolves when it was started. */
  runJob(name: string): Promise<void> {
    this.#then(() => this.#bree.run(name));
    return this.#chain;
  }

  /** Whether a job's worker is running now. */
  isRunning(name: string): boolean {
    return this.#bree.workers.has(name);
  }

  async stop(): Promise<void> {
    this.#then(async () => {
      for (const name of [...this.#jobs]) await this.#drop(name);
    });
    await this.#chain;
  }
}
