// The budget of strangers' connections (src/util/connection-guard.ts), with
// fake sockets and fake timers: who yields over each cap, when a lifetime
// ends, and that nothing is timed while no stranger is held. The real thing,
// against a daemon and 1100 slow connections, is test/e2e/doors-peer.test.ts.

import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { budgetAddress, ConnectionGuard, type CutReason } from '../../src/util/connection-guard.js';

class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    super();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

let port = 40_000;
const socket = (address: string): FakeSocket => new FakeSocket(address, port++);
const asNet = (s: FakeSocket): net.Socket => s as unknown as net.Socket;

describe('budgetAddress', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'local'],
  ])('%s counts as %s', (remote, counted) => {
    expect(budgetAddress(remote)).toBe(counted);
  });
});

describe('ConnectionGuard', () => {
  let cuts: [string, CutReason][];
  let guard: ConnectionGuard;
  beforeEach(() => {
    vi.useFakeTimers();
    cuts = [];
    guard = new ConnectionGuard({ lifetimeMs: 10_000, perAddress: 3, total: 5 }, (address, reason) => cuts.push([address, reason]), () => Date.now());
  });
  afterEach(() => {
    guard.stop();
    vi.useRealTimers();
  });

  it('over the per-address cap, cuts that address’s oldest', () => {
    const a = [socket('192.0.2.1'), socket('192.0.2.1'), socket('192.0.2.1'), socket('192.0.2.1')];
    for (const s of a) guard.accepted(asNet(s));
    expect(a.map((s) => s.destroyed)).toEqual([true, false, false, false]);
    expect(cuts).toEqual([['192.0.2.1', 'per-address']]);
    expect(guard.untrusted).toBe(3);
  });

  it('over the total, cuts the oldest of the address holding most: a newcomer from elsewhere gets in', () => {
    const flood = [socket('192.0.2.1'), socket('192.0.2.1'), socket('192.0.2.1')];
    const other = [socket('192.0.2.2'), socket('192.0.2.2')];
    for (const s of [...flood, ...other]) guard.accepted(asNet(s));
    const peer = socket('198.51.100.9');
    guard.accepted(asNet(peer));
    expect(peer.destroyed).toBe(false);
    expect(flood.map((s) => s.destroyed)).toEqual([true, false, false]);
    expect(other.some((s) => s.destroyed)).toBe(false);
    expect(cuts).toEqual([['192.0.2.1', 'total']]);
    expect(guard.untrusted).toBe(5);
  });

  it('cuts a connection when its lifetime ends, on a timer armed only while strangers are held', () => {
    expect(vi.getTimerCount()).toBe(0);
    const first = socket('192.0.2.1');
    guard.accepted(asNet(first));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(4_000);
    const second = socket('192.0.2.2');
    guard.accepted(asNet(second));
    vi.advanceTimersByTime(6_000);
    expect(first.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect([first.destroyed, second.destroyed]).toEqual([true, false]);
    vi.advanceTimersByTime(4_000);
    expect(second.destroyed).toBe(true);
    expect(cuts).toEqual([
      ['192.0.2.1', 'lifetime'],
      ['192.0.2.2', 'lifetime'],
    ]);
    // Nothing held: nothing timed, so an idle daemon's event loop sleeps.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('no longer counts or times a connection once a request on it proved who sent it', () => {
    const peer = socket('192.0.2.1');
    guard.accepted(asNet(peer));
    guard.trust(asNet(peer));
    expect(guard.untrusted).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(peer.destroyed).toBe(false);
    expect(cuts).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('finds a TLS connection’s TCP socket by its remote address and port', () => {
    const tcp = socket('192.0.2.1');
    guard.accepted(asNet(tcp));
    const tlsView = new FakeSocket('192.0.2.1', tcp.remotePort);
    guard.trust(asNet(tlsView));
    expect(guard.untrusted).toBe(0);
  });

  it('forgets a connection the client closed', () => {
    const s = socket('192.0.2.1');
    guard.accepted(asNet(s));
    s.emit('close');
    expect(guard.untrusted).toBe(0);
    vi.advanceTimersByTime(20_000);
    expect(cuts).toEqual([]);
  });
});
