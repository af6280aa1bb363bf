// A receipt lost after the receiver committed: the attempt is first recorded
// as failed; the next run learns from the receiver that it holds the
// snapshot, records the attempt as succeeded, and sends incrementally on top
// of it instead of sending it again.

import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { FerryError } from '../../src/domain/errors.js';
import { localReceiverEndpoint } from '../../src/daemon/local-pair.js';
import { ReplicationDriver } from '../../src/replication/driver.js';
import type { ReceiverEndpoint } from '../../src/replication/endpoints.js';
import { LOCAL_PEER } from '../support/pair.js';
import { useLocalPair } from '../support/local-pair-hooks.js';

const setup = useLocalPair({ sizeMiB: 256 });

beforeAll(async () => {
  await writeFile(path.join(setup.source.path, 'share', 'a.txt'), 'one\n');
});

/** A receiver that commits, then the answer never arrives; optionally unreachable from then on. */
function lossyReceiver(options: { downAfterCommit: boolean }): ReceiverEndpoint {
  const real = localReceiverEndpoint(setup.pair.receiver, LOCAL_PEER);
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
    sender: setup.pair.sender,
    receiverFor: () => receiver,
    trail: setup.pair.senderStore.sendTrail,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });
}

it('learns within the run that the receiver committed, and records success', async () => {
  const outcome = await driverWith(lossyReceiver({ downAfterCommit: false })).run(setup.pair.task());
  expect(outcome.status).toBe('succeeded');
  const [entry] = setup.pair.senderStore.sendTrail.list({ limit: 1 });
  expect(entry).toMatchObject({ status: 'succeeded', errorCode: null, mode: 'full', snapshot: outcome.snapshot });
  expect(entry?.reason).toMatch(/reconciled/);
  expect((await setup.pair.holdings()).map((r) => r.name)).toEqual([outcome.snapshot]);
});

it('reconciles at the next run when the receiver could not be asked, and builds on that snapshot', async () => {
  await appendFile(path.join(setup.source.path, 'share', 'a.txt'), 'two\n');
  const lost = await driverWith(lossyReceiver({ downAfterCommit: true })).run(setup.pair.task());
  expect(lost.status).toBe('failed');
  const [failed] = setup.pair.senderStore.sendTrail.list({ limit: 1 });
  expect(failed).toMatchObject({ status: 'failed', errorCode: 'PEER_UNREACHABLE', mode: 'incremental' });

  await appendFile(path.join(setup.source.path, 'share', 'a.txt'), 'three\n');
  const next = await setup.pair.driver.run(setup.pair.task());
  expect(next.status, JSON.stringify(next.attempts)).toBe('succeeded');
  const [latest, earlier] = setup.pair.senderStore.sendTrail.list({ limit: 2 });
  expect(earlier).toMatchObject({ id: failed?.id, status: 'succeeded', errorCode: null });
  expect(earlier?.reason).toMatch(/reconciled/);
  expect(latest).toMatchObject({ mode: 'incremental', parent: failed?.snapshot, status: 'succeeded' });
});

it('deletes the snapshot of an attempt that never committed', async () => {
  const real = localReceiverEndpoint(setup.pair.receiver, LOCAL_PEER);
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
      shareIdentity: (t) => setup.pair.sender.shareIdentity(t),
      listSnapshots: (t) => setup.pair.sender.listSnapshots(t),
      takeSnapshot: (t, n) => setup.pair.sender.takeSnapshot(t, n),
      send: (t, s, p, sig) => setup.pair.sender.send(t, s, p, sig),
      deleteSnapshots: () => Promise.resolve(),
    },
    receiverFor: () => refusing,
    trail: setup.pair.senderStore.sendTrail,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });
  await appendFile(path.join(setup.source.path, 'share', 'a.txt'), 'four\n');
  const failed = await crashing.run(setup.pair.task());
  expect(failed.status).toBe('failed');
  const [entry] = setup.pair.senderStore.sendTrail.list({ limit: 1 });
  const before = (await setup.pair.sender.listSnapshots(setup.pair.task())).map((s) => s.name);
  expect(before).toContain(entry?.snapshot);

  const next = await setup.pair.driver.run(setup.pair.task());
  expect(next.status, JSON.stringify(next.attempts)).toBe('succeeded');
  const after = (await setup.pair.sender.listSnapshots(setup.pair.task())).map((s) => s.name);
  expect(after).not.toContain(entry?.snapshot);
  const [latest] = setup.pair.senderStore.sendTrail.list({ limit: 1 });
  expect(latest?.mode).toBe('incremental');
});
