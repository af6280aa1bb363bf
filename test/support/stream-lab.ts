// A receiving appliance in a test process, for crafted streams: a source
// pool whose shares peers snapshot and send, a target pool granted as
// 'backup', a store and a Receiver. Each peer's stream goes through the
// Receiver's open and transfer exactly as one arriving over the network would.

import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Btrfs } from '../../src/btrfs/index.js';
import { snapshotName } from '../../src/domain/names.js';
import type { TransferRequest } from '../../src/domain/transfer.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createPool, type Pool } from './pools.js';

export interface Snap {
  name: string;
  uuid: string;
  path: string;
  share: string;
  shareUuid: string;
}

export type Outcome = { ok: true } | { ok: false; code: string; message: string };

export interface StreamLab {
  readonly btrfs: Btrfs;
  readonly source: Pool;
  readonly target: Pool;
  readonly store: Store;
  readonly receiver: Receiver;
  /** A read-only snapshot of a share on the source pool. */
  snapshot(share: string): Promise<Snap>;
  /** `btrfs send` of a snapshot (on a parent), whole. */
  sendOf(snap: Snap, parent?: Snap): Promise<Buffer>;
  /** The open request a sender would make for the snapshot, under share name `share`, into pool 'backup'. */
  request(snap: Snap, share: string, parent: { name: string; uuid: string } | null, over?: Partial<TransferRequest>): TransferRequest;
  /** Opens and streams a transfer as `peer`; the stream may be made once the transfer's id is known. */
  receiveAs(peer: string, req: TransferRequest, stream: Buffer | ((transferId: string) => Buffer)): Promise<Outcome>;
  destroy(): Promise<void>;
}

export async function streamLab(): Promise<StreamLab> {
  const btrfs = new Btrfs();
  const source = await createPool({ sizeMiB: 256 });
  const target = await createPool({ sizeMiB: 256 });
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-state-'));
  const store = openStore(path.join(stateDir, 'receiver.db'));
  store.pools.add({ name: 'backup', path: target.path });
  const receiver = new Receiver({ btrfs, store });
  const taken: string[] = [];

  return {
    btrfs,
    source,
    target,
    store,
    receiver,
    async snapshot(share) {
      const dir = path.join(source.path, '.snaps');
      await mkdir(dir, { recursive: true });
      const name = snapshotName(new Date(), taken);
      taken.push(name);
      const dest = path.join(dir, name);
      await btrfs.snapshot(share, dest, { readOnly: true });
      return { name, uuid: (await btrfs.show(dest)).uuid, path: dest, share, shareUuid: (await btrfs.show(share)).uuid };
    },
    async sendOf(snap, parent) {
      const sent = btrfs.send({ path: snap.path, ...(parent ? { parent: parent.path } : {}) });
      const parts: Buffer[] = [];
      for await (const chunk of sent.stream) parts.push(chunk as Buffer);
      await sent.done;
      return Buffer.concat(parts);
    },
    request(snap, share, parent, over = {}) {
      return {
        attemptId: randomUUID(),
        task: 'nightly',
        share,
        shareUuid: snap.shareUuid,
        shareOrigin: null,
        pool: 'backup',
        snapshot: snap.name,
        snapshotUuid: snap.uuid,
        parent,
        keepRemote: 10,
        sizeEstimate: null,
        ...over,
      };
    },
    async receiveAs(peer, req, stream) {
      try {
        const { transferId } = await receiver.open(peer, req);
        const bytes = typeof stream === 'function' ? stream(transferId) : stream;
        await receiver.transfer(peer, transferId, Readable.from([bytes]), new AbortController().signal);
        return { ok: true };
      } catch (err) {
        const e = err as { code: string; message: string };
        return { ok: false, code: e.code, message: e.message };
      }
    },
    async destroy() {
      store.close();
      await source.destroy();
      await target.destroy();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
