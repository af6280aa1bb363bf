// What a peer ships is closed to local users: a paired peer's replica holds
// whatever the peer chose (a setuid-root binary, a device node naming the
// receiving pool's own disk, files any user may read), and none of it may be
// reached by a local user other than root, whatever an older Ferry left. Real
// daemons, real btrfs, real users (nobody).

import { spawnSync } from 'node:child_process';
import { chmod, copyFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplicaView } from '../../src/api/views.js';
import { REPLICA_AREA_MODE } from '../../src/receiver/paths.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';
import { run } from '../support/run.js';

const NOBODY = 65534;
let pair: PairedDaemons;

beforeAll(async () => {
  pair = await pairedDaemons();
  // Test pools are mounted nosuid,nodev, which alone would defuse the setuid binary and the device
  // node below: mounted as a pool often is, only the replica area's directories keep them shut.
  await run('mount', ['-o', 'remount,suid,dev', pair.targetPool.path]);
  // A pool as on a NAS (/mnt/pool): any local user may reach its mount point. (The test's temp
  // dir is 0700, which would shut everything away whatever Ferry did.)
  for (const d of [path.dirname(pair.targetPool.path), pair.targetPool.path]) await chmod(d, 0o755);
  expect(asNobody('ls', [pair.targetPool.path]).status).toBe(0);
  // What a hostile (or careless) peer ships: a setuid-root binary, a world-readable secret,
  // and a block device node with the major:minor of the receiving pool's loop device.
  await copyFile('/usr/bin/id', path.join(pair.share, 'suid-id'));
  await chmod(path.join(pair.share, 'suid-id'), 0o4755);
  await writeFile(path.join(pair.share, 'secret.txt'), 'the peer’s data\n', { mode: 0o644 });
  const { rdev } = await stat(pair.targetPool.loopDevice);
  // Linux's dev_t: major in bits 8-19, minor in bits 0-7 and 20-31.
  const [major, minor] = [(rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00)];
  await run('mknod', ['-m', '0666', path.join(pair.share, 'pool-disk'), 'b', String(major), String(minor)]);
  await ferryOk(pair.alpha.state, ['task', 'add', 'nightly', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
}, 120_000);

afterAll(async () => {
  await pair?.close();
});

/** Runs a command as nobody: its exit status and what it printed. */
function asNobody(command: string, args: readonly string[]): { status: number | null; out: string } {
  const r = spawnSync(command, args, { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

async function replicaPath(): Promise<string> {
  const [replica] = await ferryJson<ReplicaView[]>(pair.beta.state, ['replica', 'list']);
  const newest = replica?.snapshots.at(-1)?.path;
  if (!newest) throw new Error('no replica on beta');
  return newest;
}

function expectClosed(replica: string): void {
  const secret = asNobody('cat', [path.join(replica, 'secret.txt')]);
  expect(secret.status, secret.out).not.toBe(0);
  expect(secret.out).not.toContain('the peer’s data');
  const suid = asNobody(path.join(replica, 'suid-id'), ['-u']);
  expect(suid.status, suid.out).not.toBe(0);
  expect(suid.out.trim()).not.toBe('0');
  const disk = asNobody('head', ['-c', '16', path.join(replica, 'pool-disk')]);
  expect(disk.status, disk.out).not.toBe(0);
  const list = asNobody('ls', [path.dirname(path.dirname(replica))]);
  expect(list.status, list.out).not.toBe(0);
}

describe('the replica area', () => {
  it('is root’s alone: as nobody, no replica file can be read or run, and no device node reached', async () => {
    const ran = await ferry(pair.alpha.state, ['task', 'run', 'nightly', '--wait']);
    expect(ran.code, ran.stderr).toBe(0);
    const replica = await replicaPath();
    // The peer's bits arrived as sent (root still sees them so): only the directories keep them shut.
    expect((await stat(path.join(replica, 'suid-id'))).mode & 0o7777).toBe(0o4755);
    expect((await stat(path.join(replica, 'pool-disk'))).isBlockDevice()).toBe(true);
    const shareDir = path.dirname(replica);
    for (const d of [path.dirname(shareDir), shareDir]) expect((await stat(d)).mode & 0o7777, d).toBe(REPLICA_AREA_MODE);
    expectClosed(replica);
  });

  it('closes what an older Ferry left open (0755), at the next transfer', async () => {
    const replica = await replicaPath();
    const shareDir = path.dirname(replica);
    for (const d of [path.dirname(shareDir), shareDir]) await chmod(d, 0o755);
    await writeFile(path.join(pair.share, 'more.txt'), 'more\n');
    const ran = await ferry(pair.alpha.state, ['task', 'run', 'nightly', '--wait']);
    expect(ran.code, ran.stderr).toBe(0);
    for (const d of [path.dirname(shareDir), shareDir]) expect((await stat(d)).mode & 0o7777, d).toBe(REPLICA_AREA_MODE);
    expectClosed(await replicaPath());
  });
});
