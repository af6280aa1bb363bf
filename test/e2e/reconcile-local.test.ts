// A receipt lost after the receiver committed: the attempt is first recorded
// as failed; the next run learns from the receiver that it holds the
// snapshot, records the attempt as succeeded, and sends incrementally on top
// of it instead of sending it again.

import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FerryError } from '../../src/domain/errors.js';
import { localReceiverEndpoint } from '../../src/daemon/local-pair.js';
import { ReplicationDriver } from '../../src/replication/driver.js';
import type { ReceiverEndpoint } from '../../src/replication/endpoints.js';
import { LOCAL_PEER, localPair, type LocalPair } from '../support/pair.js';
import { createPool, type Pool } from '../support/pools.js';

let source: Pool;
let target: Pool;
let pair: LocalPair;

beforeAll(async () => {
  source = await createPool({ sizeMiB: 256 });
  target = await createPool({ sizeMiB: 256 });
  pair = await localPair({ source, target });
  await pair.btrfs.create(path.join(source.path, 'share'));
  await writeFile(path.join(source.path, 'share', 'a.txt'), 'one\n');
});

afterAll(async () => {
  await pair?.close();
  await source?.destroy();
  await target?.destroy();
});

/** A receiver that commits, then the answer never arrives; optionally unreachable from then on. */
function lossyReceiver(options: { downAfterCommit: boolean }): ReceiverEndpoint {
  const real = localReceiverEndpoint(pair.receiver, LOCAL_PEER);
  let down = false;
  return {
    ...real,
    holdings: (request, signal) => (down ? Promise.reject(new FerryError('PEER_UNREACHABLE', 'link down')) : real.holdings(request, signal)),
    transfer: async (id, stream, signal) => {
      await real.transfer(id, stream, signal);
      down = options.downAfterCommit;
      throw new FerryError('PEER_UNREACHABLE', 'the connection broke before the receipt arrived');
    },
  };
}

function driverWith(receiver: ReceiverEndpoint): ReplicationDriver {
  return new ReplicationDriver({
    sender: pair.sender,
    receiverFor: () => receiver,
    trail: pair.senderStore.sendTrail,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });
}

it('learns within the run that the receiver committed, and records success', async () => {
  const outcome = await driverWith(lossyReceiver({ downAfterCommit: false })).run(pair.task());
  expect(outcome.status).toBe('succeeded');
  const [entry] = pair.senderStore.sendTrail.list({ limit: 1 });
  expect(entry).toMatchObject({ status: 'succeeded', errorCode: null, mode: 'full', snapshot: outcome.snapshot });
  expect(entry?.reason).toMatch(/reconciled/);
  expect((await pair.receiver.holdings(LOCAL_PEER, { share: 'share', pool: 'backup' })).map((r) => r.name)).toEqual([outcome.snapshot]);
});

it('reconciles at the next run when the receiver could not be asked, and builds on that snapshot', async () => {
  await appendFile(path.join(source.path, 'share', 'a.txt'), 'two\n');
  const lost = await driverWith(lossyReceiver({ downAfterCommit: true })).run(pair.task());
  expect(lost.status).toBe('failed');
  const [failed] = pair.senderStore.sendTrail.list({ limit: 1 });
  expect(failed).toMatchObject({ status: 'failed', errorCode: 'PEER_UNREACHABLE', mode: 'incremental' });

  await appendFile(path.join(source.path, 'share', 'a.txt'), 'three\n');
  const next = await pair.driver.run(pair.task());
  expect(next.status, JSON.stringify(next.attempts)).toBe('succeeded');
  const [latest, earlier] = pair.senderStore.sendTrail.list({ limit: 2 });
  expect(earlier).toMatchObject({ id: failed?.id, status: 'succeeded', errorCode: null });
  expect(earlier?.reason).toMatch(/reconciled/);
  expect(latest).toMatchObject({ mode: 'incremental', parent: failed?.snapshot, status: 'succeeded' });
});

it('deletes the snapshot of an attempt that never committed', async () => {
  const real = localReceiverEndpoint(pair.receiver, LOCAL_PEER);
  let calls = 0;
  // Reachable for the first question, then the link goes down for good.
  const refusing: ReceiverEndpoint = {
    ...real,
    holdings: (request, signal) => (calls++ === 0 ? real.holdings(request, signal) : Promise.reject(new FerryError('PEER_UNREACHABLE', 'link down'))),
    open: () => Promise.reject(new FerryError('PEER_UNREACHABLE', 'link down')),
  };
  // A failed run whose snapshot stays behind, as after a SIGKILL: its
  // sender cannot delete anything. The next run must drop that snapshot.
  const crashing = new ReplicationDriver({
    sender: {
      listSnapshots: (t) => pair.sender.listSnapshots(t),
      takeSnapshot: (t, n) => pair.sender.takeSnapshot(t, n),
      send: (t, s, p, sig) => pair.sender.send(t, s, p, sig),
      deleteSnapshots: () => Promise.resolve(),
    },
    receiverFor: () => refusing,
    trail: pair.senderStore.sendTrail,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });
  await appendFile(path.join(source.path, 'share', 'a.txt'), 'four\n');
  const failed = await crashing.run(pair.task());
  expect(failed.status).toBe('failed');
  const [entry] = pair.senderStore.sendTrail.list({ limit: 1 });
  const before = (await pair.sender.listSnapshots(pair.task())).map((s) => s.name);
  expect(before).toContain(entry?.snapshot);

  const next = await pair.driver.run(pair.task());
  expect(next.status, JSON.stringify(next.attempts)).toBe('succeeded');
  const after = (await pair.sender.listSnapshots(pair.task())).map((s) => s.name);
  expect(after).not.toContain(entry?.snapshot);
  const [latest] = pair.senderStore.sendTrail.list({ limit: 1 });
  expect(latest?.mode).toBe('incremental');
});
