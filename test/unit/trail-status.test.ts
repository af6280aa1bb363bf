// How an ended attempt reads in a trail: one mapping for both trails and both directions.

import { describe, expect, it } from 'vitest';
import { endStatusOf } from '../../src/domain/trail.js';

describe('endStatusOf', () => {
  it.each([
    [null, 'succeeded'],
    ['CANCELLED', 'cancelled'],
    ['ABORTED', 'interrupted'],
    ['INTERRUPTED', 'interrupted'],
    ['STREAM_REFUSED', 'failed'],
    ['REPLICA_CHANGED', 'failed'],
    ['PEER_UNREACHABLE', 'failed'],
  ] as const)('%s reads %s', (code, status) => {
    expect(endStatusOf(code)).toBe(status);
  });
});
