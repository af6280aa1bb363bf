// The stream upload's flow control on real sockets, with a stand-in receiver
// (no btrfs) that can be made slow: time held back by the receiver's own
// backpressure is not a stall, a sender that stops sending is, and a receiver
// that stops reading is the client's stall.

import { randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/crypto/index.js';
import { FerryError } from '../../src/domain/errors.js';
import { createPeerServer, idOf, PeerClient, type PeerRecord, type PeerServer, type ReceiverPort } from '../../src/peer/index.js';
import type { RateFloor } from '../../src/peer/upload.js';

const receiverIdentity = generateIdentity();
const senderIdentity = generateIdentity();
const senderRecord: PeerRecord = {
  id: idOf(senderIdentity),
  name: 'sender',
  address: 'http://127.0.0.1:1',
  signingPublicKey: senderIdentity.signing.publicKey,
  boxPublicKey: senderIdentity.box.publicKey,
};

let server: PeerServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads `stream` to its end, pausing `pauseMs` after the first `pauseAfter` bytes. */
async function consume(stream: Readable, pauseAfter: number, pauseMs: number): Promise<number> {
  let bytes = 0;
  let paused = false;
  for await (const chunk of stream) {
    bytes += (chunk as Buffer).length;
    if (!paused && bytes >= pauseAfter) {
      paused = true;
      await sleep(pauseMs);
    }
  }
  return bytes;
}

async function start(transfer: ReceiverPort['transfer'], stallTimeoutMs: number, clientStallMs = 600, rateFloor?: RateFloor): Promise<PeerClient> {
  const attempts = new Map<string, string>();
  const seen = new Set<string>();
  server = createPeerServer({
    identity: receiverIdentity,
    name: 'receiver',
    peers: { get: (id) => (id === senderRecord.id ? senderRecord : undefined) },
    nonces: { has: (s, n) => seen.has(`${s} ${n}`), remember: (s, n) => !seen.has(`${s} ${n}`) && Boolean(seen.add(`${s} ${n}`)) },
    receiver: {
      holdings: () => Promise.resolve([]),
      open: (_peer, req) => {
        const transferId = randomUUID();
        attempts.set(transferId, req.attemptId);
        return Promise.resolve({ transferId });
      },
      transfer: async (peer, id, stream, signal) => ({ ...(await transfer(peer, id, stream, signal)), attemptId: attempts.get(id) ?? '' }),
    },
    pairing: { inviteSecret: () => undefined, recordFailure: () => undefined, complete: () => false },
    limits: { stallTimeoutMs, ...(rateFloor ? { rateFloor } : {}) },
  });
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  return new PeerClient({
    identity: senderIdentity,
    peer: { id: idOf(receiverIdentity), name: 'receiver', address, signingPublicKey: receiverIdentity.signing.publicKey, boxPublicKey: receiverIdentity.box.publicKey },
    timeouts: { stallMs: clientStallMs },
  });
}

const openBody = { attemptId: randomUUID(), task: 't', share: 's', shareUuid: randomUUID(), shareOrigin: null, pool: 'p', snapshot: 's', snapshotUuid: randomUUID(), parent: null, keepRemote: 10, sizeEstimate: null };
const receipt = (bytes: number) => ({ attemptId: '', snapshot: 's', receivedUuid: randomUUID(), bytes, replicaPath: '/replica', retention: null });

describe('stream upload flow control', () => {
  it('does not take the receiver’s own backpressure for a stall', async () => {
    const payload = randomBytes(16 << 20);
    let signalled = false;
    const client = await start(async (_peer, _id, stream, signal) => {
      signal.addEventListener('abort', () => {
        signalled = true;
      });
      // Held back for 4x the server's stall timeout: the sender is not to blame.
      return receipt(await consume(stream, 1 << 20, 1_200));
    }, 300, 10_000);
    const { transferId } = await client.open({ ...openBody, attemptId: randomUUID() });
    const result = await client.transfer(transferId, Readable.from([payload]));
    expect(result.bytes).toBe(payload.length);
    expect(signalled).toBe(false);
  });

  it('aborts the receive of a sender that stops sending (server stall watch)', async () => {
    let reason: unknown = null;
    const client = await start(async (_peer, _id, stream, signal) => {
      signal.addEventListener('abort', () => {
        reason = signal.reason;
      });
      await consume(stream, Infinity, 0);
      return receipt(0);
    }, 300);
    const { transferId } = await client.open({ ...openBody, attemptId: randomUUID() });
    const source = new PassThrough();
    source.write(randomBytes(1 << 20));
    // ... and nothing more: the source neither sends nor ends.
    const err = await client.transfer(transferId, source).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ABORTED' });
    expect(reason).toBeInstanceOf(FerryError);
    expect((reason as FerryError).message).toMatch(/stalled/);
  });

  it('aborts the receive of a sender that trickles under the rate floor, though bytes keep coming', async () => {
    let reason: unknown = null;
    const client = await start(
      async (_peer, _id, stream, signal) => {
        signal.addEventListener('abort', () => {
          reason = signal.reason;
        });
        await consume(stream, Infinity, 0);
        return receipt(0);
      },
      // No stall: some byte always comes. The floor (64 KiB/s over 0.6 s) judges it.
      60_000,
      60_000,
      { bytesPerSecond: 64 * 1024, windowMs: 600 },
    );
    const { transferId } = await client.open({ ...openBody, attemptId: randomUUID() });
    const source = new PassThrough();
    source.write(randomBytes(300 << 10));
    const trickle = setInterval(() => source.write(randomBytes(512)), 50);
    try {
      const err = await client.transfer(transferId, source).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ABORTED' });
      expect((reason as FerryError).message).toMatch(/under the floor of 65536 bytes a second/);
    } finally {
      clearInterval(trickle);
      source.destroy();
    }
  });

  it('gives up on a receiver that stops reading (client stall watch): PEER_UNREACHABLE', async () => {
    let release: () => void = () => undefined;
    const blocked = await start(async (_peer, _id, stream) => {
      // Never reads: the sealed bytes pile up in the sockets, then at the sender.
      const gate = new Promise<void>((resolve) => (release = resolve));
      stream.pause();
      await gate;
      return receipt(0);
    }, 60_000);
    const { transferId } = await blocked.open({ ...openBody, attemptId: randomUUID() });
    const started = Date.now();
    const err = await blocked.transfer(transferId, Readable.from([randomBytes(64 << 20)])).catch((e: unknown) => e);
    release();
    expect(err).toMatchObject({ code: 'PEER_UNREACHABLE' });
    expect((err as Error).message).toMatch(/stopped reading/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('a cancel that races the end', () => {
  it('leaves the outcome to the receiver once every byte went out: the commit stands, and the sender says succeeded', async () => {
    const payload = randomBytes(1 << 20);
    let committed: () => void = () => undefined;
    const received = new Promise<void>((resolve) => (committed = resolve));
    let release: () => void = () => undefined;
    const answer = new Promise<void>((resolve) => (release = resolve));
    let receiverSawAbort = false;
    const client = await start(async (_peer, _id, stream, signal) => {
      signal.addEventListener('abort', () => {
        receiverSawAbort = true;
      });
      const bytes = await consume(stream, Infinity, 0);
      // Committed; the answer is on its way when the admin's cancel comes.
      committed();
      await answer;
      return receipt(bytes);
    }, 60_000, 60_000);
    const { transferId } = await client.open({ ...openBody, attemptId: randomUUID() });
    // Whatever the client tells the receiver of the cancel has arrived before the answer is let go.
    const told: Promise<unknown>[] = [];
    const abort = client.abort.bind(client);
    client.abort = (...args) => {
      const notice = abort(...args);
      told.push(notice.catch(() => undefined));
      return notice;
    };
    const cancel = new AbortController();
    const sending = client.transfer(transferId, Readable.from([payload]), cancel.signal);
    await received;
    cancel.abort(new FerryError('CANCELLED', 'cancelled by the admin (ferry task cancel)'));
    await Promise.all(told);
    // One turn of the loop: what the client does once its notice was answered has run.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const result = await sending;
    expect(result.bytes).toBe(payload.length);
    expect(receiverSawAbort).toBe(false);
    expect(told).toEqual([]);
  });
});
