// Failback's common ground, on real btrfs: the receiver accepts one of its
// own snapshots as the parent of a peer's stream only when this appliance
// sent that snapshot to that peer. Naming any other subvolume of this
// appliance (a snapshot never sent, or sent to someone else) as the origin
// must not get it offered or used: its data would be copied into the peer's
// chain, and the peer could restore it.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { promotionBases, sentSnapshots } from '../../src/daemon/failback.js';
import type { TransferRequest } from '../../src/domain/transfer.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { taskSnapshotDir } from '../../src/sender/paths.js';
import { LOCAL_PEER } from '../support/pair.js';
import { useLocalPair } from '../support/local-pair-hooks.js';

const setup = useLocalPair();
let sent = { name: '', uuid: '' };
let unsent = { name: '', uuid: '' };
let home: Receiver;

beforeAll(async () => {
  const { driver, senderStore, btrfs } = setup.pair;
  const task = setup.pair.task();
  senderStore.tasks.add(task);
  const outcome = await driver.run(task);
  expect(outcome.status).toBe('succeeded');
  sent = { name: outcome.snapshot ?? '', uuid: (await btrfs.show(path.join(taskSnapshotDir(task), outcome.snapshot ?? ''))).uuid };
  // A snapshot in the task's directory that no run sent.
  unsent = { name: '20300101T000000.000Z', uuid: '' };
  await btrfs.snapshot(task.sharePath, path.join(taskSnapshotDir(task), unsent.name), { readOnly: true });
  unsent.uuid = (await btrfs.show(path.join(taskSnapshotDir(task), unsent.name))).uuid;
  // The sending appliance, as a receiver of what its peer sends back.
  senderStore.pools.add({ name: 'back', path: setup.source.path });
  home = new Receiver({ btrfs, store: senderStore, sentSnapshots: sentSnapshots(senderStore, btrfs) });
});

describe('sent snapshots', () => {
  it('finds a snapshot only by a peer it was sent to, after a run sent it', async () => {
    const find = sentSnapshots(setup.pair.senderStore, setup.pair.btrfs);
    expect(await find(LOCAL_PEER, sent.uuid)).toEqual({ name: sent.name, path: path.join(taskSnapshotDir(setup.pair.task()), sent.name) });
    expect(await find('another-peer', sent.uuid)).toBeNull();
    expect(await find(LOCAL_PEER, unsent.uuid)).toBeNull();
  });

  it('offers the sent snapshot as a parent to the peer, and nothing else it names', async () => {
    const ask = (origin: string): Promise<unknown> => home.holdings(LOCAL_PEER, { share: 'returned', pool: 'back', shareUuid: randomUUID(), shareOrigin: origin });
    expect(await ask(sent.uuid)).toEqual([{ name: sent.name, receivedUuid: sent.uuid }]);
    expect(await ask(unsent.uuid)).toEqual([]);
    expect(await home.holdings('another-peer', { share: 'returned', pool: 'back', shareUuid: randomUUID(), shareOrigin: sent.uuid })).toEqual([]);

    const open = (parent: { name: string; uuid: string }): Promise<unknown> => {
      const request: TransferRequest = {
        attemptId: randomUUID(),
        task: 'failback',
        share: 'returned',
        shareUuid: randomUUID(),
        shareOrigin: parent.uuid,
        pool: 'back',
        snapshot: '20310101T000000.000Z',
        snapshotUuid: randomUUID(),
        parent,
        keepRemote: 5,
        sizeEstimate: null,
      };
      return home.open(LOCAL_PEER, request).catch((e: unknown) => e);
    };
    expect(await open(unsent)).toMatchObject({ code: 'PARENT_MISSING' });
    const accepted = (await open(sent)) as { transferId: string };
    expect(accepted.transferId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives a task a promoted share’s base only when it sends back to the replica’s peer', () => {
    const store = setup.pair.senderStore;
    const task = setup.pair.task({ name: 'other', sharePath: path.join(setup.source.path, 'promoted') });
    store.copies.add({ path: task.sharePath, uuid: randomUUID(), kind: 'promote', peer: LOCAL_PEER, pool: 'back', share: 'share', snapshot: sent.name, basePath: '/x', baseIdentity: sent.uuid, createdAt: new Date().toISOString() });
    expect(promotionBases(store)(task)).toEqual([{ name: sent.name, identity: sent.uuid, path: '/x' }]);
    expect(promotionBases(store)({ ...task, peer: 'another-peer' })).toEqual([]);
  });
});
