// Live events for the CLI and the web UI: every change of a run (queued,
// running, bytes, estimate, its end), with the rate and ETA the daemon
// measures, pushed to whoever listens on GET /api/v1/events instead of
// being polled for.

import type { RunEvent, RunView } from '../api/views.js';

export class LiveEvents {
  readonly #listeners = new Set<(event: RunEvent) => void>();
  /** Per run: when the current attempt's first byte was seen, to measure its rate. */
  readonly #firstByte = new Map<string, { at: number; bytes: number; estimate: number | null }>();
  readonly #clock: () => number;

  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
  }

  /** A run's view changed. */
  publish(run: RunView): void {
    const event = this.#event(run);
    for (const listener of this.#listeners) listener(event);
  }

  /** What a new listener is told first: the runs queued or under way now. */
  snapshot(runs: readonly RunView[]): RunEvent[] {
    return runs.map((run) => this.#event(run, false));
  }

  subscribe(listener: (event: RunEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #event(run: RunView, record = true): RunEvent {
    const now = this.#clock();
    let first = this.#firstByte.get(run.id);
    const ended = run.state !== 'queued' && run.state !== 'running';
    // A new attempt (a retry) starts over: its estimate is set and its bytes go back to 0.
    if (record && first && (run.bytes === 0 || first.estimate !== run.estimatedBytes)) {
      this.#firstByte.delete(run.id);
      first = undefined;
    }
    if (record && !first && run.bytes > 0 && !ended) {
      first = { at: now, bytes: run.bytes, estimate: run.estimatedBytes };
      this.#firstByte.set(run.id, first);
    }
    if (ended) this.#firstByte.delete(run.id);
    const seconds = first ? (now - first.at) / 1000 : 0;
    const rate = first && seconds >= 0.5 ? (run.bytes - first.bytes) / seconds : null;
    const eta = rate && rate > 0 && run.estimatedBytes !== null && !ended ? Math.max(0, run.estimatedBytes - run.bytes) / rate : null;
    return { type: 'run', run, rateBytesPerSecond: rate, etaSeconds: eta };
  }
}
