// Runs, scheduled or started through the admin API ("run now"), kept in
// memory so that `ferry task run --wait` can follow one from the queue to its
// end. The trail is the durable record; this is only the live view.

import { randomUUID } from 'node:crypto';
import type { RunView } from '../api/schemas.js';
import { FerryError } from '../domain/errors.js';
import type { RunOutcome } from '../replication/driver.js';

const KEEP = 200;
/** The most often a run's progress is told to live listeners. */
const PROGRESS_EVERY_MS = 500;

interface Entry {
  view: RunView;
  done: Promise<void>;
  /** Aborted by `ferry task cancel`, with a CANCELLED reason: the attempt ends 'cancelled' on both sides. */
  readonly cancel: AbortController;
}

export class RunRegistry {
  /** Told of every run that began and ended, with its duration (metrics). */
  onEnded: (view: RunView, seconds: number) => void = () => undefined;
  /** Told of every change of a run's view (live events): state changes at once, progress at most every PROGRESS_EVERY_MS. */
  onChange: (view: RunView) => void = () => undefined;
  readonly #lastProgress = new Map<string, number>();
  readonly #runs = new Map<string, Entry>();
  readonly #byTask = new Map<string, Entry>();
  /** Tasks whose queued run-now was cancelled: the scheduler's turn for it is skipped once. */
  readonly #skip = new Set<string>();

  /** A run-now that waits for the concurrency limit: its view until it begins. */
  queue(task: string): RunView {
    const queued = this.#byTask.get(task);
    if (queued?.view.state === 'queued') return queued.view;
    return this.#add(task, 'queued').view;
  }

  #add(task: string, state: 'queued' | 'running'): Entry {
    const entry: Entry = {
      view: { id: randomUUID(), task, state, bytes: 0, estimatedBytes: null, startedAt: new Date().toISOString(), endedAt: null, snapshot: null, errorCode: null, error: null },
      done: Promise.resolve(),
      cancel: new AbortController(),
    };
    this.#runs.set(entry.view.id, entry);
    this.#byTask.set(task, entry);
    this.#trim();
    this.onChange(entry.view);
    return entry;
  }

  #set(entry: Entry, patch: Partial<RunView>): void {
    const before = entry.view;
    entry.view = { ...before, ...patch };
    // Bytes alone change many times a second: tell of them at a measured pace; anything else at once.
    const onlyBytes = Object.keys(patch).every((k) => k === 'bytes');
    const now = performance.now();
    if (onlyBytes && now - (this.#lastProgress.get(entry.view.id) ?? -Infinity) < PROGRESS_EVERY_MS) return;
    this.#lastProgress.set(entry.view.id, now);
    if (entry.view.state !== 'queued' && entry.view.state !== 'running') this.#lastProgress.delete(entry.view.id);
    this.onChange(entry.view);
  }

  /** A run begins: the task's queued view if it has one, else a new one. Resolves when it ended. */
  begin(task: string, run: (cancelled: AbortSignal) => Promise<RunOutcome>): Promise<void> {
    const queued = this.#byTask.get(task);
    const entry = queued?.view.state === 'queued' ? queued : this.#add(task, 'running');
    this.#set(entry, { state: 'running', startedAt: new Date().toISOString() });
    const began = performance.now();
    entry.done = run(entry.cancel.signal).then(
      (outcome) => {
        const last = outcome.attempts.at(-1);
        this.#set(entry, {
          state: outcome.status,
          endedAt: new Date().toISOString(),
          snapshot: outcome.snapshot,
          bytes: outcome.receipt?.bytes ?? entry.view.bytes,
          errorCode: outcome.status === 'succeeded' ? null : (last?.errorCode ?? null),
          error: outcome.status === 'succeeded' ? null : (last?.error ?? null),
        });
      },
      (err: unknown) => {
        const e = err instanceof FerryError ? err : null;
        this.#set(entry, { state: 'failed', endedAt: new Date().toISOString(), errorCode: e?.code ?? 'INTERNAL', error: err instanceof Error ? err.message : String(err) });
      },
    );
    entry.done = entry.done.then(() => this.onEnded(entry.view, (performance.now() - began) / 1000));
    return entry.done;
  }

  /** True once after a queued run of the task was cancelled: its turn in the scheduler is dropped. */
  skipTurn(task: string): boolean {
    return this.#skip.delete(task);
  }

  /**
   * `ferry task cancel`: a queued run is dropped before it begins; a running
   * one is aborted with CANCELLED (its attempt ends 'cancelled' in both
   * trails, and is not retried). Resolves with the run's view once it ended.
   */
  async cancel(task: string): Promise<RunView> {
    const entry = this.#byTask.get(task);
    if (entry?.view.state === 'queued') {
      this.#set(entry, { state: 'cancelled', endedAt: new Date().toISOString(), errorCode: 'CANCELLED', error: 'cancelled by the admin before it began' });
      this.#skip.add(task);
      return entry.view;
    }
    if (entry?.view.state !== 'running') throw new FerryError('NOT_FOUND', `task '${task}' has no run under way or queued`);
    entry.cancel.abort(new FerryError('CANCELLED', 'cancelled by the admin (ferry task cancel)'));
    await entry.done;
    return entry.view;
  }

  /** Drops a queued run that will not begin (the scheduler dropped it, the task went). */
  cancelQueued(task: string, why: string): void {
    const entry = this.#byTask.get(task);
    if (entry?.view.state !== 'queued') return;
    this.#set(entry, { state: 'interrupted', endedAt: new Date().toISOString(), errorCode: 'ABORTED', error: why });
  }

  estimate(task: string, bytes: number | null): void {
    const entry = this.#byTask.get(task);
    if (entry && entry.view.state === 'running') this.#set(entry, { estimatedBytes: bytes, bytes: 0 });
  }

  progress(task: string, bytes: number): void {
    const entry = this.#byTask.get(task);
    if (entry && entry.view.state === 'running') this.#set(entry, { bytes });
  }

  get(id: string): RunView {
    const entry = this.#runs.get(id);
    if (!entry) throw new FerryError('NOT_FOUND', `no run '${id.slice(0, 64)}' (runs are kept until the daemon restarts)`);
    return entry.view;
  }

  /** Resolves when every run under way has ended, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    const pending = [...this.#runs.values()].filter((e) => e.view.state === 'running').map((e) => e.done);
    for (const e of this.#runs.values()) if (e.view.state === 'queued') this.cancelQueued(e.view.task, 'the appliance stopped before the run began');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(pending), timeout]);
    clearTimeout(timer);
  }

  /** Runs queued or under way. */
  live(): RunView[] {
    return [...this.#runs.values()].map((e) => e.view).filter((v) => v.state === 'running' || v.state === 'queued');
  }

  running(): RunView[] {
    return [...this.#runs.values()].map((e) => e.view).filter((v) => v.state === 'running');
  }

  #trim(): void {
    while (this.#runs.size > KEEP) {
      const oldest = this.#runs.keys().next().value;
      if (oldest === undefined) break;
      this.#runs.delete(oldest);
    }
  }
}
