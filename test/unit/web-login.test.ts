// Signing in to the web UI through fastify.inject, with a password check the
// test holds open: at most `maxConcurrentChecks` scrypt checks run at once (each
// holds 32 MiB), and a check that fails or throws frees its place.

import { afterAll, describe, expect, it } from 'vitest';
import type { AdminPorts } from '../../src/api/ports.js';
import { createAdminApi } from '../../src/api/server.js';
import { webUi } from '../../src/web/server.js';
import { hostAllowlist } from '../../src/api/hosts.js';
import { eventually } from '../support/eventually.js';

const pending: ((right: boolean) => void)[] = [];
const app = createAdminApi({
  ports: {} as AdminPorts,
  token: 'test-token-0123456789',
  browser: webUi({
    assetsDir: '/nonexistent',
    secure: false,
    hosts: hostAllowlist([]),
    maxConcurrentChecks: 2,
    loginLimit: { max: 100, windowMs: 60_000 },
    password: {
      stamp: () => Promise.resolve('stamp'),
      verify: () => new Promise<boolean>((resolve) => pending.push(resolve)),
    },
  }),
});
afterAll(() => app.close());

function login() {
  return app.inject({ method: 'POST', url: '/ui/login', payload: { password: 'whatever it is' } });
}


describe('web UI sign-in', () => {
  it('checks at most two passwords at once, and frees a place when a check ends', async () => {
    const first = login();
    const second = login();
    await eventually('two checks under way', () => pending.length === 2, { intervalMs: 5 });
    const third = await login();
    expect([third.statusCode, third.json<{ code: string }>().code]).toEqual([429, 'RATE_LIMITED']);
    pending.shift()?.(false);
    expect((await first).json<{ code: string }>().code).toBe('WRONG_PASSWORD');
    const fourth = login();
    await eventually('two checks under way', () => pending.length === 2, { intervalMs: 5 });
    for (const resolve of pending.splice(0)) resolve(true);
    const answers = await Promise.all([second, fourth]);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200]);
    expect(answers.every((a) => /HttpOnly/.test(String(a.headers['set-cookie'])))).toBe(true);
  });

  it('says the page is not built, rather than failing, when dist/web is missing', async () => {
    const page = await app.inject({ method: 'GET', url: '/tasks' });
    expect(page.statusCode).toBe(503);
    expect(page.body).toMatch(/npm run build/);
  });
});
