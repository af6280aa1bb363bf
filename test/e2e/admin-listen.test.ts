// Where the admin API listens: a unix socket (0600, a stale one replaced
// after a crash, a live one never taken over), and loopback unless the admin
// asks otherwise, explicitly, and is warned at every start.

import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusView } from '../../src/api/schemas.js';
import { ferry, ferryJson, ferryOk, freePort, mergeConfig, removeState, startDaemon, stopAllDaemons } from '../support/cli.js';

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-admin-'));
});

afterAll(async () => {
  await stopAllDaemons();
  await rm(scratch, { recursive: true, force: true });
});

async function init(name: string, extra: string[]): Promise<{ state: string; port: number; adminPort: number; code: number | null; stderr: string }> {
  const state = path.join(scratch, name);
  const port = await freePort();
  const r = await ferry(state, ['init', '--name', name, '--listen', `127.0.0.1:${port}`, ...extra]);
  return { state, port, adminPort: 0, code: r.code, stderr: r.stderr };
}

describe('the admin API on a unix socket', () => {
  it('answers there, 0600, and comes back after a crash left the socket behind', async () => {
    const socket = path.join(scratch, 'run', 'admin.sock');
    const a = await init('sock', ['--admin', `unix:${socket}`]);
    expect(a.code, a.stderr).toBe(0);
    const first = await startDaemon(a, 'sock');
    expect((await stat(socket)).mode & 0o777).toBe(0o600);
    const status = await ferryJson<StatusView>(a.state, ['status']);
    expect(status.admin).toBe(`unix:${socket}`);

    // A second daemon on the same state dir is refused by its lock; one of another state dir on the
    // same socket (its own peer port) is refused at the socket: it never takes over a live one.
    const second = await ferry(a.state, ['serve']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another 'ferry serve' \(pid \d+\) is running on the state dir .*\[DAEMON_RUNNING\]/);
    const b = await init('sock-other', ['--admin', `unix:${socket}`]);
    expect(b.code, b.stderr).toBe(0);
    await mergeConfig(b.state, { listen: `127.0.0.1:${await freePort()}` });
    const other = await ferry(b.state, ['serve']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/cannot listen for the admin API on unix:.*another daemon answers there .*\[LISTEN_FAILED\]/);
    await removeState(b.state);
    expect((await ferryJson<StatusView>(a.state, ['status'])).id).toBe(status.id);

    // SIGKILL leaves the socket file; the next start replaces it.
    await first.kill();
    await stat(socket);
    expect((await ferry(a.state, ['status'])).code).toBe(3);
    await startDaemon(a, 'sock');
    expect((await ferryJson<StatusView>(a.state, ['status'])).id).toBe(status.id);
    await stopAllDaemons();
    await removeState(a.state);
  });
});

describe('the admin API beyond loopback', () => {
  it('is refused at init without --admin-beyond-loopback, changing nothing', async () => {
    const adminPort = await freePort();
    const a = await init('open', ['--admin', `0.0.0.0:${adminPort}`]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--admin 0\.0\.0\.0:\d+ is reachable from other machines: .* pass --admin-beyond-loopback if you mean it \[INVALID_INPUT\]/);
    await expect(stat(path.join(a.state, 'config.json'))).rejects.toThrow();
  });

  it('with the flag: it listens, and the daemon warns at every start', async () => {
    const adminPort = await freePort();
    const a = await init('opened', ['--admin', `0.0.0.0:${adminPort}`, '--admin-beyond-loopback']);
    expect(a.code, a.stderr).toBe(0);
    const daemon = await startDaemon({ ...a, adminPort }, 'opened');
    expect(JSON.parse(await ferryOk(a.state, ['status', '--json'])) as StatusView).toMatchObject({ admin: `0.0.0.0:${adminPort}` });
    await daemon.stop();
    expect(daemon.log()).toMatch(/the admin API listens beyond loopback/);
    await removeState(a.state);
  });
});
