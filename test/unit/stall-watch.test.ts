// The upload's watch (src/peer/upload.ts watchStall), on fake timers: a
// stall, a trickle under the rate floor, and the receiver's own backpressure,
// which is never the sender's fault.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchStall } from '../../src/peer/upload.js';

describe('watchStall', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** Runs the watch for `ms`, moving `rate(t)` bytes a second and busy when `busy(t)`; the reason it stalled, or null. */
  function watch(ms: number, rate: (t: number) => number, busy: (t: number) => boolean = () => false): string | null {
    let bytes = 0;
    let t = 0;
    let reason: string | null = null;
    const stop = watchStall({
      timeoutMs: 10_000,
      floor: { bytesPerSecond: 1000, windowMs: 5_000 },
      progress: () => bytes,
      busy: () => busy(t),
      onStall: (r) => (reason = r),
    });
    for (; t < ms && reason === null; t += 100) {
      bytes += rate(t) / 10;
      vi.advanceTimersByTime(100);
    }
    stop();
    return reason;
  }

  it.each<[string, (t: number) => number, ((t: number) => boolean) | undefined, RegExp | null]>([
    ['a steady upload over the floor', () => 5_000, undefined, null],
    ['a pause shorter than the stall timeout, then fast again', (t) => (t < 3_000 || t > 6_000 ? 50_000 : 0), undefined, null],
    ['a trickle: some bytes always, too few', () => 200, undefined, /moved \d+ bytes in \d+ s, under the floor of 1000 bytes a second/],
    ['nothing at all', () => 0, undefined, /under the floor|stalled/],
    ['nothing, while the receiver holds the body back', () => 0, () => true, null],
    ['a trickle, while the receiver holds the body back now and then', () => 200, (t) => Math.floor(t / 1000) % 2 === 0, null],
  ])('%s', (_label, rate, busy, expected) => {
    const reason = watch(30_000, rate, busy);
    if (expected === null) expect(reason).toBeNull();
    else expect(reason).toMatch(expected);
  });
});
