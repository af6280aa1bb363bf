// Configuration backup, with real daemons: alpha's system disk "dies" (its
// state dir is deleted); an export imported into an empty state dir brings
// back the same id, peers, pools, grants and tasks, and the next run to beta
// succeeds, incremental, without pairing again. A wrong passphrase, a
// damaged file and an import over an existing appliance change nothing.

import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PoolView, TaskView } from '../../src/api/ports.js';
import type { PeerView, StatusView } from '../../src/api/schemas.js';
import type { SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk, initAppliance, removeState } from '../support/cli.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';

let pair: PairedDaemons;
let work = '';
const PASS = { FERRY_PASSPHRASE: 'correct horse battery staple' };

beforeAll(async () => {
  pair = await pairedDaemons({ sourceMiB: 256, targetMiB: 256, shareName: 'docs' });
  work = await mkdtemp(path.join(os.tmpdir(), 'ferry-config-test-'));
  await writeFile(path.join(pair.share, 'a.txt'), 'first\n');
  const alpha = pair.alpha.state;
  await ferryOk(alpha, ['task', 'add', 'docs', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d', '--keep-remote', '7']);
  await ferryOk(alpha, ['task', 'pause', 'docs']);
  // Alpha receives too: a pool granted to beta only.
  await ferryOk(alpha, ['pool', 'add', 'inbound', path.join(pair.sourcePool.path)]);
  await ferryOk(alpha, ['pool', 'grant', 'inbound', 'beta']);
  expect((await ferry(alpha, ['task', 'run', 'docs', '--wait'])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await pair?.close();
  await rm(work, { recursive: true, force: true });
});

interface Seen {
  status: StatusView;
  peers: PeerView[];
  pools: PoolView[];
  tasks: TaskView[];
}

async function seen(state: string): Promise<Seen> {
  return {
    status: await ferryJson<StatusView>(state, ['status']),
    peers: await ferryJson<PeerView[]>(state, ['peer', 'list']),
    pools: await ferryJson<PoolView[]>(state, ['pool', 'list']),
    tasks: await ferryJson<TaskView[]>(state, ['task', 'list']),
  };
}

it('brings a dead appliance back from its export: same id, peers, grants and tasks; the next run needs no pairing', async () => {
  const alpha = pair.alpha.state;
  const before = await seen(alpha);
  const file = path.join(work, 'alpha.ferry');
  // Sealed here, and left with beta: offsite with the data.
  const exported = await ferry(alpha, ['config', 'export', file, '--push', 'beta'], { env: PASS });
  expect(exported.code, exported.stderr).toBe(0);
  expect(exported.stdout).toMatch(/left with beta \(\d+ bytes\)/);
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  // The private keys are in it only sealed.
  const seed = (JSON.parse(await readFile(path.join(alpha, 'identity.json'), 'utf8')) as { signingSeed: string }).signingSeed;
  expect(await readFile(file, 'utf8')).not.toContain(seed);
  expect((await ferry(alpha, ['config', 'export', file], { env: PASS })).code).toBe(2);

  // Wrong inputs change nothing.
  const empty = path.join(work, 'empty-state');
  const wrong = await ferry(empty, ['config', 'import', file], { env: { FERRY_PASSPHRASE: 'not the passphrase' } });
  expect(wrong.code).toBe(2);
  expect(wrong.stderr.trim()).toBe('ferry: the passphrase does not open this export (or the file was changed) [WRONG_PASSPHRASE]');
  expect(await readdir(empty).catch(() => 'absent')).toBe('absent');
  const damaged = path.join(work, 'damaged.ferry');
  const text = await readFile(file, 'utf8');
  const box = /"box": "([^"]+)"/.exec(text)?.[1] ?? '';
  await writeFile(damaged, text.replace(box, (box[0] === 'A' ? 'B' : 'A') + box.slice(1)));
  expect((await ferry(empty, ['config', 'import', damaged], { env: PASS })).stderr).toMatch(/WRONG_PASSPHRASE/);
  const other = await initAppliance('other');
  const otherBefore = await readFile(path.join(other.state, 'identity.json'), 'utf8');
  const over = await ferry(other.state, ['config', 'import', file], { env: PASS });
  expect(over.code).toBe(2);
  expect(over.stderr).toMatch(/already holds an appliance \(\w+\); import into an empty state dir, or --force/);
  expect(await readFile(path.join(other.state, 'identity.json'), 'utf8')).toBe(otherBefore);
  await removeState(other.state);

  // The system disk dies: the daemon, its whole state dir and the local export are gone. The data pool survives.
  await pair.alpha.kill();
  await rm(alpha, { recursive: true, force: true });
  const original = await readFile(file, 'utf8');
  await rm(file);
  // Beta kept a copy: its admin writes it out for the new system disk.
  const fetched = path.join(work, 'from-beta.ferry');
  expect((await ferry(pair.beta.state, ['config', 'kept', 'nobody', '--to', fetched])).code).toBe(2);
  await ferryOk(pair.beta.state, ['config', 'kept', 'alpha', '--to', fetched]);
  expect(await readFile(fetched, 'utf8')).toBe(original);
  expect((await stat(fetched)).mode & 0o777).toBe(0o600);
  const imported = await ferry(alpha, ['config', 'import', fetched], { env: PASS });
  expect(imported.code, imported.stderr).toBe(0);
  expect((await stat(path.join(alpha, 'identity.json'))).mode & 0o777).toBe(0o600);
  await pair.restart('alpha');
  const after = await seen(alpha);
  expect(after.status.id).toBe(before.status.id);
  expect(after.peers).toEqual(before.peers);
  expect(after.pools.map((p) => [p.name, p.path, p.grants])).toEqual(before.pools.map((p) => [p.name, p.path, p.grants]));
  expect(after.tasks.map((t) => [t.name, t.sharePath, t.peer, t.pool, t.schedule, t.keepRemote, t.paused])).toEqual(
    before.tasks.map((t) => [t.name, t.sharePath, t.peer, t.pool, t.schedule, t.keepRemote, t.paused]),
  );

  await writeFile(path.join(pair.share, 'b.txt'), 'after the disk died\n');
  const run = await ferry(alpha, ['task', 'run', 'docs', '--wait']);
  expect(run.code, run.stderr).toBe(0);
  const [last] = await ferryJson<SendTrailEntry[]>(alpha, ['trail', 'send', '--task', 'docs', '--limit', '1']);
  expect(last).toMatchObject({ status: 'succeeded', mode: 'incremental' });
});
