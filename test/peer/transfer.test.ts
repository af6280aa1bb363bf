// Holdings, open and transfer over real sockets into the real Receiver on real
// btrfs: a full and an incremental send arrive byte-identical, and the
// replication driver runs over the HTTP pair exactly as over the local one.

import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Btrfs } from '../../src/btrfs/index.js';
import { snapshotName } from '../../src/domain/names.js';
import type { Task } from '../../src/domain/task.js';
import { ReplicationDriver } from '../../src/replication/driver.js';
import type { ReceiverEndpoint } from '../../src/replication/endpoints.js';
import { Sender } from '../../src/sender/sender.js';
import { taskSnapshotDir } from '../../src/sender/paths.js';
import { manifest } from '../support/manifest.js';
import { pairByInvite, startAppliance, type TestAppliance } from '../support/peer-appliance.js';
import { createPool, type Pool } from '../support/pools.js';

let source: Pool;
let target: Pool;
let receiving: TestAppliance;
let sending: TestAppliance;
const btrfs = new Btrfs();
let shareId = '';
/** The share's subvolume UUID: the identity of its replica chain on the receiver. */
const shareUuid = (): string => shareId;

beforeAll(async () => {
  source = await createPool({ sizeMiB: 512 });
  target = await createPool({ sizeMiB: 512 });
  receiving = await startAppliance({ name: 'receiving', pools: [{ name: 'backup', path: target.path }], limits: { stallTimeoutMs: 5_000 } });
  sending = await startAppliance({ name: 'sending' });
  await pairByInvite(receiving, sending);
});

afterAll(async () => {
  await sending?.close();
  await receiving?.close();
  await source?.destroy();
  await target?.destroy();
});

async function populate(root: string): Promise<void> {
  await writeFile(path.join(root, 'big.bin'), randomBytes(24 << 20));
  await mkdir(path.join(root, 'docs/sub'), { recursive: true });
  await writeFile(path.join(root, 'docs/readme.txt'), 'hello\n');
  await writeFile(path.join(root, 'docs/sub/deep.txt'), 'deep\n');
  await writeFile(path.join(root, 'empty'), '');
  await symlink('docs/readme.txt', path.join(root, 'link'));
}

async function snapshot(share: string, dir: string, existing: string[]): Promise<{ name: string; uuid: string; path: string }> {
  await mkdir(dir, { recursive: true });
  const name = snapshotName(new Date(), existing);
  const dest = path.join(dir, name);
  await btrfs.snapshot(share, dest, { readOnly: true });
  const info = await btrfs.show(dest);
  existing.push(name);
  return { name, uuid: info.uuid, path: dest };
}

describe('holdings, open and transfer over HTTP', () => {
  const share = (): string => path.join(source.path, 'share');
  const snapDir = (): string => path.join(source.path, '.snaps');
  const names: string[] = [];

  it('sends a full and then an incremental stream; the replicas are byte-identical', async () => {
    await btrfs.create(share());
    shareId = (await btrfs.show(share())).uuid;
    await populate(share());
    const client: ReceiverEndpoint = sending.clientFor(receiving);
    const signal = new AbortController().signal;
    expect(await client.holdings({ share: 'share', pool: 'backup', shareUuid: shareUuid(), shareOrigin: null }, signal)).toEqual([]);

    const first = await snapshot(share(), snapDir(), names);
    const open1 = await client.open(
      { attemptId: randomUUID(), task: 'nightly', share: 'share', shareUuid: shareUuid(), shareOrigin: null, pool: 'backup', snapshot: first.name, snapshotUuid: first.uuid, parent: null, keepRemote: 10, sizeEstimate: null },
      signal,
    );
    const send1 = btrfs.send({ path: first.path, signal });
    const receipt1 = await client.transfer(open1.transferId, send1.stream, signal);
    await send1.done;
    const replica1 = path.join(target.path, sending.id, 'share', first.name);
    expect(receipt1).toMatchObject({ snapshot: first.name, receivedUuid: first.uuid, replicaPath: replica1 });
    expect(receipt1.bytes).toBeGreaterThan(24 << 20);
    const shown1 = await btrfs.show(replica1);
    expect(shown1.readOnly).toBe(true);
    expect(shown1.receivedUuid).toBe(first.uuid);
    expect(await manifest(replica1)).toEqual(await manifest(first.path));

    await appendFile(path.join(share(), 'docs/readme.txt'), 'more\n');
    await rm(path.join(share(), 'empty'));
    await writeFile(path.join(share(), 'new.bin'), randomBytes(3 << 20));
    const second = await snapshot(share(), snapDir(), names);
    const open2 = await client.open(
      {
        attemptId: randomUUID(),
        task: 'nightly',
        share: 'share',
        shareUuid: shareUuid(),
        shareOrigin: null,
        pool: 'backup',
        snapshot: second.name,
        snapshotUuid: second.uuid,
        parent: { name: first.name, uuid: first.uuid },
        keepRemote: 10,
        sizeEstimate: null,
      },
      signal,
    );
    const send2 = btrfs.send({ path: second.path, parent: first.path, signal });
    const receipt2 = await client.transfer(open2.transferId, send2.stream, signal);
    await send2.done;
    expect(receipt2.bytes).toBeLessThan(8 << 20);
    const replica2 = path.join(target.path, sending.id, 'share', second.name);
    expect(await manifest(replica2)).toEqual(await manifest(second.path));

    expect(await client.holdings({ share: 'share', pool: 'backup', shareUuid: shareUuid(), shareOrigin: null }, signal)).toEqual([
      { name: first.name, receivedUuid: first.uuid },
      { name: second.name, receivedUuid: second.uuid },
    ]);
    const trail = receiving.store.receiveTrail.list({ limit: 10 });
    expect(trail.map((t) => [t.status, t.peer, t.mode])).toEqual(
      expect.arrayContaining([
        ['succeeded', sending.id, 'full'],
        ['succeeded', sending.id, 'incremental'],
      ]),
    );
    expect(receiving.refusals()).toEqual([]);
  });

  it('refuses an incremental send whose parent the receiver does not hold, as PARENT_MISSING', async () => {
    const client = sending.clientFor(receiving);
    const third = await snapshot(share(), snapDir(), names);
    const err = await client
      .open({
        attemptId: randomUUID(),
        task: 'nightly',
        share: 'share',
        shareUuid: shareUuid(),
        shareOrigin: null,
        pool: 'backup',
        snapshot: third.name,
        snapshotUuid: third.uuid,
        parent: { name: '20000101T000000.000Z', uuid: randomUUID() },
        keepRemote: 10,
        sizeEstimate: null,
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PARENT_MISSING' });
    expect(receiving.refusals('PARENT_MISSING')).toHaveLength(1);
  });

  it('runs the replication driver over the HTTP pair', async () => {
    const task: Task = {
      name: 'offsite',
      sharePath: path.join(source.path, 'photos'),
      share: 'photos',
      peer: receiving.id,
      pool: 'backup',
      schedule: { kind: 'every', seconds: 3600 },
      keepLocal: 3,
      keepRemote: 5,
      paused: false,
      createdAt: new Date().toISOString(),
    };
    await btrfs.create(task.sharePath);
    await populate(task.sharePath);
    const client = sending.clientFor(receiving);
    const driver = new ReplicationDriver({
      sender: new Sender({ btrfs }),
      receiverFor: () => client,
      trail: sending.store.sendTrail,
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
    });
    const full = await driver.run(task);
    expect(full.status, JSON.stringify(full.attempts)).toBe('succeeded');
    await writeFile(path.join(task.sharePath, 'later.txt'), 'later\n');
    const incremental = await driver.run(task);
    expect(incremental.status, JSON.stringify(incremental.attempts)).toBe('succeeded');
    expect(incremental.attempts[0]?.mode).toBe('incremental');
    for (const outcome of [full, incremental]) {
      const name = outcome.snapshot!;
      expect(await manifest(path.join(target.path, sending.id, 'photos', name))).toEqual(await manifest(path.join(taskSnapshotDir(task), name)));
    }
  });
});
