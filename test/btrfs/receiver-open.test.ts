// The receiver's open on real btrfs: what must not stay held when an open
// fails half-way, and an open whose answer the sender never saw.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readdir } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/domain/errors.js';
import type { TransferRequest } from '../../src/domain/transfer.js';
import { snapshotName } from '../../src/domain/names.js';
import { DEFAULT_MAX_TRANSFERS_PER_PEER, deadlineMs } from '../../src/receiver/limits.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { LOCAL_PEER } from '../support/pair.js';
import { useLocalPair } from '../support/local-pair-hooks.js';

const setup = useLocalPair();
let snap: { name: string; uuid: string; shareUuid: string; path: string };

beforeAll(async () => {
  const { btrfs } = setup.pair;
  const share = path.join(setup.source.path, 'share');
  const dest = path.join(setup.source.path, snapshotName(new Date(), []));
  await btrfs.snapshot(share, dest, { readOnly: true });
  snap = { name: path.basename(dest), uuid: (await btrfs.show(dest)).uuid, shareUuid: (await btrfs.show(share)).uuid, path: dest };
});

afterAll(async () => {
  await setup.pair?.btrfs.delete(snap.path);
});

function request(over: Partial<TransferRequest> = {}): TransferRequest {
  return {
    attemptId: randomUUID(),
    task: 'nightly',
    share: 'share',
    shareUuid: snap.shareUuid,
    shareOrigin: null,
    pool: 'backup',
    snapshot: snap.name,
    snapshotUuid: snap.uuid,
    parent: null,
    keepRemote: 5,
    sizeEstimate: null,
    ...over,
  };
}

describe('Receiver.open', () => {
  it('frees the share when the trail cannot take the attempt', async () => {
    const { receiver } = setup.pair;
    const first = request();
    const { transferId } = await receiver.open(LOCAL_PEER, first);
    receiver.abort(LOCAL_PEER, transferId, new FerryError('ABORTED', 'test'));
    // The same attempt id again: the receive trail refuses it (ALREADY_EXISTS) after the share was locked.
    await expect(receiver.open(LOCAL_PEER, { ...first })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // The lock went with the refusal: a new attempt is not SHARE_BUSY.
    const next = await receiver.open(LOCAL_PEER, request());
    expect(receiver.active.map((t) => t.id)).toEqual([next.transferId]);
    receiver.abort(LOCAL_PEER, next.transferId, new FerryError('ABORTED', 'test'));
  });

  it('lets the same peer open a share again when its answer to an earlier open was lost', async () => {
    const { receiver, receiverStore, btrfs } = setup.pair;
    const lost = request();
    await receiver.open(LOCAL_PEER, lost);
    // The sender never saw that answer and opens again (a new attempt): not SHARE_BUSY.
    const retry = request();
    const { transferId } = await receiver.open(LOCAL_PEER, retry);
    expect(receiver.active.map((t) => t.id)).toEqual([transferId]);
    expect(receiverStore.receiveTrail.get(lost.attemptId)).toMatchObject({ status: 'interrupted', errorCode: 'ABORTED' });
    expect(receiverStore.receiveTrail.get(lost.attemptId)?.error).toMatch(/superseded/);
    // And the new one streams and commits.
    const sent = btrfs.send({ path: snap.path });
    const receipt = await receiver.transfer(LOCAL_PEER, transferId, sent.stream, new AbortController().signal);
    expect(receipt.snapshot).toBe(snap.name);
  });

  it('still refuses a second open while the first one streams', async () => {
    const { receiver } = setup.pair;
    const other = request({ snapshot: snapshotName(new Date(Date.now() + 60_000), []), snapshotUuid: randomUUID() });
    const { transferId } = await receiver.open(LOCAL_PEER, other);
    const never = new Readable({ read() {} });
    const controller = new AbortController();
    const streaming = receiver.transfer(LOCAL_PEER, transferId, never, controller.signal).catch((e: unknown) => e);
    await expect(receiver.open(LOCAL_PEER, request({ snapshotUuid: randomUUID() }))).rejects.toMatchObject({ code: 'SHARE_BUSY' });
    controller.abort();
    never.destroy();
    await streaming;
  });
});

describe("a peer's quota on a pool", () => {
  it('refuses an open whose estimate would pass it, and cuts a stream that does, leaving nothing', async () => {
    const { receiver, receiverStore, btrfs } = setup.pair;
    const held = receiverStore.chains.bytesHeld(LOCAL_PEER, 'backup');
    expect(held).toBeGreaterThan(0);
    receiverStore.policies.set('backup', LOCAL_PEER, { quotaBytes: held + 100 });
    try {
      const share = path.join(setup.source.path, 'share');
      const dest = path.join(setup.source.path, snapshotName(new Date(Date.now() + 120_000), []));
      await btrfs.snapshot(share, dest, { readOnly: true });
      const next = { snapshot: path.basename(dest), snapshotUuid: (await btrfs.show(dest)).uuid, parent: null };

      const estimated = request({ ...next, sizeEstimate: 10_000 });
      await expect(receiver.open(LOCAL_PEER, estimated)).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', message: expect.stringMatching(/would pass this peer's quota on pool 'backup'/) as unknown });
      expect(receiverStore.receiveTrail.get(estimated.attemptId)?.errorCode).toBe('QUOTA_EXCEEDED');

      const unknown = request({ ...next });
      const { transferId } = await receiver.open(LOCAL_PEER, unknown);
      const sent = btrfs.send({ path: dest });
      await expect(receiver.transfer(LOCAL_PEER, transferId, sent.stream, new AbortController().signal)).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
      await sent.done.catch(() => undefined);
      expect(receiverStore.receiveTrail.get(unknown.attemptId)).toMatchObject({ status: 'failed', errorCode: 'QUOTA_EXCEEDED' });
      const left = (await btrfs.children(path.join(setup.target.path, LOCAL_PEER, 'share'))).map((s) => s.name);
      expect(left).toEqual([snap.name]);
      await btrfs.delete(dest);
    } finally {
      receiverStore.policies.set('backup', LOCAL_PEER, { quotaBytes: null });
    }
  });
});

describe("the pool's free space", () => {
  it('refuses, before any byte, a transfer announced larger than the pool has free, and opens one that fits', async () => {
    const { receiver, receiverStore, btrfs } = setup.pair;
    const free = await btrfs.freeBytes(setup.target.path);
    const share = path.join(setup.source.path, 'share');
    const dest = path.join(setup.source.path, snapshotName(new Date(Date.now() + 180_000), []));
    await btrfs.snapshot(share, dest, { readOnly: true });
    try {
      const next = { snapshot: path.basename(dest), snapshotUuid: (await btrfs.show(dest)).uuid, parent: null };
      const tooBig = request({ ...next, sizeEstimate: free + (64 << 20) });
      await expect(receiver.open(LOCAL_PEER, tooBig)).rejects.toMatchObject({
        code: 'NO_SPACE',
        message: expect.stringMatching(/announced at .* and pool 'backup' has .* free/) as unknown,
      });
      expect(receiverStore.receiveTrail.get(tooBig.attemptId)).toMatchObject({ status: 'failed', errorCode: 'NO_SPACE', bytes: 0 });
      expect(receiver.active).toEqual([]);
      // Nothing was made for it: the share directory holds only what it held.
      const before = (await btrfs.children(path.join(setup.target.path, LOCAL_PEER, 'share'))).map((s) => s.name);
      expect(before.some((n) => n.startsWith('.incoming-'))).toBe(false);

      // One that fits opens (and the share is not left locked by the refusal).
      const fits = request({ ...next, sizeEstimate: 4096 });
      const { transferId } = await receiver.open(LOCAL_PEER, fits);
      receiver.abort(LOCAL_PEER, transferId, new FerryError('ABORTED', 'test'));
    } finally {
      await btrfs.delete(dest);
    }
  });
});

describe("a peer's transfers at once", () => {
  it('holds the cap against 30 opens at once: the rest are refused PEER_BUSY, in the trail, and a slot freed is taken again', async () => {
    const { receiver, receiverStore } = setup.pair;
    const opens = Array.from({ length: 30 }, (_, i) =>
      request({ share: `burst-${i}`, shareUuid: randomUUID(), snapshotUuid: randomUUID(), snapshot: snapshotName(new Date(Date.now() + 240_000 + i * 1000), []) }),
    );
    const results = await Promise.allSettled(opens.map((r) => receiver.open(LOCAL_PEER, r)));
    const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.transferId] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as FerryError).code] : []));
    try {
      expect(opened).toHaveLength(DEFAULT_MAX_TRANSFERS_PER_PEER);
      expect(refused).toEqual(Array<string>(30 - DEFAULT_MAX_TRANSFERS_PER_PEER).fill('PEER_BUSY'));
      expect(receiver.active).toHaveLength(DEFAULT_MAX_TRANSFERS_PER_PEER);
      const busy = opens.filter((_, i) => results[i]?.status === 'rejected');
      for (const r of busy) expect(receiverStore.receiveTrail.get(r.attemptId)).toMatchObject({ status: 'failed', errorCode: 'PEER_BUSY', bytes: 0 });
      // One ends: the next open gets its place.
      receiver.abort(LOCAL_PEER, opened.shift() as string, new FerryError('ABORTED', 'test'));
      const next = await receiver.open(LOCAL_PEER, { ...(busy[0] as TransferRequest), attemptId: randomUUID() });
      opened.push(next.transferId);
    } finally {
      for (const id of opened) receiver.abort(LOCAL_PEER, id, new FerryError('ABORTED', 'test'));
    }
    expect(receiver.active).toEqual([]);
  });

  it('takes the cap the pool sets for the peer, and the pool’s own where the peer has none', async () => {
    const { receiver, receiverStore } = setup.pair;
    const burst = async (n: number): Promise<{ opened: string[]; refused: string[] }> => {
      const opens = Array.from({ length: n }, (_, i) =>
        request({ share: `cap-${i}`, shareUuid: randomUUID(), snapshotUuid: randomUUID(), snapshot: snapshotName(new Date(Date.now() + 600_000 + i * 1000), []) }),
      );
      const results = await Promise.allSettled(opens.map((r) => receiver.open(LOCAL_PEER, r)));
      return {
        opened: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.transferId] : [])),
        refused: results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as FerryError).code] : [])),
      };
    };
    const close = (ids: string[]): void => {
      for (const id of ids) receiver.abort(LOCAL_PEER, id, new FerryError('ABORTED', 'test'));
    };
    try {
      receiverStore.policies.set('backup', null, { maxTransfers: 6 });
      const pool = await burst(10);
      close(pool.opened);
      expect([pool.opened.length, pool.refused]).toEqual([6, Array<string>(4).fill('PEER_BUSY')]);
      receiverStore.policies.set('backup', LOCAL_PEER, { maxTransfers: 1 });
      const peer = await burst(10);
      close(peer.opened);
      expect([peer.opened.length, peer.refused]).toEqual([1, Array<string>(9).fill('PEER_BUSY')]);
    } finally {
      receiverStore.policies.set('backup', null, { maxTransfers: null });
      receiverStore.policies.set('backup', LOCAL_PEER, { maxTransfers: null });
    }
    expect(receiver.active).toEqual([]);
  });
});

describe('the deadline of a stream', () => {
  it.each([
    [null, null],
    [0, 15 * 60_000],
    [1 << 30, 15 * 60_000 + 131_072_000],
  ])('for an announced size of %s bytes is %s ms by default', (size, ms) => {
    expect(deadlineMs(size, { graceMs: 15 * 60_000, bytesPerSecond: 16 * 1024 })).toBe(ms);
  });

  it('cuts a stream that runs past the deadline of its announced size (TRANSFER_DEADLINE), in the trail, and leaves no jail', async () => {
    const { btrfs, receiverStore } = setup.pair;
    const receiver = new Receiver({ btrfs, store: receiverStore, options: { deadline: { graceMs: 500, bytesPerSecond: 1 << 30 } } });
    // A snapshot of its own: the file's other snapshot is received by now, and its UUID taken.
    const share = path.join(setup.source.path, 'share');
    const dest = path.join(setup.source.path, snapshotName(new Date(Date.now() + 3_600_000), []));
    await btrfs.snapshot(share, dest, { readOnly: true });
    const req = request({ share: 'deadline', sizeEstimate: 4096, snapshot: path.basename(dest), snapshotUuid: (await btrfs.show(dest)).uuid });
    const { transferId } = await receiver.open(LOCAL_PEER, req);
    // The stream's start, and then nothing more: a trickle that never ends.
    const sent = btrfs.send({ path: dest });
    const head: Buffer[] = [];
    for await (const chunk of sent.stream) head.push(chunk as Buffer);
    await sent.done;
    const body = new PassThrough();
    body.write(Buffer.concat(head).subarray(0, 2048));
    await expect(receiver.transfer(LOCAL_PEER, transferId, body, new AbortController().signal)).rejects.toMatchObject({ code: 'TRANSFER_DEADLINE' });
    expect(receiverStore.receiveTrail.get(req.attemptId)).toMatchObject({ status: 'failed', errorCode: 'TRANSFER_DEADLINE' });
    expect(await readdir(path.join(setup.target.path, LOCAL_PEER, 'deadline'))).toEqual([]);
    await btrfs.delete(dest);
  });
});
