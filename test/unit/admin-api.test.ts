// The admin API's validation, through fastify.inject with ports that must not
// be reached: a request refused by its schema never gets to the appliance.

import { afterAll, describe, expect, it } from 'vitest';
import type { AdminPorts, PoolView } from '../../src/api/ports.js';
import { ADMIN_PREFIX } from '../../src/api/routes.js';
import { createAdminApi } from '../../src/api/server.js';

const TOKEN = 'test-token-0123456789';
const reached: string[] = [];
// A pool as the appliance would answer it: the answer is checked against its schema on the way out.
const pool: PoolView = {
  name: 'q',
  path: '/mnt/q',
  createdAt: '2026-01-01T00:00:00.000Z',
  grants: [],
  policy: { keepAtLeast: 3, keepDays: null, quotaBytes: null, maxTransfers: null },
  peerPolicies: [],
  health: null,
};
let answer: unknown = pool;
// Every port records that it was called and answers `answer`.
const ports = new Proxy({} as AdminPorts, {
  get: (_t, name: string) => () => {
    reached.push(name);
    return Promise.resolve(answer);
  },
});
const app = createAdminApi({ ports, token: TOKEN });
afterAll(() => app.close());

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token: string | null = TOKEN) {
  const res = await app.inject({
    method,
    url: ADMIN_PREFIX + url,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  });
  return { status: res.statusCode, body: res.json<{ code?: string; message?: string }>() };
}

describe('the admin API refuses before the appliance is reached', () => {
  it.each<[string, 'GET' | 'POST' | 'PUT' | 'DELETE', string, unknown, string | null, number, string, RegExp]>([
    ['no token', 'GET', '/status', undefined, null, 401, 'UNAUTHORIZED', /needs the token/],
    ['a wrong token', 'GET', '/status', undefined, 'nope', 401, 'UNAUTHORIZED', /needs the token/],
    ['a NUL in a share path', 'POST', '/tasks', { name: 't', sharePath: '/mnt/a\u0000b', peer: 'p', pool: 'q', every: 60 }, TOKEN, 400, 'INVALID_INPUT', /sharePath: share path must not contain a NUL/],
    ['a relative share path', 'POST', '/tasks', { name: 't', sharePath: 'mnt/a', peer: 'p', pool: 'q', every: 60 }, TOKEN, 400, 'INVALID_INPUT', /must be absolute/],
    ['a NUL in a pool path', 'POST', '/pools', { name: 'q', path: '/mnt/\u0000' }, TOKEN, 400, 'INVALID_INPUT', /pool path must not contain a NUL/],
    ['a share name for the receiver that is a path', 'POST', '/tasks', { name: 't', sharePath: '/mnt/a', shareName: '../x', peer: 'p', pool: 'q', every: 60 }, TOKEN, 400, 'INVALID_INPUT', /shareName: share name/],
    ['a grant without a peer', 'POST', '/pools/q/grants', {}, TOKEN, 400, 'INVALID_INPUT', /peer/],
    ['a floor of 0 replicas', 'PUT', '/pools/q/policy', { keepAtLeast: 0 }, TOKEN, 400, 'INVALID_INPUT', /keepAtLeast/],
    ['a negative quota', 'PUT', '/pools/q/policy', { quotaBytes: -1 }, TOKEN, 400, 'INVALID_INPUT', /quotaBytes/],
    ['an invite granting a pool with a bad name', 'POST', '/pair/invite', { grantPool: '.hidden' }, TOKEN, 400, 'INVALID_INPUT', /grantPool: pool name/],
  ])('%s', async (_label, method, url, body, token, status, code, message) => {
    reached.length = 0;
    const res = await call(method, url, body, token);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(res.body.message).toMatch(message);
    expect(reached).toEqual([]);
  });

  it('passes a valid policy change through to the appliance', async () => {
    reached.length = 0;
    answer = pool;
    const res = await call('PUT', '/pools/q/policy', { keepAtLeast: 3, keepDays: null });
    expect(res.status).toBe(200);
    expect(reached).toEqual(['setPoolPolicy']);
  });

  it('answers only what the contract says: a field the schema lacks never leaves, an answer that breaks it is a 500', async () => {
    answer = { ...pool, secret: 'not for the wire' };
    const ok = await call('PUT', '/pools/q/policy', { keepAtLeast: 3 });
    expect(ok.status).toBe(200);
    expect(ok.body).not.toHaveProperty('secret');
    answer = { ...pool, grants: 'everyone' };
    const broken = await call('PUT', '/pools/q/policy', { keepAtLeast: 3 });
    expect(broken.status).toBe(500);
    expect(broken.body.code).toBe('INTERNAL');
    answer = pool;
  });
});

describe('deny by default', () => {
  it('will not start with a route that declares no access, and names it', async () => {
    const other = createAdminApi({ ports, token: TOKEN });
    try {
      other.get('/debug/dump', () => ({ secrets: true }));
      await expect(other.ready()).rejects.toThrow(/admin routes without a declared access: GET \/debug\/dump/);
    } finally {
      await other.close().catch(() => undefined);
    }
  });

  it('starts when every route declares one, and a declared public route needs no token', async () => {
    const other = createAdminApi({ ports, token: TOKEN });
    try {
      other.get('/hello', { config: { access: 'public' } }, () => ({ hello: true }));
      await other.ready();
      expect((await other.inject({ method: 'GET', url: '/hello', headers: { host: '127.0.0.1' } })).statusCode).toBe(200);
    } finally {
      await other.close();
    }
  });
});
