// The Host allowlist of the admin and UI listeners (api/hosts.ts): which
// names a request may carry, table-driven. The listeners' 421 is tested on
// real daemons in test/e2e/doors.test.ts.

import { describe, expect, it } from 'vitest';
import { connectAddress } from '../../src/api/client.js';
import { hostAllowlist, hostName } from '../../src/api/hosts.js';

describe('hostName', () => {
  it.each([
    ['127.0.0.1:7701', '127.0.0.1'],
    ['LOCALHOST', 'localhost'],
    ['nas1.local.', 'nas1.local'],
    ['nas1.example:443', 'nas1.example'],
    ['[::1]:7701', '::1'],
    ['[FE80::1]', 'fe80::1'],
    ['fd00::2', 'fd00::2'],
    ['fe80::fc:ff:fe00:1', 'fe80::fc:ff:fe00:1'],
    ['evil.example/x', null],
    ['user@nas1', null],
    ['nas1 evil', null],
    ['', null],
  ])('%j → %j', (host, name) => {
    expect(hostName(host)).toBe(name);
  });
});

describe('hostAllowlist', () => {
  const list = hostAllowlist(['192.168.1.20', 'nas1.lan', 'fd00::2']);
  it.each([
    ['127.0.0.1:7701', true],
    ['127.8.9.10', true],
    ['localhost:7701', true],
    ['ui.localhost', true],
    ['[::1]:7701', true],
    ['192.168.1.20:7443', true],
    ['NAS1.LAN:7443', true],
    ['[fd00::2]:7443', true],
    ['evil.example', false],
    ['localhost.evil.example', false],
    ['127.0.0.1.evil.example', false],
    ['192.168.1.21', false],
    ['nas1.lan.evil.example', false],
    ['0.0.0.0:7701', false],
    [undefined, false],
  ])('%j allowed: %j', (host, allowed) => {
    expect(list.allows(host)).toBe(allowed);
  });

  it('allows any Host on a unix socket, which no browser page reaches', () => {
    expect(hostAllowlist([], { any: true }).allows('evil.example')).toBe(true);
  });

  it('names what it answers to, loopback first, without duplicates', () => {
    expect(hostAllowlist(['127.0.0.1', 'nas1.lan', 'NAS1.lan']).names).toEqual(['localhost', '127.0.0.1', '::1', 'nas1.lan']);
  });
});

describe('connectAddress', () => {
  it.each([
    ['0.0.0.0:7701', '127.0.0.1:7701'],
    ['[::]:7701', '[::1]:7701'],
    ['127.0.0.1:7701', '127.0.0.1:7701'],
    ['192.168.1.20:7701', '192.168.1.20:7701'],
  ])('%s → %s', (address, connect) => {
    expect(connectAddress(address)).toBe(connect);
  });
});
