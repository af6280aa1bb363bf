import { describe, expect, it } from 'vitest';
import { addressesClash } from '../../src/daemon/addresses.js';

describe('addressesClash: two listeners that would take one socket', () => {
  it.each([
    ['127.0.0.1:7001', '127.0.0.1:7001', true],
    ['0.0.0.0:7001', '127.0.0.1:7001', true],
    ['127.0.0.1:7001', '[::]:7001', true],
    ['192.168.1.5:7001', '127.0.0.1:7001', false],
    ['0.0.0.0:7001', '127.0.0.1:7002', false],
    ['0.0.0.0:0', '127.0.0.1:0', false],
    ['unix:/run/ferry/admin.sock', '0.0.0.0:7001', false],
    ['unix:/run/ferry/admin.sock', 'unix:/run/ferry/admin.sock', true],
    ['[::1]:7001', '[::1]:7001', true],
  ])('%s and %s: %s', (a, b, clash) => {
    expect(addressesClash(a, b)).toBe(clash);
    expect(addressesClash(b, a)).toBe(clash);
  });
});
