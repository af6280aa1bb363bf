// The schedule with real daemons (bree's timers, the real clock): a slot that
// falls due during a long manual run runs once right after it; two tasks due
// together under a limit of one run one after the other, in turn; a daemon
// stopped over three slots runs the task once when it comes back. The link
// goes through a throttled proxy so that runs take seconds.
//
// What is checked is which slot each run stood for, as the scheduler's own
// "task due" lines say, and the order of events: never how many seconds a
// start took, which a loaded machine stretches (a bound of 3 s once failed
// at 59.7 s while another suite ran).

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Btrfs } from '../../src/btrfs/index.js';
import type { SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { eventually } from '../support/eventually.js';

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


interface Due {
  readonly time: string;
  readonly task: string;
  readonly reason: string;
  readonly slot: string | null;
  readonly missed: number;
}

/** The scheduler's "task due" lines in a daemon's log, in order: which slot each run stood for. */
function dueLines(log: string, task?: string): Due[] {
  return log
    .split('\n')
    .filter((l) => l.includes('"msg":"task due'))
    .map((l) => JSON.parse(l) as Due)
    .filter((d) => task === undefined || d.task === task);
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
  await eventually('the run after the manual one', async () => (await attempts('manual')).length >= 2, { timeoutMs: 60_000, intervalMs: 250 });
  await ferryOk(pair.alpha.state, ['task', 'pause', 'manual']);
  const [asked, next] = dueLines(pair.alpha.log(), 'manual');
  expect(asked?.reason).toBe('run-now');
  // The next run stood for the slot that fell due during the manual one (not the slot after it), once, on its own.
  expect(next).toMatchObject({ reason: 'schedule', missed: 0 });
  const slot = Date.parse(next?.slot ?? '');
  expect(slot).toBeGreaterThan(created);
  expect(slot).toBeLessThanOrEqual(manualEnd);
  // And it began once the manual run had ended: one run of a task at a time.
  const [, second] = await attempts('manual');
  expect(Date.parse(second?.startedAt ?? '')).toBeGreaterThanOrEqual(manualEnd);
}, 120_000);

it('runs two tasks due together one after the other under a limit of one', async () => {
  const a = await share('first', 6);
  const b = await share('second', 6);
  // Both due at the next whole minute; with no jitter they become ready together, taken in turn.
  await ferryOk(pair.alpha.state, ['task', 'add', 'first', '--share', a, '--peer', 'beta', '--pool', 'backup', '--cron', '* * * * *']);
  await ferryOk(pair.alpha.state, ['task', 'add', 'second', '--share', b, '--peer', 'beta', '--pool', 'backup', '--cron', '* * * * *']);
  await eventually('both tasks run', async () => (await attempts('first')).some((e) => e.status === 'succeeded') && (await attempts('second')).some((e) => e.status === 'succeeded'), { timeoutMs: 200_000, intervalMs: 250 });
  await ferryOk(pair.alpha.state, ['task', 'pause', 'first']);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'second']);
  const [x] = await attempts('first');
  const [y] = await attempts('second');
  // One at a time: the second began once the first had ended, in the order they were added.
  expect(Date.parse(y?.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(x?.endedAt ?? ''));
  // Each stood for the same slot, a whole minute: the second waited its turn, not for the next minute.
  const [dx] = dueLines(pair.alpha.log(), 'first');
  const [dy] = dueLines(pair.alpha.log(), 'second');
  expect(dx).toMatchObject({ reason: 'schedule', missed: 0 });
  expect(Date.parse(dx?.slot ?? '') % 60_000).toBe(0);
  expect(dy).toMatchObject({ reason: 'schedule', slot: dx?.slot, missed: 0 });
}, 150_000);

it('runs a task once when its daemon comes back after three of its slots passed', async () => {
  const dir = await share('downtime', 1);
  await ferryOk(pair.alpha.state, ['task', 'add', 'downtime', '--share', dir, '--peer', 'beta', '--pool', 'backup', '--every', '10s']);
  await eventually('a first run', async () => (await attempts('downtime')).some((e) => e.status === 'succeeded'), { timeoutMs: 60_000, intervalMs: 250 });
  await pair.alpha.stop();
  const before = (await ferryJson<SendTrailEntry[]>(pair.beta.state, ['trail', 'receive', '--limit', '1000'])).length;
  await sleep(35_000);
  const back = await pair.restart('alpha');
  await eventually('the catch-up run', async () => (await attempts('downtime')).length >= 2, { timeoutMs: 60_000, intervalMs: 250 });
  await ferryOk(pair.alpha.state, ['task', 'pause', 'downtime']);
  // What the scheduler started after the restart, in order: the slot each run stood for.
  const due = dueLines(back.log(), 'downtime');
  const started = Date.parse(back.log().split('\n').map((l) => /"time":"([^"]+)".*"msg":"appliance started"/.exec(l)?.[1]).find((t) => t !== undefined) ?? '');
  const [catchUp, ...later] = due;
  // First after the start, one run for the newest of the three slots missed (the last on the grid before the start) ...
  expect(catchUp?.missed).toBeGreaterThanOrEqual(2);
  const caught = Date.parse(catchUp?.slot ?? '');
  expect(caught).toBeLessThanOrEqual(Date.parse(catchUp?.time ?? ''));
  expect(started - caught).toBeLessThan(10_000);
  // ... and none more for them: any run after it is for a later slot, on the grid.
  for (const run of later) expect(Date.parse(run.slot ?? '') - caught).toBeGreaterThanOrEqual(10_000);
  // A slot may have begun just before the pause: its attempt is written a moment
  // after its "task due" line, and it runs to its end. Wait for each to end.
  await eventually('every run begun to end', async () => (await attempts('downtime')).filter((e) => e.endedAt !== null).length >= 1 + due.length, { timeoutMs: 60_000, intervalMs: 250 });
  const runs = await attempts('downtime');
  expect(runs).toHaveLength(1 + due.length);
  expect((await ferryJson<SendTrailEntry[]>(pair.beta.state, ['trail', 'receive', '--limit', '1000'])).length).toBe(before + due.length);
}, 120_000);
