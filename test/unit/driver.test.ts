// The replication driver's logic on in-memory ends (no btrfs, no sockets):
// the receiving end is the fake the contract suite holds to the real ones
// (test/peer/endpoint-contract.test.ts), the sending end a list of snapshots.
// What is tested here is what the driver decides: retries, which snapshot an
// attempt carries, full or incremental, and what the trail says.

import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/domain/errors.js';
import type { LocalSnapshot } from '../../src/domain/snapshot.js';
import type { Task } from '../../src/domain/task.js';
import { ReplicationDriver } from '../../src/replication/driver.js';
import type { SenderEndpoint } from '../../src/replication/endpoints.js';
import { retrying } from '../../src/replication/retry-policy.js';
import { openStore, type Store } from '../../src/store/index.js';
import { FakeReceiver } from '../support/fake-receiver.js';

const SHARE_UUID = randomUUID();

/** A share's snapshots in memory: taking one adds it, deleting removes it, a send is a few bytes. */
class FakeSender implements SenderEndpoint {
  readonly snapshots: LocalSnapshot[] = [];
  taken = 0;
  shareIdentity(): Promise<{ uuid: string; origin: string | null }> {
    return Promise.resolve({ uuid: SHARE_UUID, origin: null });
  }
  listSnapshots(): Promise<LocalSnapshot[]> {
    return Promise.resolve([...this.snapshots]);
  }
  takeSnapshot(_task: Task, name: string): Promise<LocalSnapshot> {
    this.taken++;
    const snapshot = { name, uuid: randomUUID(), sourceUuid: SHARE_UUID };
    this.snapshots.push(snapshot);
    return Promise.resolve(snapshot);
  }
  send(): Readable {
    return Readable.from([Buffer.alloc(4096, 7)]);
  }
  deleteSnapshots(_task: Task, names: readonly string[]): Promise<void> {
    for (const name of names) this.snapshots.splice(this.snapshots.findIndex((s) => s.name === name), 1);
    return Promise.resolve();
  }
}

const task: Task = {
  name: 'nightly',
  sharePath: '/nowhere/share',
  share: 'share',
  peer: 'fake-peer',
  pool: 'backup',
  schedule: { kind: 'every', seconds: 3600 },
  keepLocal: 5,
  keepRemote: 5,
  paused: false,
  createdAt: '2026-12-08T00:00:00.000Z',
};

let store: Store;
let sender: FakeSender;
let receiver: FakeReceiver;
let driver: ReplicationDriver;

beforeEach(() => {
  store = openStore(':memory:');
  sender = new FakeSender();
  receiver = new FakeReceiver(['backup']);
  driver = new ReplicationDriver({ sender, receiverFor: () => receiver, trail: store.sendTrail, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } });
});

describe('the replication driver on in-memory ends', () => {
  it('sends full first, then incremental on what the receiver holds', async () => {
    const first = await driver.run(task);
    const second = await driver.run(task);
    expect([first.status, second.status]).toEqual(['succeeded', 'succeeded']);
    expect([first.attempts[0]?.mode, second.attempts[0]?.mode]).toEqual(['full', 'incremental']);
    const held = await receiver.holdings({ share: 'share', pool: 'backup', shareUuid: SHARE_UUID, shareOrigin: null });
    expect(held.map((r) => r.name)).toEqual([first.snapshot, second.snapshot]);
  });

  it('retries a transient failure with the same snapshot, and the trail has both attempts', async () => {
    receiver.failures.push(new FerryError('PEER_UNREACHABLE', 'the link went down'));
    const outcome = await driver.run(task);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.attempts.map((a) => [a.status, a.errorCode])).toEqual([
      ['failed', 'PEER_UNREACHABLE'],
      ['succeeded', null],
    ]);
    expect(sender.taken).toBe(1);
    expect(receiver.calls.filter((c) => c === 'transfer')).toHaveLength(2);
    expect(store.sendTrail.list({ task: 'nightly', limit: 5 }).map((e) => e.status)).toEqual(['succeeded', 'failed']);
  });

  it('does not retry a permanent failure, and drops the snapshot nobody holds', async () => {
    receiver.failures.push(new FerryError('RECEIVED_MISMATCH', 'not what was announced'));
    const outcome = await driver.run(task);
    expect(outcome.status).toBe('failed');
    expect(outcome.attempts).toHaveLength(1);
    expect(sender.snapshots).toEqual([]);
  });

  it('gives up after the policy\'s attempts', async () => {
    for (let i = 0; i < 3; i++) receiver.failures.push(new FerryError('PEER_UNREACHABLE', `down ${i}`));
    const outcome = await driver.run(task);
    expect(outcome.status).toBe('failed');
    expect(outcome.attempts.map((a) => a.errorCode)).toEqual(['PEER_UNREACHABLE', 'PEER_UNREACHABLE', 'PEER_UNREACHABLE']);
  });
});

describe('retrying, as a restore\'s send uses it', () => {
  const policy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 };
  it.each<[string, (FerryError | null)[], string | null, number]>([
    ['succeeds at once', [null], null, 1],
    ['a transient failure, then success', [new FerryError('PEER_UNREACHABLE', 'cut'), null], null, 2],
    ['a permanent failure is not retried', [new FerryError('REPLICA_CHANGED', 'changed'), null], 'REPLICA_CHANGED', 1],
    ['transient every time: as many tries as the policy allows', [new FerryError('PEER_UNREACHABLE', 'a'), new FerryError('PEER_UNREACHABLE', 'b'), new FerryError('PEER_UNREACHABLE', 'c'), null], 'PEER_UNREACHABLE', 3],
  ])('%s', async (_label, outcomes, code, tries) => {
    let made = 0;
    const result = retrying(policy, new AbortController().signal, () => {
      const outcome = outcomes[made++];
      return outcome ? Promise.reject(outcome) : Promise.resolve('done');
    }).then(
      () => null,
      (err: FerryError) => err.code,
    );
    expect(await result).toBe(code);
    expect(made).toBe(tries);
  });
});
