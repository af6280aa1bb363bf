// Who may restore what, on real btrfs: the holder plans only from the asking
// peer's own chains, and the asker takes a restore stream only when it asked
// that peer for it, for that share, on a parent it holds, carrying what was
// announced; whatever it refuses leaves nothing behind.

import { randomUUID } from 'node:crypto';
import { mkdir, rename, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/domain/errors.js';
import type { ChainReplica } from '../../src/domain/chain.js';
import type { TransferRequest } from '../../src/domain/transfer.js';
import { Receiver } from '../../src/receiver/receiver.js';
import type { RestoreExpectation } from '../../src/receiver/restores.js';
import { LOCAL_PEER } from '../support/pair.js';
import { useLocalPair } from '../support/local-pair-hooks.js';

const setup = useLocalPair();
let replicas: ChainReplica[] = [];
let asker: Receiver;
let dir = '';
const HOLDER = 'holder-peer';

beforeAll(async () => {
  const { driver, receiverStore } = setup.pair;
  expect((await driver.run(setup.pair.task())).status).toBe('succeeded');
  expect((await driver.run(setup.pair.task())).status).toBe('succeeded');
  const chain = receiverStore.chains.get(LOCAL_PEER, 'backup', 'share');
  replicas = receiverStore.chains.replicas(chain?.id ?? -1);
  expect(replicas).toHaveLength(2);
  // The asking side: its own receiver, over the sender's store and pool.
  asker = new Receiver({ btrfs: setup.pair.btrfs, store: setup.pair.senderStore, options: { openTimeoutMs: 5_000 } });
  dir = path.join(setup.source.path, 'restore-into');
  await mkdir(dir, { recursive: true });
});

/** The whole `btrfs send` stream of a subvolume. */
async function sendStream(subvolume: string): Promise<Buffer> {
  const { stream, done } = setup.pair.btrfs.send({ path: subvolume });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  await done;
  return Buffer.concat(chunks);
}

const query = (over: object = {}): Parameters<Receiver['planRestore']>[1] => ({ restoreId: randomUUID(), share: 'share', pool: 'backup', snapshot: null, have: [], ...over });

describe('the holder plans from the asker’s own chains only', () => {
  it('refuses a peer that sent nothing of the share, and names no other peer’s replicas', async () => {
    const err = (await setup.pair.receiver.planRestore('another-peer', query()).catch((e: unknown) => e)) as FerryError;
    expect(err).toBeInstanceOf(FerryError);
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe("this appliance holds no replica of share 'share' from you in pool 'backup'");
  });

  it('plans the newest replica, on the newest older one the asker holds, and nothing when it holds the replica itself', async () => {
    const [first, second] = replicas;
    const plan = await setup.pair.receiver.planRestore(LOCAL_PEER, query({ have: [first?.receivedUuid] }));
    expect(plan.plan).toMatchObject({ snapshot: second?.name, snapshotUuid: second?.receivedUuid, parent: { name: first?.name, uuid: first?.receivedUuid }, sending: true });
    // A plan that sends holds the chain until its send ends: another restore (or a transfer) of it waits.
    await expect(setup.pair.receiver.planRestore(LOCAL_PEER, query())).rejects.toMatchObject({ code: 'SHARE_BUSY' });
    plan.release();
    const full = await setup.pair.receiver.planRestore(LOCAL_PEER, query({ have: [] }));
    expect(full.plan.parent).toBeNull();
    full.release();
    // One that sends nothing holds nothing.
    expect((await setup.pair.receiver.planRestore(LOCAL_PEER, query({ have: [second?.receivedUuid] }))).plan.sending).toBe(false);
    (await setup.pair.receiver.planRestore(LOCAL_PEER, query({ have: [] }))).release();
    const named = await setup.pair.receiver.planRestore(LOCAL_PEER, query({ snapshot: 'nope' })).catch((e: unknown) => e);
    expect(named).toMatchObject({ code: 'INVALID_NAME' });
  });
});

describe('the holder sends what it checked', () => {
  it('refuses to send a replica swapped for a link to another peer’s replica after the plan, and sends nothing', async () => {
    const { receiver, btrfs } = setup.pair;
    const plan = await receiver.planRestore(LOCAL_PEER, query({ have: [] }));
    const aside = `${plan.replicaPath}.aside`;
    // Another peer's replica on the same pool (a read-only snapshot of the source share will do).
    const otherDir = path.join(setup.target.path, 'fotherpeerabcdefghijk', 'share');
    await mkdir(otherDir, { recursive: true });
    const other = path.join(otherDir, path.basename(plan.replicaPath));
    const otherSource = path.join(otherDir, 'source');
    await btrfs.create(otherSource);
    await btrfs.snapshot(otherSource, other, { readOnly: true });
    try {
      await receiver.checkRestoreSource(plan);
      // The swap: the planned replica moved aside, a link to the other's in its place.
      await rename(plan.replicaPath, aside);
      await symlink(other, plan.replicaPath);
      await expect(receiver.checkRestoreSource(plan)).rejects.toMatchObject({ code: 'REPLICA_CHANGED', message: expect.stringMatching(/is a symbolic link/) as unknown });
      // A link higher up the path is found the same way.
      await unlink(plan.replicaPath);
      await rename(aside, plan.replicaPath);
      const shareDir = path.dirname(plan.replicaPath);
      await rename(shareDir, `${shareDir}.real`);
      await symlink(`${shareDir}.real`, shareDir);
      await expect(receiver.checkRestoreSource(plan)).rejects.toMatchObject({ code: 'REPLICA_CHANGED' });
      await unlink(shareDir);
      await rename(`${shareDir}.real`, shareDir);
      // Another subvolume under the planned name (not a link): its UUIDs give it away.
      await rename(plan.replicaPath, aside);
      await btrfs.snapshot(other, plan.replicaPath, { readOnly: true });
      await expect(receiver.checkRestoreSource(plan)).rejects.toMatchObject({ code: 'REPLICA_CHANGED', message: expect.stringMatching(/no longer the subvolume planned/) as unknown });
      await btrfs.delete(plan.replicaPath);
      await rename(aside, plan.replicaPath);
      await receiver.checkRestoreSource(plan);
    } finally {
      plan.release();
      for (const v of [other, otherSource]) await btrfs.delete(v).catch(() => undefined);
    }
  });
});

describe('the asker takes only the restore it asked for', () => {
  const expectation = (over: Partial<RestoreExpectation> = {}): RestoreExpectation => ({
    restoreId: randomUUID(),
    peer: HOLDER,
    pool: 'backup',
    share: 'share',
    snapshot: null,
    task: 'nightly',
    dir,
    have: new Map(),
    ...over,
  });
  const open = (restoreId: string, over: Partial<TransferRequest> = {}): TransferRequest => {
    const newest = replicas.at(-1);
    return {
      attemptId: randomUUID(),
      task: 'restore',
      share: 'share',
      shareUuid: randomUUID(),
      shareOrigin: null,
      restoreId,
      pool: 'backup',
      snapshot: newest?.name ?? '',
      snapshotUuid: newest?.receivedUuid ?? '',
      parent: null,
      keepRemote: 1,
      sizeEstimate: null,
      ...over,
    };
  };
  const refusal = async (p: Promise<unknown>): Promise<FerryError> => (await p.then(() => null, (e: unknown) => e)) as FerryError;

  it('refuses a restore nobody asked for, and one asked of another peer', async () => {
    expect(await refusal(asker.open(HOLDER, open(randomUUID())))).toMatchObject({ code: 'NOT_FOUND', message: 'this appliance asked you for no such restore' });
    const exp = expectation();
    const waiting = asker.expectRestore(exp);
    expect(await refusal(asker.open('mallory', open(exp.restoreId)))).toMatchObject({ code: 'NOT_FOUND' });
    asker.cancelRestore(exp.restoreId, new FerryError('ABORTED', 'test over'));
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('refuses another share, another snapshot than asked, and a parent it does not hold; the restore fails with the reason', async () => {
    for (const [over, expOver, code] of [
      [{ share: 'other' }, {}, 'INVALID_INPUT'],
      [{}, { snapshot: replicas[0]?.name ?? '' }, 'INVALID_INPUT'],
      [{ parent: { name: replicas[0]?.name ?? '', uuid: replicas[0]?.receivedUuid ?? '' } }, {}, 'PARENT_MISSING'],
    ] as const) {
      const exp = expectation(expOver);
      const waiting = asker.expectRestore(exp);
      expect(await refusal(asker.open(HOLDER, open(exp.restoreId, over)))).toMatchObject({ code });
      await expect(waiting).rejects.toMatchObject({ code });
    }
    expect(await setup.pair.btrfs.children(dir)).toEqual([]);
  });

  it('checks the stream like any replica: one carrying another snapshot than announced is refused, and nothing stays', async () => {
    const exp = expectation();
    const waiting = asker.expectRestore(exp);
    waiting.catch(() => undefined);
    const [first, second] = replicas;
    // Announce the newest replica, stream the older one.
    const { transferId } = await asker.open(HOLDER, open(exp.restoreId, { snapshot: second?.name ?? '', snapshotUuid: second?.receivedUuid ?? '' }));
    const older = path.join(setup.target.path, LOCAL_PEER, 'share', first?.name ?? '');
    const err = await refusal(asker.transfer(HOLDER, transferId, Readable.from([await sendStream(older)]), new AbortController().signal));
    expect(err).toMatchObject({ code: 'RECEIVED_MISMATCH' });
    await expect(waiting).rejects.toMatchObject({ code: 'RECEIVED_MISMATCH' });
    expect(await setup.pair.btrfs.children(dir)).toEqual([]);
    const [entry] = setup.pair.senderStore.receiveTrail.list({ limit: 1 });
    expect(entry).toMatchObject({ kind: 'restore', status: 'failed', errorCode: 'RECEIVED_MISMATCH', peer: HOLDER, task: 'nightly' });
  });
});

describe('an asker with no task for the share names no pool', () => {
  it('gets the one pool holding it; with two, is asked which; hears only of its own shares', async () => {
    const found = await setup.pair.receiver.planRestore(LOCAL_PEER, query({ pool: null }));
    expect(found.pool).toBe('backup');
    expect(found.plan).toMatchObject({ pool: 'backup', snapshot: replicas.at(-1)?.name, sending: true });
    found.release();
    const none = await setup.pair.receiver.planRestore('another-peer', query({ pool: null })).catch((e: unknown) => e);
    expect(none).toMatchObject({ code: 'NOT_FOUND', message: "this appliance holds no replica of share 'share' from you; shares of yours held here: none" });
    const elsewhere = await setup.pair.receiver.planRestore(LOCAL_PEER, query({ pool: null, share: 'other' })).catch((e: unknown) => e);
    expect(elsewhere).toMatchObject({ code: 'NOT_FOUND', message: "this appliance holds no replica of share 'other' from you; shares of yours held here: share" });
    // The same share in a second pool: which one is the asker's to say.
    const { receiverStore } = setup.pair;
    receiverStore.pools.add({ name: 'spare', path: setup.target.path });
    receiverStore.chains.create({ peer: LOCAL_PEER, pool: 'spare', share: 'share', sourceUuid: randomUUID() });
    const two = await setup.pair.receiver.planRestore(LOCAL_PEER, query({ pool: null })).catch((e: unknown) => e);
    expect(two).toMatchObject({ code: 'INVALID_INPUT', message: "replicas of share 'share' from you are in pools 'backup' and 'spare' here: say which with --pool" });
    const named = await setup.pair.receiver.planRestore(LOCAL_PEER, query({ pool: 'backup' }));
    expect(named.pool).toBe('backup');
    named.release();
  });
});
