// The schedule with real daemons (bree's timers, the real clock): a slot that
// falls due during a long manual run runs once right after it; two tasks due
// together under a limit of one run one after the other, in turn; a daemon
// stopped over three slots runs the task once when it comes back. The link
// goes through a throttled proxy so that runs take seconds.

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Btrfs } from '../../src/btrfs/index.js';
import type { SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const btrfs = new Btrfs();
let pair: PairedDaemons;
let proxy: TcpProxy;

beforeAll(async () => {
  pair = await pairedDaemons({ sourceMiB: 512, targetMiB: 512, alphaConfig: { scheduler: { maxConcurrentRuns: 1, jitterSeconds: 0 } } });
  proxy = new TcpProxy(pair.beta.port, { rate: 2 << 20 });
  await proxy.start();
  await ferryOk(pair.alpha.state, ['peer', 'set-address', 'beta', `127.0.0.1:${proxy.port}`]);
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await pair?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function share(name: string, mib: number): Promise<string> {
  const p = path.join(pair.sourcePool.path, name);
  await btrfs.create(p);
  await writeFile(path.join(p, 'data'), randomBytes(mib << 20));
  return p;
}

async function attempts(task: string): Promise<SendTrailEntry[]> {
  return (await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--task', task, '--limit', '1000'])).reverse();
}

async function until(what: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(250);
  }
}

it('runs a slot that fell due during a long manual run once, right after it', async () => {
  const dir = await share('manual', 1);
  await ferryOk(pair.alpha.state, ['task', 'add', 'manual', '--share', dir, '--peer', 'beta', '--pool', 'backup', '--every', '30s']);
  const created = Date.now();
  await sleep(12_000);
  // About 20 s through the proxy: the slot at 30 s falls due during it.
  await writeFile(path.join(dir, 'big'), randomBytes(40 << 20));
  const manual = await ferry(pair.alpha.state, ['task', 'run', 'manual', '--wait']);
  expect(manual.code, manual.stderr).toBe(0);
  const [first] = await attempts('manual');
  const manualEnd = Date.parse(first?.endedAt ?? '');
  expect(manualEnd - created).toBeGreaterThan(30_000);
  await until(async () => (await attempts('manual')).length >= 2, 20_000);
  const [, next] = await attempts('manual');
  // The next run started right after the manual one, not at the slot after (60 s).
  expect(Date.parse(next?.startedAt ?? '') - manualEnd).toBeLessThan(5_000);
  expect(Date.parse(next?.startedAt ?? '') - created).toBeLessThan(60_000);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'manual']);
}, 120_000);

it('runs two tasks due together one after the other under a limit of one', async () => {
  const a = await share('first', 6);
  const b = await share('second', 6);
  // Both due at the next whole minute; with no jitter they become ready together, taken in turn.
  await ferryOk(pair.alpha.state, ['task', 'add', 'first', '--share', a, '--peer', 'beta', '--pool', 'backup', '--cron', '* * * * *']);
  await ferryOk(pair.alpha.state, ['task', 'add', 'second', '--share', b, '--peer', 'beta', '--pool', 'backup', '--cron', '* * * * *']);
  await until(async () => (await attempts('first')).some((e) => e.status === 'succeeded') && (await attempts('second')).some((e) => e.status === 'succeeded'), 100_000);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'first']);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'second']);
  const [x] = await attempts('first');
  const [y] = await attempts('second');
  // One at a time: the second began once the first had ended, in the order they were added.
  expect(Date.parse(y?.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(x?.endedAt ?? ''));
  expect(Date.parse(y?.startedAt ?? '') - Date.parse(x?.endedAt ?? '')).toBeLessThan(3_000);
  // They stood for the same slot: a whole minute.
  expect(Date.parse(x?.startedAt ?? '') % 60_000).toBeLessThan(5_000);
}, 150_000);

it('runs a task once when its daemon comes back after three of its slots passed', async () => {
  const dir = await share('downtime', 1);
  await ferryOk(pair.alpha.state, ['task', 'add', 'downtime', '--share', dir, '--peer', 'beta', '--pool', 'backup', '--every', '10s']);
  await until(async () => (await attempts('downtime')).some((e) => e.status === 'succeeded'), 30_000);
  await pair.alpha.stop();
  const before = (await ferryJson<SendTrailEntry[]>(pair.beta.state, ['trail', 'receive', '--limit', '1000'])).length;
  await sleep(35_000);
  const back = await pair.restart('alpha');
  await until(async () => (await attempts('downtime')).length >= 2, 20_000);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'downtime']);
  // What the scheduler started after the restart, in order: the slot each run stood for.
  const due = back
    .log()
    .split('\n')
    .filter((l) => l.includes('"msg":"task due') && l.includes('"task":"downtime"'))
    .map((l) => JSON.parse(l) as { time: string; slot: string; missed: number });
  const [catchUp, ...later] = due;
  // At once after the start, one run for the newest of the three slots missed ...
  expect(catchUp?.missed).toBeGreaterThanOrEqual(2);
  expect(Date.parse(catchUp?.time ?? '') - Date.parse(catchUp?.slot ?? '')).toBeLessThan(10_000);
  // ... and none more for them: any run after it is for a later slot, on the grid.
  for (const run of later) expect(Date.parse(run.slot) - Date.parse(catchUp?.slot ?? '')).toBeGreaterThanOrEqual(10_000);
  // A slot may have begun just before the pause: its attempt is written a moment
  // after its "task due" line, and it runs to its end. Wait for each to end.
  await until(async () => (await attempts('downtime')).filter((e) => e.endedAt !== null).length >= 1 + due.length, 30_000);
  const runs = await attempts('downtime');
  expect(runs).toHaveLength(1 + due.length);
  expect((await ferryJson<SendTrailEntry[]>(pair.beta.state, ['trail', 'receive', '--limit', '1000'])).length).toBe(before + due.length);
}, 120_000);
