// Who may use the web UI, against a real daemon on real sockets: the password
// `ferry admin password` sets (a scrypt hash, 0600), sign-in and its rate
// limit, the session cookie's flags, CSRF on every change, the
// Content-Security-Policy, and the TLS listener whose certificate fingerprint
// `ferry status` shows.

import { spawn } from 'node:child_process';
import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusView } from '../../src/api/views.js';
import { verifyPassword } from '../../src/state/ui-password.js';
import { ferry, ferryJson, freePort, initAppliance, mergeConfig, removeState, startDaemon, stopAllDaemons, type Daemon } from '../support/cli.js';
import { ferryArgv } from '../support/launch.js';

const PASSWORD = 'correct horse battery';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => { code?: string; message?: string; csrf?: string } & Record<string, unknown>;
}

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

async function call(base: string, method: string, url: string, options: { cookie?: string; csrf?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.csrf) headers['x-csrf-token'] = options.csrf;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const r = await request(`${base}${url}`, {
    method: method as 'GET',
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    dispatcher: insecure,
  });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, text, json: () => JSON.parse(text) as ReturnType<Answer['json']> };
}

/** The session cookie a sign-in set, as a Cookie header, and the Set-Cookie line itself. */
function cookieOf(a: Answer): { cookie: string; line: string } {
  const raw = a.headers['set-cookie'];
  const line = (Array.isArray(raw) ? raw : [raw ?? '']).find((l) => l.includes('ferry-session')) ?? '';
  return { cookie: line.split(';')[0] ?? '', line };
}

async function signIn(base: string, password = PASSWORD): Promise<{ cookie: string; csrf: string; line: string }> {
  const a = await call(base, 'POST', '/ui/login', { body: { password } });
  expect(a.status, a.text).toBe(200);
  return { ...cookieOf(a), csrf: String(a.json().csrf) };
}

/**
 * `ferry admin password` on a pseudo-terminal (python's pty module, given an
 * argument array): each answer is typed once its prompt is on the screen.
 */
function passwordOnTerminal(state: string, answers: readonly string[]): Promise<{ code: number | null; screen: string }> {
  const argv = ['-c', 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)', process.execPath, ...ferryArgv(['--state', state, 'admin', 'password'])];
  return new Promise((resolve, reject) => {
    const child = spawn('python3', argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm' } });
    let screen = '';
    const prompts = [/new web UI password: $/, /again: $/];
    let typed = 0;
    const onData = (b: Buffer) => {
      screen += b.toString();
      const prompt = prompts[typed];
      if (prompt?.test(screen) && typed < answers.length) child.stdin.write(`${answers[typed++] ?? ''}\r`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

function setPassword(state: string, password: string) {
  return ferry(state, ['admin', 'password'], { input: `${password}\n` });
}

describe('web UI access', () => {
  let appliance: { state: string; port: number; adminPort: number };
  let daemon: Daemon;
  let local: string;
  let lan: string;

  beforeAll(async () => {
    appliance = await initAppliance('webaccess');
    const uiPort = await freePort();
    await mergeConfig(appliance.state, { ui: { listen: `127.0.0.1:${uiPort}` } });
    daemon = await startDaemon(appliance, 'webaccess');
    local = `http://127.0.0.1:${appliance.adminPort}`;
    lan = `https://127.0.0.1:${uiPort}`;
  }, 60_000);

  afterAll(async () => {
    await stopAllDaemons();
    await insecure.close();
    if (appliance) await removeState(appliance.state);
  });

  it('serves the page under a strict Content-Security-Policy, for every path the UI routes', async () => {
    for (const url of ['/', '/tasks', '/tasks/nightly', '/receive']) {
      const page = await call(local, 'GET', url);
      expect(page.status, url).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.text).toContain('<script type="module" src="/assets/app.js"');
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(page.headers['x-content-type-options']).toBe('nosniff');
    }
    const script = await call(local, 'GET', '/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    for (const url of ['/assets/nothing.js', '/ui/nothing']) {
      const miss = await call(local, 'GET', url);
      expect([url, miss.status, miss.json().code]).toEqual([url, 404, 'NOT_FOUND']);
    }
    // A path no route matches is refused as not found, under the API prefix as anywhere
    // (access is decided on the route the router matched, and there is none).
    const missing = await call(local, 'GET', '/api/v1/nothing-here');
    expect([missing.status, missing.json().code]).toEqual([404, 'NOT_FOUND']);
  });

  it('refuses to sign in before a password is set, and says how to set one', async () => {
    const session = await call(local, 'GET', '/ui/session');
    expect([session.status, session.json().code]).toEqual([401, 'NO_PASSWORD']);
    const login = await call(local, 'POST', '/ui/login', { body: { password: 'anything at all' } });
    expect([login.status, login.json().code]).toEqual([401, 'NO_PASSWORD']);
    expect(login.json().message).toContain('ferry admin password');
    const status = await ferryJson<StatusView>(appliance.state, ['status']);
    expect(status.ui.passwordSet).toBe(false);
  });

  it('sets the password as a memory-hard hash readable by root only, and refuses a short one', async () => {
    const short = await setPassword(appliance.state, 'short');
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/at least 10 characters/);
    const set = await setPassword(appliance.state, PASSWORD);
    expect(set.code, set.stderr).toBe(0);
    const file = path.join(appliance.state, 'ui-password');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const hash = await readFile(file, 'utf8');
    expect(hash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    expect(hash).not.toContain(PASSWORD);
    const status = await ferryJson<StatusView>(appliance.state, ['status']);
    expect(status.ui.passwordSet).toBe(true);
  });

  it('refuses a wrong password, and signs in with an HttpOnly SameSite=Strict cookie', async () => {
    const wrong = await call(local, 'POST', '/ui/login', { body: { password: 'not the password' } });
    expect([wrong.status, wrong.json().code]).toEqual([401, 'WRONG_PASSWORD']);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const { cookie, line, csrf } = await signIn(local);
    expect(line).toMatch(/^ferry-session=[A-Za-z0-9_-]{43};/);
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Strict/);
    expect(line).toMatch(/Path=\//);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const status = await call(local, 'GET', '/api/v1/status', { cookie });
    expect(status.status).toBe(200);
    expect(status.json().name).toBe('webaccess');
    const session = await call(local, 'GET', '/ui/session', { cookie });
    expect(session.json().csrf).toBe(csrf);
  });

  it('refuses a change without the CSRF token, with a wrong one, or from another site', async () => {
    const { cookie, csrf } = await signIn(local);
    const refusals = [
      { what: 'no token', csrf: undefined, headers: {} },
      { what: 'a wrong token', csrf: 'x'.repeat(43), headers: {} },
      { what: 'another origin', csrf, headers: { origin: 'http://evil.example' } },
      { what: 'a cross-site fetch', csrf, headers: { 'sec-fetch-site': 'cross-site' } },
    ];
    for (const r of refusals) {
      const a = await call(local, 'PUT', '/api/v1/service', { cookie, ...(r.csrf ? { csrf: r.csrf } : {}), headers: r.headers, body: { enabled: false } });
      expect([r.what, a.status, a.json().code]).toEqual([r.what, 403, 'CSRF_REQUIRED']);
    }
    expect((await ferryJson<StatusView>(appliance.state, ['status'])).service).toBe('enabled');
    const ok = await call(local, 'PUT', '/api/v1/service', { cookie, csrf, headers: { origin: local, 'sec-fetch-site': 'same-origin' }, body: { enabled: false } });
    expect(ok.status, ok.text).toBe(200);
    expect((await ferryJson<StatusView>(appliance.state, ['status'])).service).toBe('disabled');
    await call(local, 'PUT', '/api/v1/service', { cookie, csrf, body: { enabled: true } });
    // Reading needs no token: a GET changes nothing.
    expect((await call(local, 'GET', '/api/v1/tasks', { cookie })).status).toBe(200);
  });

  it('keeps the admin token working, and refuses a request with neither token nor session', async () => {
    const token = (await readFile(path.join(appliance.state, 'admin.token'), 'utf8')).trim();
    expect((await call(local, 'GET', '/api/v1/status', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const none = await call(local, 'GET', '/api/v1/status');
    expect([none.status, none.json().code]).toEqual([401, 'UNAUTHORIZED']);
    const stale = await call(local, 'GET', '/api/v1/status', { cookie: 'ferry-session=made-up' });
    expect([stale.status, stale.json().code]).toEqual([401, 'LOGIN_REQUIRED']);
    // The metrics stay behind the token: a session does not scrape them.
    const { cookie } = await signIn(local);
    expect((await call(local, 'GET', '/metrics', { cookie })).status).toBe(401);
  });

  it('ends a session at sign-out, and every session when the password is set again', async () => {
    const a = await signIn(local);
    const b = await signIn(local);
    expect((await call(local, 'POST', '/ui/logout', { cookie: a.cookie })).json().code).toBe('CSRF_REQUIRED');
    expect((await call(local, 'POST', '/ui/logout', { cookie: a.cookie, csrf: a.csrf })).status).toBe(200);
    expect((await call(local, 'GET', '/api/v1/status', { cookie: a.cookie })).json().code).toBe('LOGIN_REQUIRED');
    expect((await call(local, 'GET', '/api/v1/status', { cookie: b.cookie })).status).toBe(200);
    expect((await setPassword(appliance.state, `${PASSWORD} again`)).code).toBe(0);
    expect((await call(local, 'GET', '/api/v1/status', { cookie: b.cookie })).json().code).toBe('LOGIN_REQUIRED');
    expect((await call(local, 'POST', '/ui/login', { body: { password: PASSWORD } })).json().code).toBe('WRONG_PASSWORD');
    expect((await setPassword(appliance.state, PASSWORD)).code).toBe(0);
  });

  it('serves the LAN over TLS with the certificate whose fingerprint `ferry status` shows; its cookie is Secure and __Host-', async () => {
    const status = await ferryJson<StatusView>(appliance.state, ['status']);
    expect(status.ui.lan).toBe(`${lan}/`);
    expect(status.ui.local).toBe(`${local}/`);
    const port = Number(new URL(lan).port);
    const served = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(status.ui.tlsFingerprint).toBe(served);
    const text = await ferry(appliance.state, ['status']);
    expect(text.stdout).toContain(`SHA-256 ${served}`);
    const page = await call(lan, 'GET', '/');
    expect(page.status).toBe(200);
    expect(String(page.headers['strict-transport-security'])).toMatch(/max-age=/);
    const login = await call(lan, 'POST', '/ui/login', { body: { password: PASSWORD } });
    const raw = login.headers['set-cookie'];
    const line = String(Array.isArray(raw) ? raw[0] : raw);
    expect(line).toMatch(/^__Host-ferry-session=/);
    expect(line).toMatch(/Secure/);
    // A session of one listener is not one of the other.
    const cookie = line.split(';')[0] ?? '';
    expect((await call(lan, 'GET', '/api/v1/status', { cookie })).status).toBe(200);
    expect((await call(local, 'GET', '/api/v1/status', { cookie })).status).toBe(401);
  });

  it('asks for the password twice on a terminal, never echoes it, and changes nothing when the two differ', async () => {
    const file = path.join(appliance.state, 'ui-password');
    const read = () => readFile(file, 'utf8').catch(() => null);
    const before = await read();
    const differ = await passwordOnTerminal(appliance.state, ['one password typed', 'another one typed']);
    expect(differ.code).toBe(2);
    expect(differ.screen).toMatch(/the two passwords differ; nothing changed/);
    expect(await read()).toBe(before);
    const same = await passwordOnTerminal(appliance.state, [PASSWORD, PASSWORD]);
    expect(same.code, same.screen).toBe(0);
    expect(same.screen).not.toContain(PASSWORD);
    expect(same.screen).toMatch(/web UI password set/);
    const after = (await read()) ?? '';
    expect(after).not.toBe(before);
    // The one typed (not a stray newline or carriage return) is the one kept; checked here rather than by a sign-in, which the rate limit counts.
    expect(await verifyPassword(PASSWORD, after)).toBe(true);
  });

  it('limits sign-in attempts per client', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) codes.push(String((await call(lan, 'POST', '/ui/login', { body: { password: `guess number ${i}` } })).json().code));
    expect(codes.slice(0, 9).every((c) => c === 'WRONG_PASSWORD')).toBe(true);
    expect(codes.at(-1)).toBe('RATE_LIMITED');
    const limited = await call(lan, 'POST', '/ui/login', { body: { password: PASSWORD } });
    expect(limited.status).toBe(429);
    expect(limited.json().message).toMatch(/try again in \d+ s/);
    expect(daemon.log()).toMatch(/web UI sign-in refused/);
  });
});
