// The suite's one way to wait for something a daemon, a server or a child does
// on its own time: poll a condition until it holds (vi.waitFor underneath).
// An event observed, never a pause standing in for one; the timeout is only
// how long to wait before saying what never happened, so it is generous: a
// loaded machine is slow, not wrong.

import { vi } from 'vitest';

export interface EventuallyOptions {
  /** Default 30 s. */
  readonly timeoutMs?: number;
  /** Default 100 ms. */
  readonly intervalMs?: number;
  /** More to say when it never held (a daemon's log, a child's output). */
  readonly detail?: () => string;
}

/** Resolves once `ok` holds; otherwise fails with what was awaited (and the detail). */
export async function eventually(what: string, ok: () => boolean | Promise<boolean>, options: EventuallyOptions = {}): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await ok())) throw new Error(`still waiting for ${what}${options.detail ? `:\n${options.detail()}` : ''}`);
    },
    { timeout: options.timeoutMs ?? 30_000, interval: options.intervalMs ?? 100 },
  );
}
