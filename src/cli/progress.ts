// Progress of a transfer the CLI waits for: on a terminal, a bar (cli-progress)
// with percent, bytes, rate and ETA once the size is known; otherwise one
// plain line every few seconds on stdout, so a log or a pipe sees the run move.

import { SingleBar } from 'cli-progress';
import { formatBytes } from '../util/bytes.js';
import { shown } from './output.js';

export interface ProgressSample {
  /** Bytes moved so far. */
  readonly bytes: number;
  /** Bytes expected in all; null while not known. */
  readonly total: number | null;
  /** A word for the state: queued, running, receiving, or how it ended. */
  readonly state: string;
  /** True for the last sample, once the transfer ended. */
  readonly ended?: boolean;
}

/** Seconds as 1h02m, 4m05s, 12s. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** One plain line: "photos: 12.0 MiB of 40.0 MiB (30%), 8.0 MiB/s, ETA 4s". */
export function describeProgress(label: string, sample: ProgressSample, rate: number): string {
  const of = sample.total !== null && sample.total > 0 ? ` of ${formatBytes(sample.total)} (${Math.min(100, Math.floor((sample.bytes / sample.total) * 100))}%)` : '';
  const eta = sample.total !== null && rate > 0 && sample.bytes < sample.total ? `, ETA ${formatEta((sample.total - sample.bytes) / rate)}` : '';
  return `${shown(label)}: ${shown(sample.state)}, ${formatBytes(sample.bytes)}${of}, ${formatBytes(rate)}/s${eta}`;
}

export class TransferProgress {
  readonly #label: string;
  readonly #bar: SingleBar | null;
  readonly #everyMs: number;
  #lastLine = 0;
  #firstByteAt: number | null = null;
  readonly #startedAt = Date.now();
  #started = false;

  readonly #lines: boolean;

  constructor(label: string, options: { tty?: boolean; everyMs?: number; lines?: boolean } = {}) {
    this.#lines = options.lines ?? true;
    this.#label = shown(label);
    this.#everyMs = options.everyMs ?? 5_000;
    this.#bar =
      (options.tty ?? process.stderr.isTTY)
        ? new SingleBar(
            {
              format: `${this.#label} [{bar}] {percentage}% | {done} of {all} | {rate}/s | ETA {eta_text} | {state}`,
              hideCursor: true,
              stream: process.stderr,
              barsize: 24,
            },
            undefined,
          )
        : null;
  }

  /** Bytes per second since the first byte seen (from the start, once the run ended). */
  #rate(bytes: number, now: number, ended: boolean): number {
    if (bytes > 0 && this.#firstByteAt === null) this.#firstByteAt = ended ? this.#startedAt : now;
    const seconds = this.#firstByteAt === null ? 0 : (now - this.#firstByteAt) / 1000;
    return seconds >= 0.5 || (ended && seconds > 0) ? bytes / seconds : 0;
  }

  update(sample: ProgressSample, now = Date.now()): void {
    const rate = this.#rate(sample.bytes, now, sample.ended === true);
    if (this.#bar) {
      const total = sample.total ?? 0;
      const payload = {
        done: formatBytes(sample.bytes),
        all: sample.total === null ? '?' : formatBytes(sample.total),
        rate: formatBytes(rate),
        eta_text: sample.total !== null && rate > 0 ? formatEta(Math.max(0, sample.total - sample.bytes) / rate) : '-',
        state: shown(sample.state),
      };
      if (!this.#started) this.#bar.start(Math.max(1, total), Math.min(sample.bytes, Math.max(1, total)), payload);
      else {
        this.#bar.setTotal(Math.max(1, total));
        this.#bar.update(Math.min(sample.bytes, Math.max(1, total)), payload);
      }
      this.#started = true;
      return;
    }
    if (!this.#lines) return;
    // A line when the size becomes known, then every few seconds.
    const first = !this.#started && sample.total !== null;
    if (first || now - this.#lastLine >= this.#everyMs) {
      if (first) this.#started = true;
      this.#lastLine = now;
      process.stdout.write(describeProgress(this.#label, sample, rate) + '\n');
    }
  }

  stop(): void {
    this.#bar?.stop();
  }
}
