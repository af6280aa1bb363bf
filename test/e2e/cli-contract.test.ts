// Every verb of ../shared/CLI.md (and the ones added since) against two real
// daemons, in the order an admin meets them; each --json document is parsed
// with the admin API's own answer schemas (src/api/views.ts), so the CLI's
// JSON and the API contract cannot drift apart. Bad flags exit 2; a failed run
// exits 1; an unreachable daemon exits 3.

import { randomBytes } from 'node:crypto';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AddedTaskView, InviteView, PeerView, PoolView, ReceiveTrailEntryView, ReplicaView, RunView, SendTrailEntryView, StatusView, TaskDetailView, TaskView } from '../../src/api/views.js';
import { ferry, ferryOk } from '../support/cli.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';
import { run as must } from '../support/run.js';

let pair: PairedDaemons;
const A = (): string => pair.alpha.state;
const B = (): string => pair.beta.state;

beforeAll(async () => {
  pair = await pairedDaemons();
  await writeFile(path.join(pair.share, 'f'), randomBytes(256 * 1024));
});

afterAll(async () => {
  await pair?.close();
});

/** Runs a --json command, which must succeed and print exactly one document that the schema accepts. */
async function json<T extends z.core.$ZodType>(state: string, args: string[], schema: T): Promise<z.output<T>> {
  const r = await ferry(state, [...args, '--json']);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  expect(r.stderr, args.join(' ')).toBe('');
  return z.parse(schema, JSON.parse(r.stdout));
}

describe('the CLI contract, verb by verb', () => {
  it('status, service', async () => {
    expect((await json(A(), ['status'], StatusView)).service).toBe('enabled');
    await ferryOk(A(), ['service', 'disable']);
    expect((await json(A(), ['status'], StatusView)).service).toBe('disabled');
    await ferryOk(A(), ['service', 'enable']);
  });

  it('pool add, list, grant, revoke, policy, remove', async () => {
    const pools = await json(B(), ['pool', 'list'], z.array(PoolView));
    expect(pools.map((p) => p.name)).toEqual(['backup']);
    await ferryOk(B(), ['pool', 'grant', 'backup', 'alpha']);
    expect((await json(B(), ['pool', 'list'], z.array(PoolView)))[0]?.grants.map((g) => g.name)).toEqual(['alpha']);
    await ferryOk(B(), ['pool', 'revoke', 'backup', 'alpha']);
    await ferryOk(B(), ['pool', 'policy', 'backup', '--keep-at-least', '3']);
    expect((await json(B(), ['pool', 'list'], z.array(PoolView)))[0]?.policy.keepAtLeast).toBe(3);
    await mkdir(path.join(pair.sourcePool.path, 'scratch'));
    await ferryOk(B(), ['pool', 'add', 'scratch', path.join(pair.sourcePool.path, 'scratch')]);
    expect((await json(B(), ['pool', 'list'], z.array(PoolView))).map((p) => p.name).sort()).toEqual(['backup', 'scratch']);
    await ferryOk(B(), ['pool', 'remove', 'scratch']);
    expect((await json(B(), ['pool', 'list'], z.array(PoolView))).map((p) => p.name)).toEqual(['backup']);
  });

  it('pair invite --json, peer list, set-address', async () => {
    const invite = await json(B(), ['pair', 'invite', '--ttl', '10m'], InviteView);
    expect(invite.invite).toMatch(/^ferry-invite-v1:/);
    const peers = await json(A(), ['peer', 'list'], z.array(PeerView));
    expect(peers.map((p) => p.name)).toEqual(['beta']);
    const address = peers[0]?.address ?? '';
    await ferryOk(A(), ['peer', 'set-address', 'beta', address.replace(/^http:\/\//, '')]);
  });

  it('task add, list, show, run --wait, pause, resume, edit', async () => {
    const added = await ferry(A(), ['task', 'add', 'docs', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d', '--keep-local', '3', '--keep-remote', '5']);
    expect(added.code, added.stderr).toBe(0);
    const tasks = await json(A(), ['task', 'list'], z.array(TaskView));
    expect(tasks.map((t) => [t.name, t.keepLocal, t.keepRemote])).toEqual([['docs', 3, 5]]);
    const run = await ferry(A(), ['task', 'run', 'docs', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    const shown = await json(A(), ['task', 'show', 'docs'], TaskDetailView);
    expect(shown.recent[0]).toMatchObject({ status: 'succeeded', mode: 'full' });
    await ferryOk(A(), ['task', 'pause', 'docs']);
    expect((await json(A(), ['task', 'show', 'docs'], TaskDetailView)).paused).toBe(true);
    await ferryOk(A(), ['task', 'resume', 'docs']);
    const before = await json(A(), ['task', 'show', 'docs'], TaskDetailView);
    expect(before).toMatchObject({ every: 86_400, cron: null, periodSeconds: 86_400, lastAttempt: { status: 'succeeded' } });
    expect(Date.parse(before.nextRunAt ?? '')).toBeGreaterThan(Date.now());
    const edited = await json(A(), ['task', 'edit', 'docs', '--cron', '0 3 * * *', '--keep-remote', '7', '--retries', '1'], TaskView);
    expect(edited).toMatchObject({ name: 'docs', every: null, cron: '0 3 * * *', schedule: 'cron 0 3 * * *', periodSeconds: 86_400, keepLocal: 3, keepRemote: 7, retries: 1 });
    expect(new Date(edited.nextRunAt ?? '').getUTCHours()).toBe(3);
    const refused = await ferry(A(), ['task', 'edit', 'docs', '--every', '1h', '--cron', '0 * * * *']);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringMatching(/not both/)]);
    expect((await ferry(A(), ['task', 'edit', 'docs'])).code).toBe(2);
    expect((await ferry(A(), ['task', 'edit', 'nope', '--every', '1h'])).code).toBe(2);
    await ferryOk(A(), ['task', 'edit', 'docs', '--every', '1d']);
    // Its JSON is the API's: AddedTaskView has what `task add` reports.
    expect(AddedTaskView._zod.innerType.shape.task).toBe(TaskView);
  });

  it('says on the result line of a run that succeeded, and in task show, what was not well with the pools', async () => {
    // The source pool nearly full: under a tenth of it free.
    const fs = await statfs(pair.sourcePool.path);
    const filler = path.join(pair.sourcePool.path, 'filler.bin');
    await must('fallocate', ['-l', String(Math.max(0, fs.bavail * fs.bsize - 12 * 1024 * 1024)), filler]);
    try {
      await writeFile(path.join(pair.share, 'note.txt'), 'a change to send\n');
      const r = await ferry(A(), ['task', 'run', 'docs', '--wait']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^run of docs succeeded: .*\n {2}but the pools were not all well: warning POOL_LOW_SPACE: the source pool has [\d.]+ (KiB|MiB) free, below the [\d.]+ MiB threshold\n$/m);
      const shownText = await ferryOk(A(), ['task', 'show', 'docs']);
      expect(shownText).toMatch(/^last attempt warning POOL_LOW_SPACE: the source pool has /m);
    } finally {
      await rm(filler, { force: true });
    }
  });

  it('trail send, trail receive, replica list', async () => {
    const sent = await json(A(), ['trail', 'send', '--task', 'docs', '--limit', '5'], z.array(SendTrailEntryView));
    // The table names the peer as this appliance knows it; --json keeps the id.
    expect(await ferryOk(A(), ['trail', 'send', '--task', 'docs', '--limit', '1'])).toMatch(/^\S+\s+docs\s+beta\s/m);
    expect(await ferryOk(B(), ['trail', 'receive', '--limit', '1'])).toMatch(/^\S+\s+alpha\s/m);
    const received = await json(B(), ['trail', 'receive', '--peer', 'alpha', '--share', 'data', '--limit', '5'], z.array(ReceiveTrailEntryView));
    expect(received[0]?.id).toBe(sent[0]?.id);
    // The web UI's filters and paging, on the command line too.
    const ids = async (args: string[]) => (await json(A(), ['trail', 'send', '--task', 'docs', ...args], z.array(SendTrailEntryView))).map((e) => e.id);
    expect(await ids(['--status', 'succeeded'])).toEqual(sent.filter((e) => e.status === 'succeeded').map((e) => e.id));
    expect(await ids(['--status', 'failed'])).toEqual(sent.filter((e) => e.status === 'failed').map((e) => e.id));
    expect(await ids(['--since', new Date(Date.now() + 60_000).toISOString()])).toEqual([]);
    expect(await ids(['--until', '2000-01-01'])).toEqual([]);
    expect(await ids(['--before', sent[0]?.id ?? ''])).toEqual(sent.slice(1).map((e) => e.id));
    const refused = await ferry(A(), ['trail', 'send', '--status', 'nope']);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringMatching(/--status takes one of running, succeeded/)]);
    expect((await ferry(A(), ['trail', 'send', '--before', 'no-such-attempt'])).code).toBe(2);
    const replicas = await json(B(), ['replica', 'list', '--peer', 'alpha'], z.array(ReplicaView));
    expect(replicas[0]?.snapshots.at(-1)).toMatchObject({ newest: true, name: sent[0]?.snapshot });
  });

  it('task cancel with no run, and a run that fails, exit 2 and 1', async () => {
    expect((await ferry(A(), ['task', 'cancel', 'docs'])).code).toBe(2);
    await ferryOk(B(), ['service', 'disable']);
    const failed = await ferry(A(), ['task', 'run', 'docs', '--wait']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^ferry: run of docs failed: .* \[SERVICE_DISABLED\]\n$/);
    // For scripts: the run as it ended, as JSON on stdout, and the same exit code.
    const failedJson = await ferry(A(), ['task', 'run', 'docs', '--wait', '--json']);
    expect(failedJson.code).toBe(1);
    expect(RunView.parse(JSON.parse(failedJson.stdout))).toMatchObject({ task: 'docs', state: 'failed', errorCode: 'SERVICE_DISABLED' });
    await ferryOk(B(), ['service', 'enable']);
    const ran = await ferry(A(), ['task', 'run', 'docs', '--wait', '--json']);
    expect(ran.code, ran.stderr).toBe(0);
    const ended = RunView.parse(JSON.parse(ran.stdout));
    expect(ended).toMatchObject({ task: 'docs', state: 'succeeded', errorCode: null });
    expect(Date.parse(ended.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(ended.startedAt));
  });

  it.each([
    ['an unknown verb', ['frobnicate']],
    ['an unknown flag', ['status', '--frob']],
    ['a missing argument', ['task', 'show']],
    ['a missing required flag', ['task', 'add', 'x', '--share', '/mnt/x']],
    ['a bad duration', ['task', 'add', 'x', '--share', '/mnt/x', '--peer', 'beta', '--pool', 'backup', '--every', 'often']],
    ['a bad number', ['trail', 'send', '--limit', 'many']],
    ['an invite too short-lived', ['pair', 'invite', '--ttl', '5s']],
  ])('%s exits 2 with one line on stderr, pointing at the command’s help, and nothing on stdout', async (_name, args) => {
    const r = await ferry(A(), args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    // One sentence, as every refusal: not the whole help.
    expect(r.stderr).toMatch(/^ferry: [^\n]+ \[[A-Z_]+\]\n$/);
  });

  it('task remove, peer remove; then the daemon is unreachable: exit 3', async () => {
    await ferryOk(A(), ['task', 'remove', 'docs']);
    expect(await json(A(), ['task', 'list'], z.array(TaskView))).toEqual([]);
    // A task left on the peer is paused with it, and named: it could only fail NOT_PAIRED from now on.
    await ferryOk(A(), ['task', 'add', 'spare', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
    // Beta sends to alpha too: its task is the other side's to pause when alpha removes it.
    await ferryOk(B(), ['task', 'add', 'back', '--share', pair.share, '--peer', 'alpha', '--pool', 'backup', '--every', '1d']);
    expect((await ferry(A(), ['peer', 'remove', 'beta', '--tasks', 'keep'])).code).toBe(2);
    const removed = await ferryOk(A(), ['peer', 'remove', 'beta']);
    expect(removed).toMatch(/^ {2}its tasks paused \(they would only fail\): spare; /m);
    // Beta was told: it no longer lists a pair that cannot work, and paused its task to alpha.
    expect(removed).toMatch(/^ {2}beta heard of it and removed this appliance too; it paused its 1 task\(s\) that sent here$/m);
    expect(await json(B(), ['peer', 'list'], z.array(PeerView))).toEqual([]);
    expect((await json(B(), ['task', 'list'], z.array(TaskView))).map((t) => [t.name, t.paused])).toEqual([['back', true]]);
    expect((await json(A(), ['task', 'list'], z.array(TaskView))).map((t) => [t.name, t.paused])).toEqual([['spare', true]]);
    expect(await json(A(), ['peer', 'list'], z.array(PeerView))).toEqual([]);
    await ferryOk(A(), ['task', 'remove', 'spare']);
    await pair.alpha.stop();
    const r = await ferry(A(), ['status', '--json']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/\[DAEMON_UNREACHABLE\]\n$/);
  });
});
