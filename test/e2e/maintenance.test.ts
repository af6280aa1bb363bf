// The daemon's maintenance jobs, run by bree in worker threads on short
// intervals here: 100,000 send-trail rows are pruned to the limits, expired
// nonces go, staging left by a crash is swept, and the pools' health is
// checked between runs.

import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PoolView } from '../../src/api/ports.js';
import { Btrfs } from '../../src/btrfs/index.js';
import { openStore } from '../../src/store/index.js';
import { ferry, ferryJson, ferryOk, initAppliance, mergeConfig, removeState, startDaemon, stopAllDaemons, type Daemon } from '../support/cli.js';
import { run } from '../support/run.js';
import { createPool, type Pool } from '../support/pools.js';
import { eventually } from '../support/eventually.js';

const btrfs = new Btrfs();
const DAY = 86_400_000;
const TASKS = 4;
const ROWS = 100_000;
let pool: Pool;
let appliance: { state: string; port: number; adminPort: number };
let daemon: Daemon;

beforeAll(async () => {
  pool = await createPool({ sizeMiB: 256 });
  appliance = await initAppliance('tidy');
  await mergeConfig(appliance.state, {
    maintenance: { trailKeepDays: 365, trailKeepPerTask: 1000, trailsEverySeconds: 4, purgeEverySeconds: 4, sweepEverySeconds: 4, healthEverySeconds: 4 },
  });
  // 100,000 finished send attempts over two years, four tasks; one old attempt still 'running'; expired nonces.
  const store = openStore(path.join(appliance.state, 'ferry.db'));
  const now = Date.now();
  store.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const id = `seed-${i}`;
      const startedAt = new Date(now - (i / ROWS) * 730 * DAY).toISOString();
      store.sendTrail.start({ id, task: `task-${i % TASKS}`, share: 's', snapshot: '20260101T000000.000Z', parent: null, mode: 'full', peer: 'p', pool: 'q', reason: null, startedAt });
      store.sendTrail.finish(id, { status: 'succeeded', endedAt: startedAt, bytes: 1, errorCode: null, error: null });
    }
    for (let i = 0; i < 50; i++) store.nonces.remember('fpeer', `nonce-${i}`, Math.floor(now / 1000) - 60);
  });
  store.pools.add({ name: 'backup', path: pool.path });
  store.close();
  daemon = await startDaemon(appliance, 'tidy');
}, 120_000);

afterAll(async () => {
  await stopAllDaemons();
  await pool?.destroy();
  if (appliance) await removeState(appliance.state);
});

/** The daemon's last words, for a wait that never ended. */
const logTail = (): string => daemon.log().slice(-3000);

it('prunes 100,000 trail rows to the limits, in a worker, keeping what is within them', async () => {
  await eventually('the trail pruned', () => daemon.log().includes('maintenance: trail entries past their limits deleted'), { detail: logTail });
  const store = openStore(path.join(appliance.state, 'ferry.db'));
  try {
    const entries = store.sendTrail.list();
    const cutoff = Date.now() - 365 * DAY - 60_000;
    for (let t = 0; t < TASKS; t++) expect(entries.filter((e) => e.task === `task-${t}`)).toHaveLength(1000);
    expect(entries.every((e) => Date.parse(e.startedAt) > cutoff)).toBe(true);
    // The newest of each task are the ones kept.
    expect(entries.some((e) => e.id === 'seed-0')).toBe(true);
    expect(store.sendTrail.beyond({ keepDays: 365, keepPerTask: 1000 }, new Date())).toBe(0);
    expect(store.nonces.has('fpeer', 'nonce-0')).toBe(false);
  } finally {
    store.close();
  }
  const line = daemon.log().split('\n').find((l) => l.includes('trail entries past their limits deleted')) ?? '';
  expect(JSON.parse(line)).toMatchObject({ send: ROWS - TASKS * 1000, receive: 0 });
});

it('sweeps a partial subvolume left by a crash, and checks the pools between runs', async () => {
  const dir = path.join(pool.path, 'fcrashedpeerabcdefghi', 'share');
  await mkdir(dir, { recursive: true });
  const staging = path.join(dir, `.incoming-${randomUUID()}`);
  await btrfs.create(staging);
  await eventually('the staging subvolume gone', async () => !(await btrfs.isSubvolume(staging)), { detail: logTail });
  // The line follows the deletion, through the daemon's stdout pipe: it may trail the subvolume's going.
  await eventually('the crash leftovers reported', () => /maintenance: partial subvolumes left by a crash deleted/.test(daemon.log()), { detail: logTail });

  await eventually('the pool health checked', async () => (await ferryJson<PoolView[]>(appliance.state, ['pool', 'list']))[0]?.health !== null, { detail: logTail });
  const [backup] = await ferryJson<PoolView[]>(appliance.state, ['pool', 'list']);
  expect(backup?.health?.findings).toEqual([]);
  expect(Date.now() - Date.parse(backup?.health?.checkedAt ?? '')).toBeLessThan(30_000);
});

it('tells the admin at `pool add` that a pool is mounted without nosuid,nodev', async () => {
  const open = await createPool({ sizeMiB: 128 });
  try {
    await run('mount', ['-o', 'remount,suid,dev', open.path]);
    const added = await ferry(appliance.state, ['pool', 'add', 'open', open.path]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^ {2}info POOL_MOUNT_OPEN: the target pool is mounted without nosuid,nodev: /m);
    await ferryOk(appliance.state, ['pool', 'remove', 'open']);
  } finally {
    await open.destroy();
  }
});

it('checks the pools’ health at start, not only when the first interval (15 min) has passed', async () => {
  const fresh = await initAppliance('fresh');
  const second = await createPool({ sizeMiB: 128 });
  try {
    const store = openStore(path.join(fresh.state, 'ferry.db'));
    store.pools.add({ name: 'backup', path: second.path });
    store.close();
    const started = await startDaemon(fresh, 'fresh');
    try {
      await eventually('the fresh pool health checked', async () => (await ferryJson<PoolView[]>(fresh.state, ['pool', 'list']))[0]?.health !== null);
      const [backup] = await ferryJson<PoolView[]>(fresh.state, ['pool', 'list']);
      expect(backup?.health?.findings).toEqual([]);
      // With its size and free space, as an admin expects of a NAS's pool page.
      expect(backup?.health?.space?.sizeBytes).toBe(128 * 1024 * 1024);
      expect(backup?.health?.space?.freeBytes).toBeGreaterThan(16 * 1024 * 1024);
      expect(backup?.health?.space?.freeBytes).toBeLessThan(128 * 1024 * 1024);
      expect(await ferryOk(fresh.state, ['pool', 'list'])).toMatch(/^backup\s+\S+\s+ok\s+[\d.]+ MiB of 128\.0 MiB\s/m);
    } finally {
      await started.stop();
    }
  } finally {
    await second.destroy();
    await removeState(fresh.state);
  }
});
