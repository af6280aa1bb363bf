// What the peer server refuses, on real sockets, with the real Receiver on real
// btrfs behind it. Each case asserts the status and code of the answer, that the
// refusal was logged with its code, and that nothing was written: no trail
// entry for forged requests, and neither staging nor a replica for streams.

import { buffer } from 'node:stream/consumers';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeStreamHeader } from '../../proto/frame.js';
import { fromBase64url } from '../../proto/ids.js';
import { routes, type OpenTransferRequest } from '../../proto/messages.js';
import { bodyDigest } from '../../proto/signing.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';
import { Btrfs } from '../../src/btrfs/index.js';
import { createSealer, generateIdentity, senderStreamKey, type Identity } from '../../src/crypto/index.js';
import { FerryError } from '../../src/domain/errors.js';
import { snapshotName } from '../../src/domain/names.js';
import { idOf, PeerClient, verifyResponse } from '../../src/peer/index.js';
import { pairByInvite, rawRequest, signedHeaders, signedJson, startAppliance, type RawResponse, type TestAppliance } from '../support/peer-appliance.js';
import { createPool, type Pool } from '../support/pools.js';
import { eventually } from '../support/eventually.js';

const STALL_MS = 1_000;
const CHUNK = 64 * 1024;
/** The sending share's identity, as the open requests announce it. */
const SHARE_UUID = '5a4e0000-0000-4000-8000-000000000001';

let source: Pool;
let target: Pool;
let receiving: TestAppliance;
let sending: TestAppliance;
let stranger: Identity;
const btrfs = new Btrfs();
/** The btrfs send stream of a real snapshot of share `share`. */
let plain: Buffer;
let snap: { name: string; uuid: string };

beforeAll(async () => {
  source = await createPool();
  target = await createPool();
  receiving = await startAppliance({
    name: 'receiving',
    pools: [{ name: 'backup', path: target.path }],
    limits: { stallTimeoutMs: STALL_MS, drainMs: 2_000 },
  });
  sending = await startAppliance({ name: 'sending' });
  stranger = generateIdentity();
  await pairByInvite(receiving, sending);

  const share = path.join(source.path, 'share');
  await btrfs.create(share);
  await writeFile(path.join(share, 'data.bin'), randomBytes(4 << 20));
  await writeFile(path.join(share, 'note.txt'), 'note\n');
  snap = await snapshotOf(share);
  plain = await buffer(btrfs.send({ path: path.join(source.path, '.snaps', snap.name) }).stream);
});

afterAll(async () => {
  await sending?.close();
  await receiving?.close();
  await source?.destroy();
  await target?.destroy();
});

// ---- helpers ---------------------------------------------------------------------------

async function snapshotOf(share: string): Promise<{ name: string; uuid: string }> {
  const dir = path.join(source.path, '.snaps');
  await mkdir(dir, { recursive: true });
  const name = snapshotName(new Date(), await readdir(dir));
  await btrfs.snapshot(share, path.join(dir, name), { readOnly: true });
  return { name, uuid: (await btrfs.show(path.join(dir, name))).uuid };
}

function openBody(over: Partial<OpenTransferRequest> = {}): OpenTransferRequest {
  return { attemptId: randomUUID(), task: 'nightly', share: 'share', shareUuid: SHARE_UUID, shareOrigin: null, pool: 'backup', snapshot: snap.name, snapshotUuid: snap.uuid, parent: null, sizeEstimate: null, ...over };
}

/** Opens a transfer with a signed request of the sending appliance; returns its id and salt. */
async function openTransfer(over: Partial<OpenTransferRequest> = {}): Promise<{ transferId: string; salt: Uint8Array; attemptId: string }> {
  const body = openBody(over);
  const res = await signedJson(sending.identity, receiving, { path: routes.openTransfer.path, body });
  expect(res.status, res.text).toBe(200);
  return { transferId: res.json!.transferId as string, salt: fromBase64url(res.json!.salt as string)!, attemptId: body.attemptId };
}

interface Sealed {
  header: Uint8Array;
  bytes: Buffer;
  /** Offsets of each chunk's length prefix, and its total size (prefix + ciphertext + tag). */
  chunks: { offset: number; size: number }[];
}

async function seal(data: Buffer, transferId: string, salt: Uint8Array, options: { headerSalt?: Uint8Array } = {}): Promise<Sealed> {
  const headerSalt = options.headerSalt ?? salt;
  const { key, ephemeralPublicKey } = senderStreamKey({ senderBox: sending.identity.box, receiverBoxPublicKey: receiving.identity.box.publicKey, salt: headerSalt, transferId });
  const header = encodeStreamHeader({ chunkSize: CHUNK, salt: headerSalt, ephemeralPublicKey, transferId });
  const bytes = await buffer(Readable.from([data]).pipe(createSealer(key, { header, chunkSize: CHUNK })));
  const chunks: Sealed['chunks'] = [];
  for (let at = header.length; at < bytes.length; ) {
    const size = 4 + bytes.readUInt32BE(at);
    chunks.push({ offset: at, size });
    at += size;
  }
  return { header, bytes, chunks };
}

function upload(transferId: string, header: Uint8Array, body: Buffer | Readable, sign: { digest?: string; identity?: Identity } = {}): Promise<RawResponse> {
  const target = routes.uploadStream.path(transferId);
  const headers = {
    ...signedHeaders(sign.identity ?? sending.identity, receiving, { method: 'PUT', target, digest: sign.digest ?? bodyDigest(header) }),
    'content-type': 'application/octet-stream',
  };
  return rawRequest(receiving, { method: 'PUT', path: target, headers, body });
}

/** What lies in the sending peer's share directories on the target pool: staging (dot names) and replicas. */
async function written(): Promise<string[]> {
  const root = path.join(target.path, sending.id);
  const out: string[] = [];
  const list = (dir: string): Promise<string[]> => readdir(dir).catch(() => [] as string[]);
  for (const share of (await list(root)).sort()) {
    for (const entry of (await list(path.join(root, share))).sort()) out.push(`${share}/${entry}`);
  }
  return out;
}

/**
 * Runs `act`, then checks the answer, the log, the signature of the answer, and that nothing was written.
 * `signed`: a request whose signature verified is answered signed; one refused before that is not
 * (a signed refusal of an unverified request would be a signing oracle for whoever names a nonce).
 */
async function expectRefused(
  status: number,
  code: string,
  act: () => Promise<RawResponse>,
  options: { signed: boolean; unchanged?: boolean },
): Promise<RawResponse> {
  const before = { written: await written(), trail: receiving.store.receiveTrail.list({}).length, logged: receiving.refusals(code).length };
  const res = await act();
  expect([res.status, res.json?.code], res.text).toEqual([status, code]);
  expect(typeof res.json?.message).toBe('string');
  expect(receiving.refusals(code).length).toBe(before.logged + 1);
  // (Not while another upload streams: its staging appears when btrfs receive gets to it.)
  if (options.unchanged !== false) {
    expect(await written()).toEqual(before.written);
    expect(receiving.store.receiveTrail.list({}).length).toBe(before.trail);
  }
  if (options.signed) expect(res.headers['ferry-signature']).toBeTypeOf('string');
  else expect(res.headers['ferry-signature'], 'an unverified request is answered unsigned').toBeUndefined();
  return res;
}

/** As expectRefused, for uploads: the opened attempt's trail entry records the failure, nothing else is written. */
async function expectStreamRefused(status: number, code: string, attemptId: string, act: () => Promise<RawResponse>): Promise<void> {
  const before = { written: await written(), logged: receiving.refusals(code).length };
  const res = await act();
  expect([res.status, res.json?.code], res.text).toEqual([status, code]);
  expect(receiving.refusals(code).length).toBe(before.logged + 1);
  await eventually('the receiver idle', () => receiving.receiver.active.length === 0, { intervalMs: 20 });
  expect(await written(), JSON.stringify(receiving.logs.slice(-8))).toEqual(before.written);
  const entry = receiving.store.receiveTrail.get(attemptId);
  expect(entry?.status).not.toBe('succeeded');
  expect(entry?.status).not.toBe('running');
}


const now = (): number => Math.floor(Date.now() / 1000);
const open = (identity: Identity, options: Omit<Parameters<typeof signedJson>[2], 'path'> = {}) =>
  signedJson(identity, receiving, { path: routes.openTransfer.path, body: openBody(), ...options });

// ---- signed requests -------------------------------------------------------------------

describe('refusals of forged requests, before the body or the receiver', () => {
  it('refuses an unsigned request (UNSUPPORTED_VERSION), and headers without a signature (INVALID_INPUT)', async () => {
    const body = JSON.stringify(openBody());
    await expectRefused(400, 'UNSUPPORTED_VERSION', () => rawRequest(receiving, { method: 'POST', path: routes.openTransfer.path, headers: { 'content-type': 'application/json' }, body }), {
      signed: false,
    });
    await expectRefused(400, 'INVALID_INPUT', () => open(sending.identity, { headers: { 'ferry-signature': '' } }), { signed: false });
  });

  it('refuses another protocol version', async () => {
    await expectRefused(400, 'UNSUPPORTED_VERSION', () => open(sending.identity, { sign: { version: PROTOCOL_VERSION + 1 } }), { signed: false });
  });

  it('refuses a bad signature', async () => {
    const other = signedHeaders(sending.identity, receiving, { method: 'POST', target: routes.holdings.path });
    const res = await expectRefused(401, 'BAD_SIGNATURE', () => open(sending.identity, { headers: { 'ferry-signature': other['ferry-signature']! } }), { signed: false });
    // The refusal is not signed: the request did not verify, so its nonce and audience are no one's word.
    expect(res.headers['ferry-digest']).toBeUndefined();
  });

  it('refuses a request signed by an unpaired appliance (NOT_PAIRED), or by another key under a paired id (BAD_SIGNATURE)', async () => {
    await expectRefused(403, 'NOT_PAIRED', () => open(stranger), { signed: false });
    await expectRefused(401, 'BAD_SIGNATURE', () => open(stranger, { sign: { sender: sending.id } }), { signed: false });
  });

  it('refuses stale and future signed times', async () => {
    await expectRefused(401, 'STALE_TIME', () => open(sending.identity, { sign: { time: now() - 400 } }), { signed: false });
    await expectRefused(401, 'STALE_TIME', () => open(sending.identity, { sign: { time: now() + 400 } }), { signed: false });
  });

  it('refuses a replayed nonce', async () => {
    const body = JSON.stringify({ share: 'share', pool: 'backup', shareUuid: SHARE_UUID, shareOrigin: null });
    const headers: Record<string, string> = {
      ...signedHeaders(sending.identity, receiving, { method: 'POST', target: routes.holdings.path, body }),
      'content-type': 'application/json',
    };
    const first = await rawRequest(receiving, { method: 'POST', path: routes.holdings.path, headers, body });
    expect(first.status, first.text).toBe(200);
    // The genuine request is answered signed, for its nonce; the replay (refused before its signature
    // is checked) unsigned, so a replayer gets nothing signed it could pass off.
    verifyResponse({
      responder: { id: receiving.id, signingPublicKey: receiving.identity.signing.publicKey },
      self: sending.id,
      requestNonce: headers['ferry-nonce']!,
      status: first.status,
      headers: first.headers,
      body: Buffer.from(first.text),
    });
    await expectRefused(401, 'REPLAYED_NONCE', () => rawRequest(receiving, { method: 'POST', path: routes.holdings.path, headers, body }), { signed: false });
  });

  it('refuses a request signed for another appliance', async () => {
    await expectRefused(403, 'WRONG_AUDIENCE', () => open(sending.identity, { sign: { audience: idOf(stranger) } }), { signed: false });
  });

  it('refuses a tampered path (BAD_SIGNATURE) and a tampered body (DIGEST_MISMATCH)', async () => {
    await expectRefused(401, 'BAD_SIGNATURE', () =>
      signedJson(sending.identity, receiving, { path: routes.holdings.path, sendPath: routes.openTransfer.path, body: openBody() }),
      { signed: false },
    );
    const body = JSON.stringify(openBody());
    await expectRefused(400, 'DIGEST_MISMATCH', () => open(sending.identity, { raw: body, sendBody: body.replace('"nightly"', '"daily"') }), { signed: true });
    // No body, but the digest of one signed: also a mismatch.
    await expectRefused(400, 'DIGEST_MISMATCH', () =>
      signedJson(sending.identity, receiving, { method: 'DELETE', path: routes.abortTransfer.path('abcdefgh12'), sign: { digest: bodyDigest('x') } }),
      { signed: true },
    );
  });

  it('refuses malformed JSON and bodies that fail validation', async () => {
    const res = await expectRefused(400, 'INVALID_INPUT', () => open(sending.identity, { raw: '{"attemptId": ' }), { signed: true });
    expect(res.json?.message).toMatch(/not valid JSON/);
    const bad = await expectRefused(400, 'INVALID_INPUT', () => open(sending.identity, { body: openBody({ share: '../../etc' }) }), { signed: true });
    expect(bad.json?.message).toMatch(/share/);
    await expectRefused(400, 'INVALID_INPUT', () => open(sending.identity, { body: { ...openBody(), extra: 1 } }), { signed: true });
  });

  it('refuses an oversized JSON body', async () => {
    const huge = JSON.stringify({ ...openBody(), padding: 'x'.repeat(100 * 1024) });
    const res = await expectRefused(400, 'INVALID_INPUT', () => open(sending.identity, { raw: huge }), { signed: true });
    expect(res.json?.message).toMatch(/exceeds/);
  });

  it('answers an unknown route NOT_FOUND, signed', async () => {
    await expectRefused(404, 'NOT_FOUND', () => signedJson(sending.identity, receiving, { method: 'GET', path: '/ferry/v2/nothing' }), { signed: true });
  });

  it('refuses receiver checks with their codes (POOL_NOT_GRANTED), writing nothing', async () => {
    const before = await written();
    const err = await sending
      .clientFor(receiving)
      .open({ ...openBody(), pool: 'elsewhere', keepRemote: 10 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'POOL_NOT_GRANTED' });
    expect(await written()).toEqual(before);
  });
});

// ---- stream uploads ---------------------------------------------------------------------

describe('refusals of stream uploads', () => {
  it('refuses a bit flip in a middle chunk (BAD_STREAM), and commits nothing', async () => {
    const { transferId, salt, attemptId } = await openTransfer();
    const sealed = await seal(plain, transferId, salt);
    expect(sealed.chunks.length).toBeGreaterThan(20);
    const middle = sealed.chunks[Math.floor(sealed.chunks.length / 2)]!;
    const flipped = Buffer.from(sealed.bytes);
    flipped[middle.offset + 4 + 100]! ^= 0x04;
    await expectStreamRefused(400, 'BAD_STREAM', attemptId, () => upload(transferId, sealed.header, flipped));
    expect(receiving.store.receiveTrail.get(attemptId)).toMatchObject({ status: 'failed', errorCode: 'BAD_STREAM' });
  });

  it('refuses a truncated stream (no final chunk)', async () => {
    const { transferId, salt, attemptId } = await openTransfer();
    const sealed = await seal(plain, transferId, salt);
    const last = sealed.chunks.at(-1)!;
    await expectStreamRefused(400, 'BAD_STREAM', attemptId, () => upload(transferId, sealed.header, sealed.bytes.subarray(0, last.offset)));
    expect(receiving.store.receiveTrail.get(attemptId)?.errorCode).toBe('BAD_STREAM');
  });

  it('refuses a stream header that does not match the signed digest, or carries another salt', async () => {
    const a = await openTransfer();
    const sealedA = await seal(plain, a.transferId, a.salt);
    await expectStreamRefused(400, 'DIGEST_MISMATCH', a.attemptId, () => upload(a.transferId, sealedA.header, sealedA.bytes, { digest: bodyDigest('another header') }));
    const b = await openTransfer();
    const sealedB = await seal(plain, b.transferId, b.salt, { headerSalt: randomBytes(16) });
    await expectStreamRefused(400, 'BAD_STREAM', b.attemptId, () => upload(b.transferId, sealedB.header, sealedB.bytes));
  });

  it('refuses a stream upload to a transfer of another peer, or by an unpaired appliance', async () => {
    const { transferId, salt, attemptId } = await openTransfer();
    const sealed = await seal(plain, transferId, salt);
    await expectRefused(403, 'NOT_PAIRED', () => upload(transferId, sealed.header, sealed.bytes, { identity: stranger }), { signed: false });
    // Still usable by its owner afterwards: the refusal consumed nothing.
    const res = await upload(transferId, sealed.header, sealed.bytes.subarray(0, sealed.chunks[1]!.offset));
    expect(res.json?.code).toBe('BAD_STREAM');
    await eventually('the receiver idle', () => receiving.receiver.active.length === 0, { intervalMs: 20 });
    expect(receiving.store.receiveTrail.get(attemptId)?.errorCode).toBe('BAD_STREAM');
  });

  it('refuses a replayed transfer id, after the upload and during it', async () => {
    const share = path.join(source.path, 'replay');
    await btrfs.create(share);
    await writeFile(path.join(share, 'x.bin'), randomBytes(1 << 20));
    const replaySnap = await snapshotOf(share);
    const data = await buffer(btrfs.send({ path: path.join(source.path, '.snaps', replaySnap.name) }).stream);
    const { transferId, salt } = await openTransfer({ share: 'replay', snapshot: replaySnap.name, snapshotUuid: replaySnap.uuid });
    const sealed = await seal(data, transferId, salt);
    const ok = await upload(transferId, sealed.header, sealed.bytes);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toMatchObject({ transferId, snapshot: replaySnap.name, receivedUuid: replaySnap.uuid, bytes: data.length });
    await expectRefused(404, 'TRANSFER_NOT_FOUND', () => upload(transferId, sealed.header, sealed.bytes), { signed: true });

    // A second PUT while the first still streams.
    const { transferId: id2, salt: salt2, attemptId } = await openTransfer();
    const sealed2 = await seal(plain, id2, salt2);
    const slow = new Readable({ read() {} });
    slow.push(sealed2.bytes.subarray(0, sealed2.chunks[3]!.offset));
    const first = upload(id2, sealed2.header, slow);
    await eventually('the second upload streaming', () => receiving.receiver.active.some((t) => t.id === id2 && t.streaming), { intervalMs: 20 });
    await expectRefused(404, 'TRANSFER_NOT_FOUND', () => upload(id2, sealed2.header, sealed2.bytes), { signed: true, unchanged: false });
    slow.push(sealed2.bytes.subarray(sealed2.chunks[3]!.offset));
    slow.push(null);
    const res = await first;
    expect(res.status, res.text).toBe(200);
    expect(receiving.store.receiveTrail.get(attemptId)?.status).toBe('succeeded');
    // Leave the share as the other tests expect it: without a replica of `snap`.
    await btrfs.delete(path.join(target.path, sending.id, 'share', snap.name));
  });

  it('aborts a stalled upload (ABORTED), and commits nothing', async () => {
    const { transferId, salt, attemptId } = await openTransfer();
    const sealed = await seal(plain, transferId, salt);
    const body = new Readable({ read() {} });
    body.push(sealed.bytes.subarray(0, sealed.chunks[5]!.offset));
    const started = Date.now();
    await expectStreamRefused(409, 'ABORTED', attemptId, () => upload(transferId, sealed.header, body));
    expect(Date.now() - started).toBeGreaterThanOrEqual(STALL_MS - 50);
    body.destroy();
    const entry = receiving.store.receiveTrail.get(attemptId);
    expect(entry).toMatchObject({ status: 'interrupted', errorCode: 'ABORTED' });
  });

  it('aborts the uploads of a peer removed mid-transfer (ABORTED), and refuses it afterwards (NOT_PAIRED)', async () => {
    const { transferId, salt, attemptId } = await openTransfer();
    const sealed = await seal(plain, transferId, salt);
    const body = new Readable({ read() {} });
    body.push(sealed.bytes.subarray(0, sealed.chunks[5]!.offset));
    const stored = receiving.store.peers.get(sending.id)!;
    try {
      await expectStreamRefused(409, 'ABORTED', attemptId, async () => {
        const pending = upload(transferId, sealed.header, body);
        await eventually('the upload streaming', () => receiving.receiver.active.some((t) => t.id === transferId && t.streaming), { intervalMs: 20 });
        receiving.store.peers.remove(sending.id);
        expect(receiving.server.abortPeer(sending.id)).toBe(1);
        return pending;
      });
      body.destroy();
      expect(receiving.store.receiveTrail.get(attemptId)).toMatchObject({ status: 'interrupted', errorCode: 'ABORTED' });
      await expectRefused(403, 'NOT_PAIRED', () => open(sending.identity), { signed: false });
    } finally {
      if (!receiving.store.peers.get(sending.id)) receiving.store.peers.add(stored);
    }
  });

  it('aborts the receive when the sender disconnects mid-body', async () => {
    const { transferId, salt, attemptId } = await openTransfer();
    const sealed = await seal(plain, transferId, salt);
    const body = new Readable({ read() {} });
    body.push(sealed.bytes.subarray(0, sealed.chunks[5]!.offset));
    const before = await written();
    const pending = upload(transferId, sealed.header, body).catch((e: unknown) => e);
    await eventually('the upload streaming', () => receiving.receiver.active.some((t) => t.id === transferId && t.streaming), { intervalMs: 20 });
    body.destroy(new Error('sender gone'));
    expect(await pending).toBeInstanceOf(Error);
    await eventually('the receiver idle', () => receiving.receiver.active.length === 0, { intervalMs: 20 });
    await eventually('the attempt ended in the trail', () => receiving.store.receiveTrail.get(attemptId)?.status !== 'running', { intervalMs: 20 });
    expect(receiving.store.receiveTrail.get(attemptId)).toMatchObject({ status: 'interrupted', errorCode: 'ABORTED' });
    expect(await written()).toEqual(before);
  });
});

// ---- the client's view ------------------------------------------------------------------

describe('PeerClient', () => {
  it('maps a refused connection to PEER_UNREACHABLE (transient)', async () => {
    const client = new PeerClient({ identity: sending.identity, peer: { ...receiving.record(), address: 'http://127.0.0.1:1' } });
    const err = await client.holdings({ share: 'share', pool: 'backup', shareUuid: SHARE_UUID, shareOrigin: null }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PEER_UNREACHABLE', errorClass: 'transient' });
  });

  it('refuses an answer not signed by the peer’s stored key (BAD_SIGNATURE)', async () => {
    const impostor = generateIdentity();
    const client = new PeerClient({ identity: sending.identity, peer: { ...receiving.record(), signingPublicKey: impostor.signing.publicKey } });
    const err = await client.holdings({ share: 'share', pool: 'backup', shareUuid: SHARE_UUID, shareOrigin: null }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  it('keeps the receiver’s code for a refusal, and the send stream’s own error for a failed send', async () => {
    const client = sending.clientFor(receiving);
    await expect(client.holdings({ share: 'share', pool: 'nowhere', shareUuid: SHARE_UUID, shareOrigin: null })).rejects.toMatchObject({ code: 'POOL_NOT_GRANTED' });
    const { transferId } = await client.open({ ...openBody(), keepRemote: 3 });
    let sent = false;
    const failing = new Readable({
      read() {
        if (!sent) {
          sent = true;
          this.push(plain.subarray(0, 1 << 20));
          return;
        }
        this.destroy(new FerryError('SEND_FAILED', 'btrfs send died'));
      },
    });
    const err = await client.transfer(transferId, failing).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SEND_FAILED' });
    // The client told the receiver to drop the transfer: its share is free again at once.
    await eventually('the receiver idle', () => receiving.receiver.active.length === 0, { timeoutMs: 3_000, intervalMs: 20 });
    expect(await readdir(path.join(target.path, sending.id, 'share'))).toEqual([]);
  });
});
