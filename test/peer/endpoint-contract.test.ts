// The receiving end's contract (ReceiverEndpoint, src/replication/
// endpoints.ts), one set of cases run against all three ends the driver can
// be given: the in-memory fake the driver's logic tests use
// (test/support/fake-receiver.ts), the Receiver in this process on real btrfs
// (what same-machine replication uses), and the Receiver over signed HTTP
// (what two appliances use). What the fake answers, the real ones answer.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Btrfs } from '../../src/btrfs/index.js';
import { localReceiverEndpoint } from '../../src/daemon/local-pair.js';
import { FerryError } from '../../src/domain/errors.js';
import { snapshotName } from '../../src/domain/names.js';
import type { TransferRequest } from '../../src/domain/transfer.js';
import { Receiver } from '../../src/receiver/receiver.js';
import type { ReceiverEndpoint } from '../../src/replication/endpoints.js';
import { openStore, type Store } from '../../src/store/index.js';
import { FakeReceiver } from '../support/fake-receiver.js';
import { pairByInvite, startAppliance, type TestAppliance } from '../support/peer-appliance.js';
import { createPool, type Pool } from '../support/pools.js';
import { rejection } from '../support/errors.js';
import { eventually } from '../support/eventually.js';

const btrfs = new Btrfs();
const signal = new AbortController().signal;

interface Snap {
  readonly name: string;
  readonly uuid: string;
  /** Its send stream, incremental from `parent` when given. */
  stream(parent?: Snap): Readable;
}

interface World {
  readonly endpoint: ReceiverEndpoint;
  readonly share: string;
  readonly shareUuid: string;
  snapshot(): Promise<Snap>;
  close(): Promise<void>;
}

let source: Pool;
let target: Pool;

beforeAll(async () => {
  source = await createPool({ sizeMiB: 256 });
  target = await createPool({ sizeMiB: 256 });
});

afterAll(async () => {
  await source?.destroy();
  await target?.destroy();
});

/** Snapshots of a real share on the source pool, each with a little more data in it. */
async function realShare(share: string): Promise<{ shareUuid: string; snapshot: () => Promise<Snap> }> {
  const sharePath = path.join(source.path, share);
  const snaps = path.join(source.path, `.snaps-${share}`);
  await btrfs.create(sharePath);
  await mkdir(snaps);
  const names: string[] = [];
  return {
    shareUuid: (await btrfs.show(sharePath)).uuid,
    snapshot: async () => {
      await writeFile(path.join(sharePath, `file-${names.length}.bin`), randomBytes(256 << 10));
      const name = snapshotName(new Date(), names);
      names.push(name);
      const where = path.join(snaps, name);
      await btrfs.snapshot(sharePath, where, { readOnly: true });
      const { uuid } = await btrfs.show(where);
      return { name, uuid, stream: (parent) => btrfs.send({ path: where, ...(parent ? { parent: path.join(snaps, parent.name) } : {}) }).stream };
    },
  };
}

const worlds: [string, () => Promise<World>][] = [
  [
    'the in-memory fake',
    () => {
      const names: string[] = [];
      return Promise.resolve({
        endpoint: new FakeReceiver(['backup']),
        share: 'fake',
        shareUuid: randomUUID(),
        snapshot: () => {
          const name = snapshotName(new Date(), names);
          names.push(name);
          return Promise.resolve({ name, uuid: randomUUID(), stream: () => Readable.from([randomBytes(4096)]) });
        },
        close: () => Promise.resolve(),
      });
    },
  ],
  [
    'the Receiver in process, on btrfs',
    async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-contract-'));
      const store: Store = openStore(path.join(dir, 'ferry.db'));
      store.pools.add({ name: 'backup', path: target.path });
      const share = await realShare('local');
      return {
        endpoint: localReceiverEndpoint(new Receiver({ btrfs, store }), 'contract-peer'),
        share: 'local',
        ...share,
        close: async () => {
          store.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'the Receiver over signed HTTP, on btrfs',
    async () => {
      const receiving: TestAppliance = await startAppliance({ name: 'receiving', pools: [{ name: 'backup', path: target.path }] });
      const sending = await startAppliance({ name: 'sending' });
      await pairByInvite(receiving, sending);
      const share = await realShare('remote');
      return {
        endpoint: sending.clientFor(receiving),
        share: 'remote',
        ...share,
        close: async () => {
          await sending.close();
          await receiving.close();
        },
      };
    },
  ],
];

describe.each(worlds)('the receiving end: %s', (_, make) => {
  let world: World;
  let first: Snap;
  let second: Snap;
  beforeAll(async () => {
    world = await make();
    first = await world.snapshot();
    second = await world.snapshot();
  });
  afterAll(async () => {
    await world?.close();
  });

  const request = (snap: Snap, parent: Snap | null = null, over: Partial<TransferRequest> = {}): TransferRequest => ({
    attemptId: randomUUID(),
    task: 'nightly',
    share: world.share,
    shareUuid: world.shareUuid,
    shareOrigin: null,
    pool: 'backup',
    snapshot: snap.name,
    snapshotUuid: snap.uuid,
    parent: parent ? { name: parent.name, uuid: parent.uuid } : null,
    keepRemote: 10,
    sizeEstimate: null,
    ...over,
  });
  const holdings = async (): Promise<string[]> =>
    (await world.endpoint.holdings({ share: world.share, pool: 'backup', shareUuid: world.shareUuid, shareOrigin: null }, signal)).map((r) => r.name);
  const codeOf = async (work: Promise<unknown>): Promise<string> => {
    const err = await rejection(work);
    expect(err).toBeInstanceOf(FerryError);
    return err.code;
  };

  it('holds nothing of a share it never received', async () => {
    expect(await holdings()).toEqual([]);
  });

  it('refuses a pool it does not have, before any byte: POOL_NOT_GRANTED', async () => {
    expect(await codeOf(world.endpoint.open(request(first, null, { pool: 'nowhere' }), signal))).toBe('POOL_NOT_GRANTED');
  });

  it('refuses an incremental whose parent it does not hold, at the open: PARENT_MISSING', async () => {
    expect(await codeOf(world.endpoint.open(request(second, first), signal))).toBe('PARENT_MISSING');
  });

  it('answers TRANSFER_NOT_FOUND for a transfer it never opened', async () => {
    expect(await codeOf(world.endpoint.transfer(randomUUID(), first.stream(), signal))).toBe('TRANSFER_NOT_FOUND');
  });

  it('commits nothing of a stream that fails half-way', async () => {
    const { transferId } = await world.endpoint.open(request(first), signal);
    const whole = first.stream();
    const cut = Readable.from(
      (async function* () {
        let sent = 0;
        for await (const chunk of whole) {
          yield chunk as Buffer;
          sent += (chunk as Buffer).length;
          if (sent > 1024) break;
        }
        whole.destroy();
        throw new FerryError('PEER_UNREACHABLE', 'the link went down');
      })(),
    );
    await rejection(world.endpoint.transfer(transferId, cut, signal));
    expect(await holdings()).toEqual([]);
    // Over HTTP the receiving side notices the cut upload a moment after the sender gave up: until then the share is busy (a sender retries after its backoff).
    await eventually('the share free again after the failed stream', async () => {
      const again = await world.endpoint.open(request(first), signal).then(
        (opened) => opened,
        (err: unknown) => {
          if (err instanceof FerryError && err.code === 'SHARE_BUSY') return null;
          throw err;
        },
      );
      if (again === null) return false;
      await world.endpoint.drop?.(again.transferId, new FerryError('ABORTED', 'only a probe'));
      return true;
    });
  });

  it('takes a full stream, then an incremental one on it; holdings lists both, oldest first', async () => {
    const full = await world.endpoint.open(request(first), signal);
    const a = await world.endpoint.transfer(full.transferId, first.stream(), signal);
    expect(a).toMatchObject({ snapshot: first.name, receivedUuid: first.uuid });
    expect(a.bytes).toBeGreaterThan(0);
    const inc = await world.endpoint.open(request(second, first), signal);
    const b = await world.endpoint.transfer(inc.transferId, second.stream(first), signal);
    expect(b).toMatchObject({ snapshot: second.name, receivedUuid: second.uuid });
    expect(await holdings()).toEqual([first.name, second.name]);
    const held = await world.endpoint.holdings({ share: world.share, pool: 'backup', shareUuid: world.shareUuid, shareOrigin: null }, signal);
    expect(held.map((r) => r.receivedUuid)).toEqual([first.uuid, second.uuid]);
  });

  it('refuses a snapshot it holds already: ALREADY_EXISTS', async () => {
    expect(await codeOf(world.endpoint.open(request(second, first), signal))).toBe('ALREADY_EXISTS');
  });
});
