// The plain progress line and its ETA, table-driven.

import { describe, expect, it } from 'vitest';
import { describeProgress, formatEta } from '../../src/cli/progress.js';

describe('formatEta', () => {
  it.each([
    [0, '0s'],
    [4.4, '4s'],
    [59.6, '1m00s'],
    [61, '1m01s'],
    [3599, '59m59s'],
    [3600, '1h00m'],
    [7322, '2h02m'],
    [-1, '-'],
    [Infinity, '-'],
    [NaN, '-'],
  ])('%s s is %s', (seconds, text) => {
    expect(formatEta(seconds)).toBe(text);
  });
});

describe('describeProgress', () => {
  const MiB = 1 << 20;
  it.each([
    ['no estimate yet', { bytes: 0, total: null, state: 'queued' }, 0, 'photos: queued, 0 B, 0 B/s'],
    ['a third of the way', { bytes: 10 * MiB, total: 30 * MiB, state: 'running' }, 2 * MiB, 'photos: running, 10.0 MiB of 30.0 MiB (33%), 2.0 MiB/s, ETA 10s'],
    ['done', { bytes: 30 * MiB, total: 30 * MiB, state: 'succeeded' }, 2 * MiB, 'photos: succeeded, 30.0 MiB of 30.0 MiB (100%), 2.0 MiB/s'],
    ['past the estimate', { bytes: 31 * MiB, total: 30 * MiB, state: 'running' }, MiB, 'photos: running, 31.0 MiB of 30.0 MiB (100%), 1.0 MiB/s'],
    ['an empty stream', { bytes: 0, total: 0, state: 'running' }, 0, 'photos: running, 0 B, 0 B/s'],
  ])('%s', (_name, sample, rate, text) => {
    expect(describeProgress('photos', sample, rate)).toBe(text);
  });
});
