// The admin doors, tried as a hostile client would, against a real daemon:
// every admin route in every spelling a router might fold onto it, on the
// admin listener and on the web UI's TLS listener, without credentials; the
// Host allowlist; and the audit line of every change. Requests go out on raw
// sockets, byte for byte as written here: an HTTP client would normalise the
// very spellings under test.

import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRoutes, type AdminRoute } from '../../src/api/routes.js';
import { adminBudget } from '../../src/util/listener-budgets.js';
import { ferry, ferryOk, freePort, initAppliance, mergeConfig, removeState, startDaemon, stopAllDaemons, type Daemon } from '../support/cli.js';
import { SlowHorde } from '../support/slow-horde.js';

interface Listener {
  readonly name: string;
  readonly port: number;
  readonly tls: boolean;
  /** The UI's listener serves no metrics (a scraper uses the admin listener or its own). */
  readonly metrics: boolean;
}

/** What a route's own door answers a request without credentials on this listener: 401, or 404 where the listener does not serve it. */
const refusalOf = (listener: Listener, route: AdminRoute): number => (route === adminRoutes.metrics && !listener.metrics ? 404 : 401);

interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/** One request exactly as given, on a fresh connection; the answer's status line, headers and body. */
function rawRequest(to: Listener, request: { method: string; target: string; host?: string | null; headers?: Record<string, string>; body?: string }): Promise<RawAnswer> {
  const lines = [`${request.method} ${request.target} HTTP/1.1`];
  if (request.host !== null) lines.push(`Host: ${request.host ?? `127.0.0.1:${to.port}`}`);
  for (const [k, v] of Object.entries(request.headers ?? {})) lines.push(`${k}: ${v}`);
  if (request.body !== undefined) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(request.body)}`);
  lines.push('Connection: close', '', request.body ?? '');
  return new Promise((resolve, reject) => {
    const socket = to.tls ? tls.connect({ host: '127.0.0.1', port: to.port, rejectUnauthorized: false }) : net.connect({ host: '127.0.0.1', port: to.port });
    const chunks: Buffer[] = [];
    socket.on(to.tls ? 'secureConnect' : 'connect', () => socket.write(lines.join('\r\n')));
    socket.on('data', (b: Buffer) => chunks.push(b));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body });
    });
  });
}

const codeOf = (a: RawAnswer): string | undefined => {
  try {
    return (JSON.parse(a.body) as { code?: string }).code;
  } catch {
    return undefined;
  }
};

/** A route's path with each `:param` given a plain value. */
const concrete = (route: AdminRoute): string => route.path.replace(/:[a-z]+/gi, 'x');

const hex = (c: string, upper: boolean): string => {
  const h = (c.codePointAt(0) as number).toString(16).padStart(2, '0');
  return `%${upper ? h.toUpperCase() : h}`;
};
const segmentsOf = (p: string): string[] => p.split('/').filter(Boolean);
const joined = (segments: readonly string[]): string => `/${segments.join('/')}`;

/**
 * The spellings a router might fold onto a route (RFC 3986 percent-encoding,
 * dot segments, doubled slashes, case, absolute-form targets, ...), each a
 * function of the route's path and the listener's port.
 */
const SPELLINGS: readonly (readonly [string, (p: string, port: number) => string])[] = [
  ['plain', (p) => p],
  ['first letter percent-encoded', (p) => p.replace(/[a-z]/, (c) => hex(c, false))],
  ['first letter percent-encoded, upper-case hex', (p) => p.replace(/[a-z]/, (c) => hex(c, true))],
  ['every letter percent-encoded', (p) => p.replace(/[a-z0-9]/gi, (c) => hex(c, false))],
  ['last segment percent-encoded', (p) => { const s = segmentsOf(p); return joined([...s.slice(0, -1), (s.at(-1) as string).replace(/./g, (c) => hex(c, true))]); }],
  ['doubled leading slash', (p) => `/${p}`],
  ['doubled inner slash', (p) => { const s = segmentsOf(p); return s.length > 1 ? `/${s.slice(0, -1).join('/')}//${s.at(-1)}` : `${p}//`; }],
  ['trailing slash', (p) => `${p}/`],
  ['dot segment', (p) => { const s = segmentsOf(p); return joined([...s.slice(0, -1), '.', s.at(-1) as string]); }],
  ['dot-dot segment', (p) => { const s = segmentsOf(p); return joined([...s.slice(0, -1), 'nothing', '..', s.at(-1) as string]); }],
  ['leading dot segment', (p) => `/.${p}`],
  ['percent-encoded dot segments', (p) => { const s = segmentsOf(p); return joined([...s.slice(0, -1), 'nothing', '%2e%2e', s.at(-1) as string]); }],
  ['percent-encoded slash', (p) => { const s = segmentsOf(p); return s.length > 1 ? `/${s[0]}%2f${s.slice(1).join('/')}` : `/%2f${s[0]}`; }],
  ['backslash', (p) => { const s = segmentsOf(p); return s.length > 1 ? `/${s.slice(0, -1).join('/')}\\${s.at(-1)}` : `/\\${s[0]}`; }],
  ['absolute-form', (p, port) => `http://127.0.0.1:${port}${p}`],
  ['absolute-form, percent-encoded', (p, port) => `http://127.0.0.1:${port}${p.replace(/[a-z]/, (c) => hex(c, false))}`],
  ['absolute-form, doubled slash', (p, port) => `http://127.0.0.1:${port}/${p}`],
  ['absolute-form, another host', (p) => `http://evil.example${p}`],
  ['upper case', (p) => p.toUpperCase()],
  ['first segment capitalised', (p) => p.replace(/[a-z]/, (c) => c.toUpperCase())],
  ['query string', (p) => `${p}?token=x`],
  ['semicolon parameter', (p) => `${p};x=1`],
  ['percent-encoded NUL', (p) => `${p}%00`],
];

/** Every route and the methods it answers (fastify adds HEAD to each GET). */
type Door = readonly [id: string, route: AdminRoute, method: string];
const ROUTES: readonly Door[] = Object.entries(adminRoutes as Record<string, AdminRoute>)
  .filter(([, r]) => r.access !== 'public')
  .flatMap(([id, r]): Door[] => (r.method === 'GET' ? [[id, r, 'GET'], [id, r, 'HEAD']] : [[id, r, r.method]]));

const bodyFor = (method: string): string | undefined => (method === 'GET' || method === 'HEAD' || method === 'DELETE' ? undefined : '{}');

/** What a refused door may answer: never a 2xx, nor a 400 (the body was read, so the door was walked past), nor a 5xx. */
const DOOR_SHUT = [401, 404, 421];

let daemon: Daemon;
let appliance: { state: string; port: number; adminPort: number };
let token: string;
let admin: Listener;
let ui: Listener;

beforeAll(async () => {
  appliance = await initAppliance('doors');
  const uiPort = await freePort();
  await mergeConfig(appliance.state, { ui: { listen: `127.0.0.1:${uiPort}`, hosts: ['nas1.example.test'] } });
  daemon = await startDaemon(appliance, 'doors');
  token = (await readFile(path.join(appliance.state, 'admin.token'), 'utf8')).trim();
  admin = { name: 'admin', port: appliance.adminPort, tls: false, metrics: true };
  ui = { name: 'ui (TLS)', port: uiPort, tls: true, metrics: false };
}, 60_000);

afterAll(async () => {
  await stopAllDaemons();
  if (appliance) await removeState(appliance.state);
});

/** The 'admin change' lines the daemon logged so far, on one listener or on both. */
function auditLines(server?: 'admin' | 'ui'): Record<string, unknown>[] {
  return daemon
    .log()
    .split('\n')
    .filter((l) => l.includes('"admin change"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => server === undefined || l.server === server);
}

describe.each([
  ['admin', () => admin],
  ['ui (TLS)', () => ui],
])('every admin route, every spelling, no credentials: the %s listener', (_name, listener) => {
  it('answers only 401, 404 or 421, and changes nothing', async () => {
    const server = listener().tls ? 'ui' : 'admin';
    const before = auditLines(server).length;
    const seen: string[] = [];
    for (const [label, spell] of SPELLINGS) {
      for (const [id, route, method] of ROUTES) {
        const target = spell(concrete(route), listener().port);
        const body = bodyFor(method);
        const a = await rawRequest(listener(), { method, target, ...(body === undefined ? {} : { body }) });
        seen.push(`${label}: ${method} ${target} → ${a.status}`);
        expect(DOOR_SHUT, `${id} ${label}: ${method} ${target} answered ${a.status} ${a.body.slice(0, 200)}`).toContain(a.status);
        // The plain spelling of a route is the door itself: refused for the missing credentials.
        if (label === 'plain') expect(a.status, target).toBe(refusalOf(listener(), route));
        if (label === 'plain' && a.status === 401 && method !== 'HEAD') expect(codeOf(a), target).toBe('UNAUTHORIZED');
        // A spelling the router folds onto the route (percent-encoded letters) meets the same door.
        if (label.startsWith('first letter percent-encoded') || label === 'absolute-form' || label === 'absolute-form, percent-encoded') {
          expect(a.status, `${label}: ${method} ${target}`).toBe(refusalOf(listener(), route));
        }
      }
    }
    expect(seen.length).toBe(SPELLINGS.length * ROUTES.length);
    // Nothing was changed: every change request was refused at the door, and logged so.
    const lines = auditLines(server).slice(before);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.result !== 'refused' || l.actor !== 'anonymous')).toEqual([]);
    const peers = await ferryOk(appliance.state, ['peer', 'list', '--json']);
    expect(JSON.parse(peers)).toEqual([]);
  });

  it('holds for random encodings of random routes (property)', async () => {
    // Each character of the path kept, percent-encoded (either hex case), or, for a letter, in
    // the other case; a slash possibly doubled, a dot segment possibly added. A spelling that only
    // percent-encodes letters and digits is folded onto the route by the router: it must meet the
    // route's door (401); any other spelling names no route (404), or is the route (401).
    const spelling = fc.record({
      route: fc.integer({ min: 0, max: ROUTES.length - 1 }),
      ops: fc.array(fc.constantFrom('keep', 'keep', 'keep', 'encode', 'encode-upper', 'case', 'double', 'dot'), { minLength: 64, maxLength: 64 }),
    });
    await fc.assert(
      fc.asyncProperty(spelling, async ({ route: i, ops }) => {
        const [id, route, method] = ROUTES[i] as Door;
        const plain = concrete(route);
        let target = '';
        let foldsOnto = true;
        [...plain].forEach((c, k) => {
          const op = ops[k % ops.length] as string;
          if (c === '/' && k > 0 && (op === 'double' || op === 'dot')) {
            target += op === 'double' ? '//' : '/./';
            foldsOnto = false;
          } else if (/[a-z0-9]/i.test(c) && (op === 'encode' || op === 'encode-upper')) {
            target += hex(c, op === 'encode-upper');
          } else if (/[a-z]/.test(c) && op === 'case') {
            target += c.toUpperCase();
            foldsOnto = false;
          } else {
            target += c;
          }
        });
        const body = bodyFor(method);
        const a = await rawRequest(listener(), { method, target, ...(body === undefined ? {} : { body }) });
        expect(DOOR_SHUT, `${id}: ${method} ${target} answered ${a.status} ${a.body.slice(0, 200)}`).toContain(a.status);
        if (foldsOnto) expect(a.status, `${id}: ${method} ${target}`).toBe(refusalOf(listener(), route));
      }),
      { numRuns: 150 },
    );
  });
});

describe('the doors open with credentials', () => {
  // The same requests with the token pass: the refusals above are the doors', not a broken route.
  it.each([
    ['admin', () => admin],
    ['ui (TLS)', () => ui],
  ])('the %s listener answers the token, in the plain and the percent-encoded spelling', async (_name, listener) => {
    const targets = [adminRoutes.status.path, adminRoutes.status.path.replace('a', '%61')];
    if (listener().metrics) targets.push(adminRoutes.metrics.path.replace('m', '%6d'));
    for (const target of targets) {
      const a = await rawRequest(listener(), { method: 'GET', target, headers: { authorization: `Bearer ${token}` } });
      expect(a.status, `${target}: ${a.body.slice(0, 200)}`).toBe(200);
    }
  });
});

describe('the Host allowlist', () => {
  it.each([
    ['evil.example', 421],
    ['evil.example:80', 421],
    ['127.0.0.1.evil.example', 421],
    ['localhost.evil.example', 421],
    ['nas1.example.test', 421], // a UI name is not the admin listener's
    ['localhost', 200],
    ['127.0.0.1', 200],
    ['[::1]', 200],
  ])('admin listener, Host %s: %i', async (host, status) => {
    const a = await rawRequest(admin, { method: 'GET', target: adminRoutes.status.path, host: host.includes(':') && !host.startsWith('[') ? host : `${host}:${admin.port}`, headers: { authorization: `Bearer ${token}` } });
    expect(a.status, a.body).toBe(status);
    if (status === 421) expect(codeOf(a)).toBe('UNKNOWN_HOST');
  });

  it('refuses a request without a Host, and an absolute-form target naming another host, before routing', async () => {
    const none = await rawRequest(admin, { method: 'GET', target: adminRoutes.status.path, host: null, headers: { authorization: `Bearer ${token}` } });
    expect(none.status).toBe(400); // HTTP/1.1 requires Host: node refuses before any of Ferry runs
    const other = await rawRequest(admin, { method: 'GET', target: `http://evil.example${adminRoutes.status.path}`, headers: { authorization: `Bearer ${token}` } });
    expect([other.status, codeOf(other)]).toEqual([421, 'UNKNOWN_HOST']);
    expect((JSON.parse(other.body) as { message: string }).message).toMatch(/answers only to localhost, 127\.0\.0\.1, ::1/);
  });

  it.each([
    ['evil.example', 421],
    ['127.0.0.1', 200],
    ['nas1.example.test', 200], // config.json's ui.hosts
    ['NAS1.EXAMPLE.TEST', 200],
  ])('UI listener, Host %s: the page answers %i', async (host, status) => {
    const a = await rawRequest(ui, { method: 'GET', target: '/', host: `${host}:${ui.port}`, headers: { accept: 'text/html' } });
    expect(a.status, a.body.slice(0, 200)).toBe(status);
  });

  it('checks a sign-in\'s Origin against the allowlist, not against the request\'s own Host', async () => {
    const login = (origin: string, host = `127.0.0.1:${ui.port}`) =>
      rawRequest(ui, { method: 'POST', target: '/ui/login', host, headers: { origin }, body: JSON.stringify({ password: 'not set yet at all' }) });
    // A page on another origin, even one whose name resolves here: refused.
    const evil = await login('https://evil.example');
    expect([evil.status, codeOf(evil)], evil.body).toEqual([403, 'CSRF_REQUIRED']);
    // An allowed name other than the Host the request carries: a name the admin uses for this box.
    const named = await login(`https://nas1.example.test:${ui.port}`);
    expect([named.status, codeOf(named)], named.body).toEqual([401, 'NO_PASSWORD']);
  });
});

describe('the audit trail of admin changes', () => {
  it('logs one info line per change (who, from where, which route and names, result), none for reads, and counts them', async () => {
    // The admin listener's lines (the UI listener's sign-ins of the tests above may still be on their way).
    const before = auditLines('admin').length;
    const stranger = await rawRequest(admin, { method: 'POST', target: adminRoutes.accept.path, body: '{"invite":"x"}' });
    expect(stranger.status).toBe(401);
    expect((await ferry(appliance.state, ['service', 'disable'])).code).toBe(0);
    expect((await ferry(appliance.state, ['service', 'enable'])).code).toBe(0);
    const missing = await ferry(appliance.state, ['task', 'remove', 'no-such-task']);
    expect(missing.code).toBe(2);
    expect((await ferry(appliance.state, ['status'])).code).toBe(0);
    expect((await ferry(appliance.state, ['trail', 'send'])).code).toBe(0);
    const lines = auditLines('admin').slice(before);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', actor: 'anonymous', from: '127.0.0.1', route: 'POST /api/v1/pair/accept', status: 401, result: 'refused', code: 'UNAUTHORIZED' }),
      expect.objectContaining({ level: 'info', actor: 'token', from: '127.0.0.1', route: 'PUT /api/v1/service', status: 200, result: 'ok', code: null }),
      expect.objectContaining({ level: 'info', actor: 'token', from: '127.0.0.1', route: 'PUT /api/v1/service', status: 200, result: 'ok', code: null }),
      expect.objectContaining({
        level: 'info',
        actor: 'token',
        route: 'DELETE /api/v1/tasks/:name',
        params: { name: 'no-such-task' },
        status: 404,
        result: 'failed',
        code: 'NOT_FOUND',
      }),
    ]);
    const metrics = await rawRequest(admin, { method: 'GET', target: adminRoutes.metrics.path, headers: { authorization: `Bearer ${token}` } });
    expect(metrics.body).toMatch(/ferry_admin_changes_total\{route="PUT \/api\/v1\/service",actor="token",result="ok"\} 2\b/);
    expect(metrics.body).toMatch(/ferry_admin_changes_total\{route="DELETE \/api\/v1\/tasks\/:name",actor="token",result="failed"\} 1\b/);
    // The stranger's refusal was counted too, as anonymous.
    expect(metrics.body).toMatch(/ferry_admin_changes_total\{route="POST \/api\/v1\/pair\/accept",actor="anonymous",result="refused"\} [1-9]/);
  });
});

describe('the admin and UI listeners’ budgets, against a hostile client', () => {
  // As test/e2e/doors-peer.test.ts: 5 s of slack for a loaded machine.
  const slackMs = 5_000;
  const lifetime = adminBudget.untrusted.lifetimeMs;

  it('cuts strangers that never finish (no TLS handshake, slow headers) when their lifetime ends, and over the per-address cap at once', async () => {
    const perAddress = adminBudget.untrusted.perAddress;
    // TCP to the TLS port, and nothing more: a handshake never started.
    const silent = new SlowHorde({ port: ui.port, addresses: ['127.0.0.60'], size: perAddress + 6, tickleMs: 60_000, opening: () => '', replaceAfterMs: null });
    // Headers that never end, on the admin listener.
    const slow = new SlowHorde({ port: admin.port, addresses: ['127.0.0.61'], size: 4, tickleMs: 60_000, opening: () => `GET ${adminRoutes.status.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-slow: `, replaceAfterMs: null });
    silent.start();
    slow.start();
    const deadline = Date.now() + lifetime + 60_000;
    while (silent.cut + slow.cut < perAddress + 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const livedOf = (lives: Awaited<ReturnType<SlowHorde['stop']>>): number[] => lives.map((l) => (l.cutAt === null ? Infinity : l.cutAt - l.openedAt)).sort((x, y) => x - y);
    const silentLived = livedOf(await silent.stop());
    const slowLived = livedOf(await slow.stop());
    const shown = (ms: number[]): string => `${Math.round(ms[0] ?? 0)} to ${Math.round(ms.at(-1) ?? 0)} ms`;
    console.log(`admin and UI strangers: over the cap cut after ${shown(silentLived.slice(0, 6))}, no handshake ${shown(silentLived.slice(6))}, slow headers ${shown(slowLived)}`);
    expect([silentLived.length, slowLived.length]).toEqual([perAddress + 6, 4]);
    // The 6 over the cap went at once; a TLS handshake not begun ends at its deadline (before the
    // lifetime); slow headers between their own deadline (node checks it on a 30 s round, so it may
    // come first) and the lifetime, which cuts them at the latest.
    const within = (ms: number[], from: number, to: number): boolean => ms.every((x) => x >= from - 250 && x <= to + slackMs);
    expect(silentLived.slice(0, 6).every((ms) => ms < adminBudget.handshakeMs / 2)).toBe(true);
    expect(within(silentLived.slice(6), adminBudget.handshakeMs, adminBudget.handshakeMs), silentLived.join(' ')).toBe(true);
    expect(within(slowLived, adminBudget.headersMs, lifetime), slowLived.join(' ')).toBe(true);
  });

  it('refuses a sign-in body over 4 KiB before reading it, and closes an idle keep-alive connection', async () => {
    const big = await rawRequest(ui, { method: 'POST', target: '/ui/login', body: JSON.stringify({ password: 'x'.repeat(5000) }) });
    expect(big.status).toBe(413);
    // A request with the token on a keep-alive connection, then nothing: the listener closes it.
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port: admin.port });
      let answeredAt = 0;
      socket.on('connect', () => socket.write(`GET ${adminRoutes.status.path} HTTP/1.1\r\nHost: 127.0.0.1:${admin.port}\r\nauthorization: Bearer ${token}\r\n\r\n`));
      socket.on('data', () => (answeredAt ||= performance.now()));
      socket.on('error', reject);
      socket.on('close', () => resolve(performance.now() - answeredAt));
    });
    expect(closedAfter).toBeGreaterThanOrEqual(adminBudget.keepAliveMs - 250);
    expect(closedAfter).toBeLessThanOrEqual(adminBudget.keepAliveMs + slackMs);
  });
});
