// The receiver's authority over its pools, with real daemons on real sockets
// and real btrfs: shares that look alike are kept apart, the receiving admin's
// retention floor wins over the sender's keep-remote, and a pool with grants
// takes only its granted peers. Driven through the `ferry` command line, as an
// admin would.

import { appendFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PoolView, ReplicaView, TaskView } from '../../src/api/ports.js';
import type { PeerView } from '../../src/api/schemas.js';
import { Btrfs } from '../../src/btrfs/index.js';
import type { ReceiveTrailEntry, SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk, initAppliance, removeState, startDaemon, stopAllDaemons } from '../support/cli.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';

const btrfs = new Btrfs();
let pair: PairedDaemons;
const states: string[] = [];

beforeAll(async () => {
  pair = await pairedDaemons({ shareName: 'unused' });
});

afterAll(async () => {
  await pair?.close();
  await stopAllDaemons();
  for (const s of states) await removeState(s);
});

const alpha = () => pair.alpha.state;
const beta = () => pair.beta.state;

async function newShare(rel: string, content: string): Promise<string> {
  const share = path.join(pair.sourcePool.path, rel);
  await btrfs.create(share);
  await writeFile(path.join(share, 'file.txt'), content);
  return share;
}

async function run(task: string): Promise<{ code: number | null; stderr: string }> {
  return ferry(alpha(), ['task', 'run', task, '--wait']);
}

async function sendTrail(task: string): Promise<SendTrailEntry[]> {
  return ferryJson<SendTrailEntry[]>(alpha(), ['trail', 'send', '--task', task]);
}

async function replicasOf(share: string): Promise<string[]> {
  const replicas = await ferryJson<ReplicaView[]>(beta(), ['replica', 'list']);
  return replicas.filter((r) => r.share === share).flatMap((r) => r.snapshots.map((s) => s.name));
}

describe('shares that look alike are kept apart', () => {
  let a: string;
  let b: string;

  it('refuses a second share of the same folder name to the same peer and pool, and takes it under another name', async () => {
    const dirA = path.join(pair.sourcePool.path, 'a');
    const dirB = path.join(pair.sourcePool.path, 'b');
    await btrfs.create(dirA);
    await btrfs.create(dirB);
    a = await newShare('a/photos', 'share a\n');
    b = await newShare('b/photos', 'share b\n');
    await ferryOk(alpha(), ['task', 'add', 'photos-a', '--share', a, '--peer', 'beta', '--pool', 'backup', '--every', '1h', '--keep-remote', '2']);

    const clash = await ferry(alpha(), ['task', 'add', 'photos-b', '--share', b, '--peer', 'beta', '--pool', 'backup', '--every', '1h', '--keep-remote', '1']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/task 'photos-a' already sends a share named 'photos' .* --as NAME \[ALREADY_EXISTS\]/);

    const twice = await ferry(alpha(), ['task', 'add', 'photos-a2', '--share', a, '--peer', 'beta', '--pool', 'backup', '--every', '1h']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/task 'photos-a' already replicates .*\/a\/photos to beta pool backup: a second task there would prune/);

    const added = await ferry(alpha(), ['task', 'add', 'photos-b', '--share', b, '--as', 'photos-b', '--peer', 'beta', '--pool', 'backup', '--every', '1h', '--keep-remote', '1']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/as 'photos-b'/);
    const tasks = await ferryJson<TaskView[]>(alpha(), ['task', 'list']);
    expect(tasks.map((t) => [t.name, t.share])).toEqual([
      ['photos-a', 'photos'],
      ['photos-b', 'photos-b'],
    ]);
  });

  it('never lets the other share prune the first one’s replicas, and the first stays incremental', async () => {
    for (const round of [1, 2]) {
      await appendFile(path.join(a, 'file.txt'), `a ${round}\n`);
      await appendFile(path.join(b, 'file.txt'), `b ${round}\n`);
      expect((await run('photos-a')).code).toBe(0);
      expect((await run('photos-b')).code).toBe(0);
    }
    expect(await replicasOf('photos')).toHaveLength(2);
    expect(await replicasOf('photos-b')).toHaveLength(1);
    await appendFile(path.join(a, 'file.txt'), 'a 3\n');
    expect((await run('photos-a')).code).toBe(0);
    const [latest] = await sendTrail('photos-a');
    expect(latest).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    const replicas = await ferryJson<ReplicaView[]>(beta(), ['replica', 'list']);
    const chainA = replicas.find((r) => r.share === 'photos');
    const chainB = replicas.find((r) => r.share === 'photos-b');
    expect(chainA?.sourceUuid).toBe((await btrfs.show(a)).uuid);
    expect(chainB?.sourceUuid).toBe((await btrfs.show(b)).uuid);
    for (const s of chainA?.snapshots ?? []) expect((await readdir(s.path)).sort()).toEqual(['file.txt']);
    const filtered = await ferryJson<ReplicaView[]>(beta(), ['replica', 'list', '--share', 'photos-b', '--peer', 'alpha']);
    expect(filtered.map((r) => [r.share, r.peerName, r.snapshots.length])).toEqual([['photos-b', 'alpha', 1]]);
  });

  it('refuses on the receiver a transfer from another subvolume into the chain, and prunes nothing', async () => {
    // The share is replaced behind the task's back: same path, another subvolume.
    const before = await replicasOf('photos');
    await btrfs.delete(a);
    await newShare('a/photos', 'a new share at the old path\n');
    const r = await run('photos-a');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/belong to the source subvolume .* but this transfer comes from subvolume .* \[SHARE_MISMATCH\]/);
    const [latest] = await sendTrail('photos-a');
    expect(latest).toMatchObject({ status: 'failed', errorCode: 'SHARE_MISMATCH' });
    expect(await replicasOf('photos')).toEqual(before);
  });
});

describe("the receiving admin's retention floor", () => {
  it('keeps 3 when the sender asks for 1, and both trails say so', async () => {
    await ferryOk(beta(), ['pool', 'policy', 'backup', '--keep-at-least', '3']);
    const pools = await ferryJson<PoolView[]>(beta(), ['pool', 'list']);
    expect(pools[0]?.policy).toEqual({ keepAtLeast: 3, keepDays: null, quotaBytes: null, maxTransfers: null });
    const share = await newShare('floor', 'x\n');
    await ferryOk(alpha(), ['task', 'add', 'floor', '--share', share, '--peer', 'beta', '--pool', 'backup', '--every', '1h', '--keep-remote', '1']);
    for (let i = 0; i < 4; i++) {
      await appendFile(path.join(share, 'file.txt'), `${i}\n`);
      const r = await run('floor');
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await replicasOf('floor')).toHaveLength(3);
    const [sent] = await sendTrail('floor');
    expect(sent?.retention).toMatch(/kept 3 replicas where the sender asked for 1: this receiver's floor keeps at least 3; deleted 1 older replica/);
    const received = await ferryJson<ReceiveTrailEntry[]>(beta(), ['trail', 'receive', '--share', 'floor', '--limit', '1']);
    expect(received[0]?.retention).toBe(sent?.retention);
    expect(received[0]?.id).toBe(sent?.id);
  });
});

describe('pool grants', () => {
  it('refuses a peer that is not granted a pool that has grants, before any byte, and takes it once granted', async () => {
    // A third appliance, paired with beta, is granted the pool by invite: from then on the pool takes only it.
    const g = await initAppliance('gamma');
    states.push(g.state);
    await startDaemon(g, 'gamma');
    const invite = (await ferryOk(beta(), ['pair', 'invite', '--grant', 'backup'])).trim();
    await ferryOk(g.state, ['pair', 'accept', invite]);
    const peers = await ferryJson<PeerView[]>(beta(), ['peer', 'list']);
    expect(peers.find((p) => p.name === 'gamma')?.grants).toEqual(['backup']);
    expect(peers.find((p) => p.name === 'alpha')?.grants).toEqual([]);

    const share = await newShare('granted', 'g\n');
    await ferryOk(alpha(), ['task', 'add', 'granted', '--share', share, '--peer', 'beta', '--pool', 'backup', '--every', '1h']);
    const refused = await run('granted');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pool 'backup' is not granted to this peer .* \[POOL_NOT_GRANTED\]/);
    // One attempt (permanent), nothing streamed, nothing planned: refused before any byte.
    const attempts = await sendTrail('granted');
    expect(attempts.map((e) => [e.status, e.errorCode, e.bytes])).toEqual([['failed', 'POOL_NOT_GRANTED', 0]]);
    expect(await replicasOf('granted')).toEqual([]);

    await ferryOk(beta(), ['pool', 'grant', 'backup', 'alpha']);
    const pools = await ferryJson<PoolView[]>(beta(), ['pool', 'list']);
    expect(pools[0]?.grants.map((x) => x.name).sort()).toEqual(['alpha', 'gamma']);
    const granted = await run('granted');
    expect(granted.code, granted.stderr).toBe(0);
    expect(await replicasOf('granted')).toHaveLength(1);

    // Revoked again: refused again, and the replica stays.
    await ferryOk(beta(), ['pool', 'revoke', 'backup', 'alpha']);
    expect((await run('granted')).code).toBe(1);
    expect(await replicasOf('granted')).toHaveLength(1);
  });
});

describe('what pool add and task add refuse', () => {
  it('refuses the same pool path twice and a pool inside another, exit 2', async () => {
    const same = await ferry(beta(), ['pool', 'add', 'again', pair.targetPool.path]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/pool 'backup' is at .* already \[ALREADY_EXISTS\]/);
    const inside = path.join(pair.targetPool.path, pair.alphaId);
    const nested = await ferry(beta(), ['pool', 'add', 'nested', inside]);
    expect(nested.code).toBe(2);
    expect(nested.stderr).toMatch(/is inside pool 'backup' .*pools must not nest \[INVALID_INPUT\]/);
    expect((await ferryJson<PoolView[]>(beta(), ['pool', 'list'])).map((p) => p.name)).toEqual(['backup']);
  });

  it('refuses a top-level subvolume, a snapshot Ferry took, a share inside a snapshot folder, and a replica, each with one sentence', async () => {
    const [floorSnapshot] = await ferryJson<SendTrailEntry[]>(alpha(), ['trail', 'send', '--task', 'floor', '--limit', '1']);
    const snapshots = path.join(pair.sourcePool.path, '.ferry-snapshots', 'floor', 'floor');
    const hidden = path.join(pair.sourcePool.path, '.ferry-snapshots', 'stray');
    await btrfs.create(hidden);
    const [replica] = (await ferryJson<ReplicaView[]>(beta(), ['replica', 'list'])).flatMap((r) => r.snapshots);
    const cases: [string, string, RegExp][] = [
      [alpha(), pair.sourcePool.path, /is the top level of its btrfs filesystem, not a share/],
      [alpha(), path.join(snapshots, floorSnapshot?.snapshot ?? ''), /is a snapshot Ferry took/],
      [alpha(), hidden, /is a snapshot Ferry took \(it is under \.ferry-snapshots\)/],
      [beta(), replica?.path ?? '', /is a replica in pool 'backup' \(its directory of peer f[a-z2-7]{20}\), not a share/],
    ];
    for (const [state, share, message] of cases) {
      const r = await ferry(state, ['task', 'add', 'refused', '--share', share, '--peer', state === alpha() ? 'beta' : 'alpha', '--pool', 'backup', '--every', '1h']);
      expect(r.code, share).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    await btrfs.delete(hidden);
  });

  it('shows every task of an unpaired peer as needing attention', async () => {
    // Beta is down: the removal goes ahead here, and says beta could not be told.
    await pair.beta.stop();
    const removed = await ferryOk(alpha(), ['peer', 'remove', 'beta']);
    expect(removed).toMatch(/^ {2}beta could not be told \(.+\): remove this appliance there too with 'ferry peer remove'$/m);
    const tasks = await ferryJson<TaskView[]>(alpha(), ['task', 'list']);
    expect(tasks.length).toBeGreaterThan(0);
    for (const t of tasks) expect(t.health).toMatchObject({ state: 'needs-attention', reason: expect.stringMatching(/no longer paired/) as unknown });
  });
});
