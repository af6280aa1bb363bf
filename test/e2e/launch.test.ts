// The daemon says so when node was started without the flags of the `ferry`
// command (src/daemon/heap.ts), and says nothing when it was; it gives up at
// once when it cannot listen.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ferry, freePort, initAppliance, mergeConfig, removeState, startDaemon, stopAllDaemons } from '../support/cli.js';

const WARNING = /node was started without the flags of the ferry command/;
const states: string[] = [];

afterAll(async () => {
  await stopAllDaemons();
  for (const state of states) await removeState(state);
});

it('warns, naming the flag, when started as plain `node main.js serve`', async () => {
  const appliance = await initAppliance('plain');
  states.push(appliance.state);
  const daemon = await startDaemon(appliance, 'plain', { nodeFlags: [] });
  await daemon.stop();
  expect(daemon.log()).toMatch(WARNING);
  expect(daemon.log()).toMatch(/--max-semi-space-size=2/);
});

it('does not warn when started as the ferry command starts', async () => {
  const appliance = await initAppliance('flagged');
  states.push(appliance.state);
  const daemon = await startDaemon(appliance, 'flagged');
  await daemon.stop();
  expect(daemon.log()).toMatch(/appliance started/);
  expect(daemon.log()).not.toMatch(WARNING);
  // Nor with any deprecation of its libraries (fastify's FSTDEP023 was printed at every start, twice).
  expect(daemon.log()).not.toMatch(/DeprecationWarning|FSTDEP/);
});

it('exits at once, non-zero, with one sentence, when its peer or admin port is taken', async () => {
  const appliance = await initAppliance('blocked');
  states.push(appliance.state);
  // What a start that succeeds costs here (to the first answer of its admin API), for comparison.
  const t0 = performance.now();
  const started = await startDaemon(appliance, 'blocked');
  const startup = performance.now() - t0;
  await started.stop();
  expect((await ferry(appliance.state, ['status'])).code).toBe(3);
  for (const port of [appliance.port, appliance.adminPort]) {
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const t1 = performance.now();
      const served = await ferry(appliance.state, ['serve']);
      const took = performance.now() - t1;
      expect(served.code).toBe(1);
      const lines = served.stderr.trim().split('\n').filter((l) => l.startsWith('ferry:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`cannot listen (for peers|for the admin API) on 127\\.0\\.0\\.1:${port}: the address is in use .* \\[LISTEN_FAILED\\]`));
      // It gave up at once instead of staying up half started (which would last until some timeout, 10 s or more).
      expect(took).toBeLessThan(startup + 1_000);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  }
});

it('refuses a second serve on a running daemon’s state dir at once, naming its pid, whatever the ports; the first goes on undisturbed', async () => {
  const appliance = await initAppliance('twice');
  states.push(appliance.state);
  // Ports the system chooses: nothing but the lock can stop a second daemon from binding its own.
  await mergeConfig(appliance.state, { listen: '127.0.0.1:0', admin: '127.0.0.1:0', advertise: '127.0.0.1:0' });
  const first = await startDaemon(appliance, 'twice');
  const bound = await readFile(path.join(appliance.state, 'bound.json'), 'utf8');
  const second = await ferry(appliance.state, ['serve']);
  expect(second.code).toBe(1);
  const lines = second.stderr.trim().split('\n').filter((l) => l.startsWith('ferry:'));
  expect(lines).toEqual([`ferry: another 'ferry serve' (pid ${first.process.pid}) is running on the state dir ${appliance.state}: stop it first (systemctl stop ferry), or give this one another --state [DAEMON_RUNNING]`]);
  // The first still answers, from the address it wrote, which the second left alone.
  expect(await readFile(path.join(appliance.state, 'bound.json'), 'utf8')).toBe(bound);
  expect((await ferry(appliance.state, ['status'])).code).toBe(0);
  // Once it stopped (or died), the next one starts.
  await first.kill();
  const next = await startDaemon(appliance, 'twice-again');
  expect((await ferry(appliance.state, ['status'])).code).toBe(0);
  await next.stop();
});

it('refuses at init a listener on another’s port, with one sentence naming both', async () => {
  const state = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-state-clash-'));
  states.push(state);
  await rm(state, { recursive: true });
  const port = await freePort();
  const r = await ferry(state, ['init', '--name', 'clash', '--listen', `0.0.0.0:${port}`, '--admin', `127.0.0.1:${port}`]);
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe(`ferry: --admin 127.0.0.1:${port} takes the same port as --listen 0.0.0.0:${port}: give each listener a port of its own (or 0, for one the system chooses) [INVALID_INPUT]`);
  expect(existsSync(path.join(state, 'config.json'))).toBe(false);
});

it('says which file is missing or damaged, and the way out, in one sentence', async () => {
  const appliance = await initAppliance('broken');
  states.push(appliance.state);
  const token = path.join(appliance.state, 'admin.token');
  const saved = await readFile(token);
  await rm(token);
  for (const args of [['status'], ['serve']]) {
    const r = await ferry(appliance.state, args);
    expect(r.code, args.join(' ')).toBe(2);
    expect(r.stderr).toBe(`ferry: ${token} is missing: the daemon and ferry share it; bring it back from a backup of ${appliance.state}, or import this appliance's export into a new state dir ('ferry config import') [NOT_FOUND]\n`);
  }
  await writeFile(token, saved, { mode: 0o600 });
  // A database that is no database any more (a disk that returned garbage).
  const db = path.join(appliance.state, 'ferry.db');
  await writeFile(db, Buffer.alloc(8192, 0x5a));
  const r = await ferry(appliance.state, ['serve']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^ferry: the database ${db.replaceAll('/', '\\/')} is damaged \\(file is not a database\\): stop ferry, move the file aside, and bring this appliance back with 'ferry config import FILE' .* \\[DATABASE_DAMAGED\\]\\n$`));
});
