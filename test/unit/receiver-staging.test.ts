import { describe, expect, it } from 'vitest';
import { stagingTransfer } from '../../src/receiver/staging.js';

const pools = [{ path: '/mnt/pool' }];

describe('stagingTransfer: which transfer a leftover belongs to', () => {
  it.each([
    ['a jail', '/mnt/pool/fpeer1/docs/.incoming-3f2a', '3f2a'],
    ['a subvolume moved out of its jail', '/mnt/pool/fpeer1/docs/.incoming-3f2a.ready', '3f2a'],
    ['a replica', '/mnt/pool/fpeer1/docs/20261207T101010.000Z', null],
    ['a jail on no pool', '/mnt/other/fpeer1/docs/.incoming-3f2a', null],
    ['a jail one level too deep', '/mnt/pool/fpeer1/docs/sub/.incoming-3f2a', null],
    ['a jail under a name that is no peer id', '/mnt/pool/.snaps/docs/.incoming-3f2a', null],
  ])('%s', (_label, where, expected) => {
    expect(stagingTransfer(where, pools)).toBe(expected);
  });
});
