// An in-process pair of appliances on two real btrfs pools: a sender with a
// share on one pool, a receiver granting another pool, and the replication
// driver joining them through the same interfaces the HTTP pair uses.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Btrfs } from '../../src/btrfs/index.js';
import { localReceiverEndpoint } from '../../src/daemon/local-pair.js';
import type { Replica } from '../../src/domain/snapshot.js';
import { defaultKeepLocal, defaultKeepRemote, type Task } from '../../src/domain/task.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { ReplicationDriver } from '../../src/replication/driver.js';
import type { RetryPolicy } from '../../src/replication/retry-policy.js';
import { Sender } from '../../src/sender/sender.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { Pool } from './pools.js';

export const LOCAL_PEER = 'local-test-peer';

export interface LocalPair {
  readonly btrfs: Btrfs;
  readonly senderStore: Store;
  readonly receiverStore: Store;
  readonly sender: Sender;
  readonly receiver: Receiver;
  readonly driver: ReplicationDriver;
  task(overrides?: Partial<Task>): Task;
  /** What the receiver holds of the task's share (the default task's unless given). */
  holdings(task?: Task): Promise<Replica[]>;
  close(): Promise<void>;
}

export async function localPair(options: {
  source: Pool;
  target: Pool;
  poolName?: string;
  btrfs?: Btrfs;
  senderBtrfs?: Btrfs;
  retry?: RetryPolicy;
}): Promise<LocalPair> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-state-'));
  const btrfs = options.btrfs ?? new Btrfs();
  const senderStore = openStore(path.join(stateDir, 'sender.db'));
  const receiverStore = openStore(path.join(stateDir, 'receiver.db'));
  const poolName = options.poolName ?? 'backup';
  receiverStore.pools.add({ name: poolName, path: options.target.path });
  const sender = new Sender({ btrfs: options.senderBtrfs ?? btrfs });
  const receiver = new Receiver({ btrfs, store: receiverStore });
  const endpoint = localReceiverEndpoint(receiver, LOCAL_PEER);
  const driver = new ReplicationDriver({
    sender,
    receiverFor: () => endpoint,
    trail: senderStore.sendTrail,
    retry: options.retry ?? { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
  });
  const task = (overrides: Partial<Task> = {}): Task => ({
    name: 'nightly',
    sharePath: path.join(options.source.path, 'share'),
    share: 'share',
    peer: LOCAL_PEER,
    pool: poolName,
    schedule: { kind: 'every', seconds: 3600 },
    keepLocal: defaultKeepLocal,
    keepRemote: defaultKeepRemote,
    paused: false,
    createdAt: new Date().toISOString(),
    ...overrides,
  });
  return {
    btrfs,
    senderStore,
    receiverStore,
    sender,
    receiver,
    driver,
    task,
    holdings: async (t = task()) => {
      const id = await sender.shareIdentity(t);
      return receiver.holdings(LOCAL_PEER, { share: t.share, pool: t.pool, shareUuid: id.uuid, shareOrigin: id.origin });
    },
    close: async () => {
      senderStore.close();
      receiverStore.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
