// When a web UI session lets a request through: idle and absolute limits, a
// password set again, sign-out, and the cap on sessions kept at once.

import { describe, expect, it } from 'vitest';
import { Sessions } from '../../src/web/sessions.js';

const limits = { idleMs: 1000, maxMs: 5000, max: 3 };

function harness() {
  let now = 0;
  let n = 0;
  const sessions = new Sessions(limits, () => `r${++n}`, () => now);
  return { sessions, at: (t: number) => (now = t) };
}

describe('web UI sessions', () => {
  it.each([
    ['used at once', 0, 'stamp-1', true],
    ['used just before the idle limit', 999, 'stamp-1', true],
    ['idle for the whole limit', 1000, 'stamp-1', false],
    ['the password was set again', 10, 'stamp-2', false],
    ['no password any more', 10, null, false],
  ] as const)('%s: %s', (_what, after, stamp, alive) => {
    const { sessions, at } = harness();
    const s = sessions.create('stamp-1');
    at(after);
    expect(sessions.use(s.id, stamp) !== null).toBe(alive);
    // An ended session stays ended.
    if (!alive) expect(sessions.use(s.id, 'stamp-1')).toBeNull();
  });

  it('ends a session at its absolute limit, however busy', () => {
    const { sessions, at } = harness();
    const s = sessions.create('p');
    for (let t = 900; t < 5000; t += 900) {
      at(t);
      expect(sessions.use(s.id, 'p')).not.toBeNull();
    }
    expect(sessions.expiresAt(s)).toBe(5000);
    at(5000);
    expect(sessions.use(s.id, 'p')).toBeNull();
  });

  it('moves the idle end with every use', () => {
    const { sessions, at } = harness();
    const s = sessions.create('p');
    at(600);
    sessions.use(s.id, 'p');
    expect(sessions.expiresAt(s)).toBe(1600);
  });

  it('gives each session its own id and CSRF token, and forgets unknown ids', () => {
    const { sessions } = harness();
    const a = sessions.create('p');
    const b = sessions.create('p');
    expect(new Set([a.id, a.csrf, b.id, b.csrf]).size).toBe(4);
    expect(sessions.use(undefined, 'p')).toBeNull();
    expect(sessions.use('nope', 'p')).toBeNull();
  });

  it('ends a session signed out', () => {
    const { sessions } = harness();
    const s = sessions.create('p');
    sessions.remove(s.id);
    expect(sessions.use(s.id, 'p')).toBeNull();
  });

  it('keeps at most `max` sessions, dropping the least recently used', () => {
    const { sessions, at } = harness();
    const first = sessions.create('p');
    at(10);
    const second = sessions.create('p');
    at(20);
    sessions.create('p');
    at(30);
    sessions.use(first.id, 'p');
    sessions.create('p');
    expect(sessions.size).toBe(3);
    expect(sessions.use(second.id, 'p')).toBeNull();
    expect(sessions.use(first.id, 'p')).not.toBeNull();
  });
});
