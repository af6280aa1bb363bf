// The disaster drill, with real daemons and real btrfs: the share is deleted
// on alpha, and `ferry restore` brings it back from beta's replica, writable
// and identical to it (contents, modes, xattrs, hard links, holes), over the
// sealed transport, incremental on the snapshot alpha still holds; the next
// run of the original task is then incremental again. Also: a restore of a
// snapshot alpha still holds moves nothing, one with no snapshot left is a
// full stream, both trails record each as a restore, and every wrong request
// is one sentence, exit 2, nothing changed.

import { randomBytes } from 'node:crypto';
import { appendFile, chmod, link, mkdir, open, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplicaView } from '../../src/api/ports.js';
import type { RestoreView } from '../../src/api/schemas.js';
import { Btrfs } from '../../src/btrfs/index.js';
import type { ReceiveTrailEntry, SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { subvolumesOf, treeOf } from '../support/leftovers.js';
import { manifest } from '../support/manifest.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';
import { run } from '../support/run.js';

const btrfs = new Btrfs();
let pair: PairedDaemons;
let fullBytes = 0;
let snapDir = '';

const MiB = 1 << 20;

/** Everything a restore must keep: modes, xattrs, hard links, a symlink, a sparse file, and some bulk. */
async function populate(share: string): Promise<void> {
  await mkdir(path.join(share, 'docs/private'), { recursive: true });
  await writeFile(path.join(share, 'docs/readme.txt'), 'read me\n');
  await chmod(path.join(share, 'docs/private'), 0o700);
  await writeFile(path.join(share, 'docs/private/key'), 'secret\n', { mode: 0o600 });
  await writeFile(path.join(share, 'script.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  await run('setfattr', ['-n', 'user.origin', '-v', 'alpha', path.join(share, 'docs/readme.txt')]);
  await link(path.join(share, 'docs/readme.txt'), path.join(share, 'readme-link.txt'));
  await symlink('docs/readme.txt', path.join(share, 'latest'));
  const sparse = await open(path.join(share, 'sparse.img'), 'w');
  await sparse.write(Buffer.from('start'), 0, 5, 0);
  await sparse.write(Buffer.from('end'), 0, 3, 64 * MiB);
  await sparse.close();
  await writeFile(path.join(share, 'bulk.bin'), randomBytes(24 * MiB));
}

beforeAll(async () => {
  pair = await pairedDaemons({ sourceMiB: 512, targetMiB: 512, shareName: 'photos' });
  await populate(pair.share);
  await ferryOk(pair.alpha.state, ['task', 'add', 'photos', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'photos']);
  // A task whose share never reached beta: beta holds nothing of it.
  await btrfs.create(path.join(pair.sourcePool.path, 'music'));
  await ferryOk(pair.alpha.state, ['task', 'add', 'music', '--share', path.join(pair.sourcePool.path, 'music'), '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'music']);
  expect((await ferry(pair.alpha.state, ['task', 'run', 'photos', '--wait'])).code).toBe(0);
  fullBytes = (await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--task', 'photos', '--limit', '1']))[0]?.bytes ?? 0;
  await writeFile(path.join(pair.share, 'new.bin'), randomBytes(4 * MiB));
  await appendFile(path.join(pair.share, 'docs/readme.txt'), 'changed\n');
  expect((await ferry(pair.alpha.state, ['task', 'run', 'photos', '--wait'])).code).toBe(0);
  snapDir = path.join(pair.sourcePool.path, '.ferry-snapshots', 'photos', 'photos');
}, 180_000);

afterAll(async () => {
  await pair?.close();
});

const alpha = (): string => pair.alpha.state;
const replicas = async (): Promise<ReplicaView[]> => ferryJson<ReplicaView[]>(pair.beta.state, ['replica', 'list']);
const localSnapshots = async (): Promise<string[]> => (await btrfs.children(snapDir)).map((s) => s.name);

describe('ferry restore', () => {
  it('refuses wrong requests with one sentence and exit 2, changing nothing on either side', async () => {
    const other = path.join(pair.targetPool.path, 'elsewhere');
    const taken = path.join(pair.sourcePool.path, 'taken');
    await writeFile(taken, 'x');
    const to = path.join(pair.sourcePool.path, 'photos-back');
    const before = async (): Promise<string[][]> => [await subvolumesOf(pair.sourcePool.path), await treeOf(pair.sourcePool.path, 4), await subvolumesOf(pair.targetPool.path)];
    const was = await before();
    const cases: [string[], RegExp][] = [
      [['restore', 'photos', '--from', 'beta', '--snapshot', 'yesterday', '--to', to], /'yesterday' is not a snapshot name/],
      [['restore', 'photos', '--from', 'beta', '--snapshot', '20200101T000000.000Z', '--to', to], /no replica '20200101T000000.000Z' of 'photos' is held here; there are: \d{8}T/],
      [['restore', 'photos', '--from', 'nobody', '--to', to], /no peer with id or name 'nobody'/],
      // No task here sends 'videos': beta is asked all the same, and holds nothing of it.
      [['restore', 'videos', '--from', 'beta', '--to', to], /holds no replica of share 'videos' from you; shares of yours held here: photos \[NOT_FOUND\]$/],
      [['restore', 'videos', '--from', 'beta', '--pool', 'nowhere', '--to', to], /there is no pool 'nowhere' on this appliance/],
      [['restore', 'music', '--from', 'beta', '--to', to], /holds no replica of share 'music' from you in pool 'backup'/],
      [['restore', 'photos', '--from', 'beta', '--to', taken], /exists already: a restore never overwrites/],
      [['restore', 'photos', '--from', 'beta', '--to', '/dev/shm/ferry-restore-nowhere'], /is not on a btrfs pool/],
      [['restore', 'photos', '--from', 'beta', '--to', other], /is on another filesystem than the share's snapshots/],
      [['restore', 'photos', '--from', 'beta', '--to', 'relative/path'], /target path must be absolute/],
    ];
    for (const [args, message] of cases) {
      const r = await ferry(alpha(), args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    }
    expect(await before()).toEqual(was);
    expect(await ferryJson<ReceiveTrailEntry[]>(alpha(), ['trail', 'receive'])).toEqual([]);
  });

  it('gives a deleted share back, identical to the last replica, incremental on the snapshot still here; the next run is incremental', async () => {
    const [chain] = await replicas();
    const last = chain?.snapshots.at(-1);
    const first = chain?.snapshots.at(0);
    expect(chain?.snapshots).toHaveLength(2);
    // The bad day: the share is gone, and with it the newest snapshot; the older one is still here.
    await btrfs.delete(pair.share);
    await btrfs.delete(path.join(snapDir, last?.name ?? ''));
    expect(await localSnapshots()).toEqual([first?.name]);

    const r = await ferry(alpha(), ['restore', 'photos', '--from', 'beta', '--to', pair.share, '--wait', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as RestoreView;
    expect(view).toMatchObject({ state: 'succeeded', mode: 'incremental', snapshot: last?.name, parent: first?.name, path: pair.share });
    // Only the change since the parent travelled.
    expect(view.bytes).toBeGreaterThan(4 * MiB);
    expect(view.bytes).toBeLessThan(fullBytes / 3);

    expect(await manifest(pair.share)).toEqual(await manifest(last?.path ?? ''));
    const shown = await btrfs.show(pair.share);
    expect(shown.readOnly).toBe(false);
    const sparse = await stat(path.join(pair.share, 'sparse.img'));
    expect(sparse.size).toBe(64 * MiB + 3);
    expect(sparse.blocks * 512).toBeLessThan(MiB);
    // The restored snapshot is back among the task's snapshots, carrying the replica's identity.
    expect(await localSnapshots()).toEqual([first?.name, last?.name]);
    expect((await btrfs.show(path.join(snapDir, last?.name ?? ''))).receivedUuid).toBe(last?.receivedUuid);

    // Work goes on: the next run of the original task builds on the restored snapshot.
    await writeFile(path.join(pair.share, 'after.txt'), 'after the restore\n');
    const next = await ferry(alpha(), ['task', 'run', 'photos', '--wait']);
    expect(next.code, next.stderr).toBe(0);
    const [sent] = await ferryJson<SendTrailEntry[]>(alpha(), ['trail', 'send', '--task', 'photos', '--limit', '1']);
    expect(sent).toMatchObject({ status: 'succeeded', mode: 'incremental', parent: last?.name });
    expect(sent?.bytes).toBeLessThan(fullBytes / 100);
    console.log(`restore drill: first full send ${fullBytes} B; incremental restore ${view.bytes} B; next run after it ${sent?.bytes ?? 0} B (incremental on ${sent?.parent ?? '-'})`);
    expect((await replicas())[0]?.snapshots).toHaveLength(3);
  });

  it('moves nothing for a snapshot still here, sends a full stream when none is left, and both trails say restore', async () => {
    const [chain] = await replicas();
    const oldest = chain?.snapshots[0];
    const here = path.join(pair.sourcePool.path, 'photos-oldest');
    const local = await ferryJson<RestoreView>(alpha(), ['restore', 'photos', '--from', 'beta', '--snapshot', oldest?.name ?? '', '--to', here, '--json']);
    expect(local).toMatchObject({ state: 'succeeded', mode: 'local', bytes: 0, snapshot: oldest?.name });
    expect(await manifest(here)).toEqual(await manifest(oldest?.path ?? ''));

    // No snapshot left here at all: the whole replica travels.
    for (const name of await localSnapshots()) await btrfs.delete(path.join(snapDir, name));
    const whole = path.join(pair.sourcePool.path, 'photos-whole');
    const full = await ferry(alpha(), ['restore', 'photos', '--from', 'beta', '--to', whole, '--wait', '--json']);
    expect(full.code, full.stderr).toBe(0);
    const view = JSON.parse(full.stdout) as RestoreView;
    expect(view).toMatchObject({ state: 'succeeded', mode: 'full', parent: null });
    expect(view.bytes).toBeGreaterThan(fullBytes * 0.9);
    expect(await manifest(whole)).toEqual(await manifest(chain?.snapshots.at(-1)?.path ?? ''));

    const received = await ferryJson<ReceiveTrailEntry[]>(alpha(), ['trail', 'receive', '--limit', '50']);
    expect(received.map((e) => [e.kind, e.status, e.mode])).toEqual([
      ['restore', 'succeeded', 'full'],
      ['restore', 'succeeded', null],
      ['restore', 'succeeded', 'incremental'],
    ]);
    const sentBack = (await ferryJson<SendTrailEntry[]>(pair.beta.state, ['trail', 'send', '--limit', '50'])).filter((e) => e.kind === 'restore');
    expect(sentBack.map((e) => [e.status, e.mode, e.peer])).toEqual([
      ['succeeded', 'full', pair.alphaId],
      ['succeeded', 'incremental', pair.alphaId],
    ]);
    expect(sentBack[0]?.bytes).toBe(view.bytes);
  });

  it('gives a share back with no task behind it: after task remove, from whatever pool beta holds it in', async () => {
    const [chain] = await replicas();
    const newest = chain?.snapshots.at(-1);
    await ferryOk(alpha(), ['task', 'remove', 'photos']);
    const again = path.join(pair.sourcePool.path, 'photos-again');
    // The removed task's snapshot directory still holds the newest replica's data (the full restore above left it): said with its place.
    const twin = await ferry(alpha(), ['restore', 'photos', '--from', 'beta', '--to', again, '--wait']);
    expect(twin.code).toBe(1);
    expect(twin.stderr).toMatch(/is on this filesystem already, at '\.ferry-snapshots\/photos\/photos\/\d{8}T[\d.]+Z' from its top level: make the share a writable snapshot of it, or delete it/);
    // Once the leftovers are gone (or on a rebuilt appliance, which never had them): the whole replica comes back.
    for (const name of await localSnapshots()) await btrfs.delete(path.join(snapDir, name));
    const r = await ferry(alpha(), ['restore', 'photos', '--from', 'beta', '--to', again, '--wait', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const view = JSON.parse(r.stdout) as RestoreView;
    // Beta said which pool; nothing of the removed task's was there to build on.
    expect(view).toMatchObject({ state: 'succeeded', mode: 'full', pool: 'backup', snapshot: newest?.name, path: again });
    expect(await manifest(again)).toEqual(await manifest(newest?.path ?? ''));
    const kept = path.join(pair.sourcePool.path, '.ferry-snapshots', 'photos', '.restored');
    expect((await btrfs.children(kept)).map((s) => [s.name, s.readOnly, s.receivedUuid])).toEqual([[newest?.name, true, newest?.receivedUuid]]);
    // A second copy of the same replica moves nothing: the first one's snapshot is here.
    const twice = path.join(pair.sourcePool.path, 'photos-twice');
    expect(await ferryJson<RestoreView>(alpha(), ['restore', 'photos', '--from', 'beta', '--to', twice, '--json'])).toMatchObject({ state: 'succeeded', mode: 'local', bytes: 0 });
    expect(await manifest(twice)).toEqual(await manifest(newest?.path ?? ''));
    const [entry] = await ferryJson<ReceiveTrailEntry[]>(alpha(), ['trail', 'receive', '--limit', '1']);
    expect(entry).toMatchObject({ kind: 'restore', task: 'photos', share: 'photos', pool: 'backup', status: 'succeeded' });
  });
});
