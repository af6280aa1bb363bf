// Attacks on the sealed stream of an upload, against the real peer server on a
// real socket with the real Receiver and `btrfs receive` on real loop pools.
// Each case seals a REAL `btrfs send` stream with the right key (4 KiB chunks,
// so a small stream has dozens), parses the frame format (header, then per chunk
// u32be length + ciphertext + tag) and manipulates the sealed bytes: the header,
// single chunks, their order, the end of the stream, and chunks spliced in from
// another opened transfer.
//
// Every case asserts the exact status and wire code, the refusal in the log,
// the attempt's receive-trail entry failed with that code, and that nothing was
// written: no subvolume at all on the receiving pool (no `.incoming-*` staging,
// no replica) and nothing in the share directories. Where the attack comes late,
// the body is held back until `btrfs receive` has created the staging subvolume
// (or even finished it), so the cleanup is really exercised.

import { buffer } from 'node:stream/consumers';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeStreamHeader, encodeStreamHeader, HEADER_FIXED_LENGTH } from '../../proto/frame.js';
import { fromBase64url } from '../../proto/ids.js';
import { routes, type OpenTransferRequest } from '../../proto/messages.js';
import { bodyDigest } from '../../proto/signing.js';
import { Btrfs } from '../../src/btrfs/index.js';
import { createSealer, generateIdentity, senderStreamKey, type Identity } from '../../src/crypto/index.js';
import { FerryError } from '../../src/domain/errors.js';
import { snapshotName } from '../../src/domain/names.js';
import { subvolumesOf, treeOf } from '../support/leftovers.js';
import { pairByInvite, rawRequest, signedHeaders, signedJson, startAppliance, type RawResponse, type TestAppliance } from '../support/peer-appliance.js';
import { createPool, type Pool } from '../support/pools.js';
import { runCommand } from '../support/run.js';
import { eventually } from '../support/eventually.js';

const CHUNK = 4 * 1024;

/** The sending share's identity, as the open requests announce it. */
const SHARE_UUID = '5a4e0000-0000-4000-8000-000000000001';
let source: Pool | undefined;
let target: Pool | undefined;
let receiving: TestAppliance;
let sending: TestAppliance;
let stranger: Identity;
const btrfs = new Btrfs();
/** The `btrfs send` stream of a real read-only snapshot. */
let plain: Buffer;
let snap: { name: string; uuid: string; plain: Buffer };
/** A second snapshot of the same share: a transfer open beside the first must carry another UUID. */
let other: { name: string; uuid: string; plain: Buffer };

beforeAll(async () => {
  source = await createPool();
  target = await createPool();
  receiving = await startAppliance({
    name: 'receiving',
    pools: [{ name: 'backup', path: target.path }],
    limits: { stallTimeoutMs: 10_000, drainMs: 2_000 },
  });
  sending = await startAppliance({ name: 'sending' });
  stranger = generateIdentity();
  await pairByInvite(receiving, sending);

  const share = path.join(source.path, 'share');
  await btrfs.create(share);
  await writeFile(path.join(share, 'data.bin'), randomBytes(160 * 1024));
  await mkdir(path.join(share, 'docs'));
  await writeFile(path.join(share, 'docs/note.txt'), 'note\n');
  const dir = path.join(source.path, '.snaps');
  await mkdir(dir);
  const take = async (existing: string[]): Promise<{ name: string; uuid: string; plain: Buffer }> => {
    const name = snapshotName(new Date(), existing);
    await btrfs.snapshot(share, path.join(dir, name), { readOnly: true });
    return { name, uuid: (await btrfs.show(path.join(dir, name))).uuid, plain: await buffer(btrfs.send({ path: path.join(dir, name) }).stream) };
  };
  snap = await take([]);
  other = await take([snap.name]);
  plain = snap.plain;
});

afterAll(async () => {
  // Every step runs even when another fails; the first failure is reported.
  const servers = await Promise.allSettled([sending?.close(), receiving?.close()]);
  const pools = await Promise.allSettled([source?.destroy(), target?.destroy()]);
  const failed = [...servers, ...pools].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
});

// A failed case must not fail the ones after it: drop the transfers it left open and
// delete whatever it left on the receiving pool (a committed replica would make every
// later open ALREADY_EXISTS).
afterEach(async () => {
  if (!receiving || !target) return;
  for (const t of receiving.receiver.active) {
    if (!t.streaming) receiving.receiver.abort(t.peer, t.id, new FerryError('ABORTED', 'cleanup after the test'));
  }
  await eventually('the receiver to go idle', () => receiving.receiver.active.length === 0, { intervalMs: 20 });
  for (const subvolume of (await subvolumesOf(target.path)).reverse()) await btrfs.delete(path.join(target.path, subvolume));
});

// ---- helpers ---------------------------------------------------------------------------


interface Opened {
  readonly transferId: string;
  readonly salt: Uint8Array;
  readonly attemptId: string;
  readonly share: string;
  /** The send stream this transfer carries. */
  readonly plain: Buffer;
}

/** Opens a transfer of `snapshot` (`snap` unless given) into share `share`, as the sending appliance. */
async function openTransfer(share = 'tamper', snapshot = snap): Promise<Opened> {
  const body: OpenTransferRequest = {
    attemptId: randomUUID(),
    task: 'nightly',
    share,
    shareUuid: SHARE_UUID,
    shareOrigin: null,
    pool: 'backup',
    snapshot: snapshot.name,
    snapshotUuid: snapshot.uuid,
    parent: null,
    sizeEstimate: snapshot.plain.length,
  };
  const res = await signedJson(sending.identity, receiving, { path: routes.openTransfer.path, body });
  expect(res.status, res.text).toBe(200);
  return { transferId: res.json!.transferId as string, salt: fromBase64url(res.json!.salt as string)!, attemptId: body.attemptId, share, plain: snapshot.plain };
}

/** A sealed stream as its parts: the header bytes, and each chunk's frame (u32be length, ciphertext, tag). */
interface Sealed {
  readonly header: Buffer;
  readonly frames: readonly Buffer[];
}

/** Splits a sealed stream along the frame format, checking that it parses exactly. */
function parseSealed(bytes: Buffer): Sealed {
  const decoded = decodeStreamHeader(bytes);
  if (!decoded) throw new Error('no stream header');
  const frames: Buffer[] = [];
  let at = decoded.length;
  while (at < bytes.length) {
    const size = 4 + bytes.readUInt32BE(at);
    expect(size).toBeLessThanOrEqual(4 + decoded.header.chunkSize + 16);
    expect(at + size).toBeLessThanOrEqual(bytes.length);
    frames.push(bytes.subarray(at, at + size));
    at += size;
  }
  return { header: bytes.subarray(0, decoded.length), frames };
}

/**
 * Seals the send stream of transfer `t` as the sending appliance would, then parses it.
 * `senderBox` seals with another sender box key (one the receiver does not know).
 */
async function seal(t: Opened, options: { chunkSize?: number; senderBox?: Identity['box'] } = {}): Promise<Sealed> {
  const chunkSize = options.chunkSize ?? CHUNK;
  const { key, ephemeralPublicKey } = senderStreamKey({
    senderBox: options.senderBox ?? sending.identity.box,
    receiverBoxPublicKey: receiving.identity.box.publicKey,
    salt: t.salt,
    transferId: t.transferId,
  });
  const header = encodeStreamHeader({ chunkSize, salt: t.salt, ephemeralPublicKey, transferId: t.transferId });
  const sealed = parseSealed(await buffer(Readable.from([t.plain]).pipe(createSealer(key, { header, chunkSize }))));
  expect(Buffer.from(header).equals(sealed.header)).toBe(true);
  return sealed;
}

/** Table rows with their test name first, for `%s`: vitest would cut a long `$field` short. */
function named<T>(rows: readonly T[], name: (row: T) => string): [string, T][] {
  return rows.map((row) => [name(row), row]);
}

const join = (header: Buffer, frames: readonly Buffer[]): Buffer => Buffer.concat([header, ...frames]);
const whole = (s: Sealed): Buffer => join(s.header, s.frames);
/** A copy of `buf` with the bits of `mask` flipped at `at` (negative: from the end). */
function flip(buf: Buffer, at: number, mask = 0x01): Buffer {
  const copy = Buffer.from(buf);
  const i = at < 0 ? copy.length + at : at;
  copy[i] = copy[i]! ^ mask;
  return copy;
}
const withFrame = (frames: readonly Buffer[], i: number, frame: Buffer): Buffer[] => frames.map((f, j) => (j === i ? frame : f));
const middle = (s: Sealed): number => Math.floor(s.frames.length / 2);
const last = (s: Sealed): number => s.frames.length - 1;

/** The stream upload of transfer `t`, signed by the sending appliance over the digest of `signedHeader`. */
function upload(t: Opened, body: Buffer | Readable, signedHeader: Uint8Array): Promise<RawResponse> {
  const target = routes.uploadStream.path(t.transferId);
  const headers = {
    ...signedHeaders(sending.identity, receiving, { method: 'PUT', target, digest: bodyDigest(signedHeader) }),
    'content-type': 'application/octet-stream',
  };
  return rawRequest(receiving, { method: 'PUT', path: target, headers, body });
}

const stagingPath = (t: Opened): string => path.join(target!.path, sending.id, t.share, `.incoming-${t.transferId}`, `.incoming-${t.transferId}`);

/** Whether the staging subvolume of `t` exists (a subvolume root is inode 256 on btrfs). */
async function staged(t: Opened): Promise<boolean> {
  const info = await stat(stagingPath(t)).catch(() => null);
  return info !== null && info.ino === 256;
}

/** Whether `btrfs receive` finished the staging subvolume: received and set read-only, waiting for the commit. */
async function stagedComplete(t: Opened): Promise<boolean> {
  if (!(await staged(t))) return false;
  const ro = await runCommand('btrfs', ['property', 'get', '-ts', stagingPath(t), 'ro']);
  return ro.code === 0 && ro.stdout.trim() === 'ro=true';
}

/**
 * A body that sends `head`, then waits until `btrfs receive` has created (or,
 * with `complete`, finished) the staging subvolume of `t`, then sends `tail`.
 */
function heldBody(t: Opened, head: Buffer, tail: Buffer, complete = false): { body: Readable; sawStaging: () => boolean } {
  let saw = false;
  const body = Readable.from(
    (async function* () {
      yield head;
      await eventually(complete ? 'the complete staging subvolume' : 'the staging subvolume', () => (complete ? stagedComplete(t) : staged(t)), { intervalMs: 20 });
      saw = true;
      if (tail.length > 0) yield tail;
    })(),
    { objectMode: false },
  );
  return { body, sawStaging: () => saw };
}

/** Nothing on the receiving pool but the directories themselves: no subvolume at all, no file in a share directory. */
async function expectNothingWritten(): Promise<void> {
  expect(await subvolumesOf(target!.path)).toEqual([]);
  const tree = await treeOf(target!.path);
  // Only <peer> and <peer>/<share> directories (made when an upload starts), nothing inside a share directory.
  expect(tree.filter((p) => p.split('/').length > 2)).toEqual([]);
  expect(tree.every((p) => p === sending.id || p.startsWith(`${sending.id}/`))).toBe(true);
}

/**
 * Runs the upload `act` of transfer `t` and checks: the answer's status and
 * code (signed), the refusal logged with its code and the transfer's path, the
 * attempt's trail entry failed with the code, the transfer gone from the
 * receiver, and nothing written.
 */
async function expectUploadRefused(t: Opened, status: number, code: string, act: () => Promise<RawResponse>): Promise<RawResponse> {
  const logged = receiving.refusals(code).length;
  const res = await act();
  expect([res.status, res.json?.code], res.text).toEqual([status, code]);
  expect(res.json?.message).toBeTypeOf('string');
  expect(res.headers['ferry-signature']).toBeTypeOf('string');
  await eventually(
    'the receiver to finish the attempt',
    () => !receiving.receiver.active.some((a) => a.id === t.transferId) && receiving.store.receiveTrail.get(t.attemptId)?.status !== 'running',
    { intervalMs: 20 },
  );
  const refusals = receiving.refusals(code);
  expect(refusals).toHaveLength(logged + 1);
  expect(refusals.at(-1)).toMatchObject({ method: 'PUT', path: routes.uploadStream.path(t.transferId), sender: sending.id });
  await expectNothingWritten();
  // Soft, so that a wrong trail code does not hide whether the rest held.
  expect.soft(receiving.store.receiveTrail.get(t.attemptId), 'the receive trail entry of the attempt').toMatchObject({
    status: 'failed',
    errorCode: code,
    replicaPath: null,
  });
  return res;
}

// ---- the control ------------------------------------------------------------------------

describe('the untampered stream (control)', () => {
  it('is accepted whole, also when held back like the attacks below, and its replica is then removed', async () => {
    const t = await openTransfer('control');
    const sealed = await seal(t);
    expect(sealed.frames.length).toBeGreaterThan(30);
    expect(whole(sealed).length).toBe(sealed.header.length + sealed.frames.reduce((n, f) => n + f.length, 0));
    const held = heldBody(t, join(sealed.header, sealed.frames.slice(0, -1)), sealed.frames.at(-1)!);
    const res = await upload(t, held.body, sealed.header);
    expect(res.status, res.text).toBe(200);
    expect(held.sawStaging()).toBe(true);
    expect(res.json).toMatchObject({ transferId: t.transferId, attemptId: t.attemptId, snapshot: snap.name, receivedUuid: snap.uuid, bytes: plain.length });
    expect(receiving.store.receiveTrail.get(t.attemptId)).toMatchObject({ status: 'succeeded', errorCode: null });
    expect(await subvolumesOf(target!.path)).toEqual([`${sending.id}/control/${snap.name}`]);
    await btrfs.delete(path.join(target!.path, sending.id, 'control', snap.name));
    await expectNothingWritten();
  });
});

// ---- the stream header ------------------------------------------------------------------

describe('a changed stream header', () => {
  // On the wire, after signing: the signed digest is that of the original header.
  const flips = [
    { field: 'magic', at: 0, mask: 0x01, status: 400, code: 'BAD_STREAM' },
    { field: 'version', at: 8, mask: 0x02, status: 400, code: 'UNSUPPORTED_VERSION' },
    { field: 'chunk size, out of range', at: 9, mask: 0x80, status: 400, code: 'BAD_STREAM' },
    { field: 'chunk size, in range', at: 11, mask: 0x01, status: 400, code: 'DIGEST_MISMATCH' },
    { field: 'salt', at: 20, mask: 0x01, status: 400, code: 'DIGEST_MISMATCH' },
    { field: 'ephemeral key', at: 40, mask: 0x01, status: 400, code: 'DIGEST_MISMATCH' },
    { field: 'transfer id length', at: 61, mask: 0x04, status: 400, code: 'DIGEST_MISMATCH' },
    // The receiver's transfer ids are UUIDs: '-' at index 8 becomes ',', which no transfer id may hold.
    { field: 'transfer id, to a character outside the id alphabet', at: HEADER_FIXED_LENGTH + 8, mask: 0x01, status: 400, code: 'BAD_STREAM' },
    // A byte >= 0x80 is not ASCII at all: the header cannot be decoded, as for a bad magic.
    { field: 'transfer id, to a byte that is not ASCII', at: HEADER_FIXED_LENGTH + 8, mask: 0x80, status: 400, code: 'BAD_STREAM' },
  ];

  it.each(named(flips, (c) => `${c.field} (${c.code})`))('refuses a bit flip in the stream header: %s', async (_name, { at, mask, status, code }) => {
    const t = await openTransfer();
    const sealed = await seal(t);
    expect(sealed.header[61]).toBe(t.transferId.length);
    expect(t.transferId[8]).toBe('-');
    await expectUploadRefused(t, status, code, () => upload(t, join(flip(sealed.header, at, mask), sealed.frames), sealed.header));
  });

  it('refuses a header signed by the sender but sealed without its box key (BAD_STREAM)', async () => {
    const t = await openTransfer();
    const sealed = await seal(t, { senderBox: stranger.box });
    await expectUploadRefused(t, 400, 'BAD_STREAM', () => upload(t, whole(sealed), sealed.header));
  });

  it('refuses a header re-signed with another ephemeral key (BAD_STREAM)', async () => {
    const t = await openTransfer();
    const sealed = await seal(t);
    const other = Buffer.from(sealed.header);
    randomBytes(32).copy(other, 29);
    await expectUploadRefused(t, 400, 'BAD_STREAM', () => upload(t, join(other, sealed.frames), other));
  });

  it('refuses a header re-signed with another chunk size, on a one-chunk stream where only the additional data differs (BAD_STREAM)', async () => {
    const t = await openTransfer();
    const sealed = await seal(t, { chunkSize: 1024 * 1024 });
    expect(sealed.frames).toHaveLength(1);
    const other = Buffer.from(sealed.header);
    other.writeUInt32BE(1024 * 1024 + 1, 9);
    await expectUploadRefused(t, 400, 'BAD_STREAM', () => upload(t, join(other, sealed.frames), other));
  });
});

// ---- the chunks ---------------------------------------------------------------------------

interface ChunkCase {
  readonly attack: string;
  /** The manipulated frames (the header stays as sealed and signed). */
  readonly frames: (s: Sealed) => Buffer[];
  /**
   * Frames sent before the body is held until btrfs receive has created the staging
   * subvolume (`complete`: finished it); the attack comes after. None: sent at once.
   */
  readonly hold?: (s: Sealed) => number;
  readonly complete?: boolean;
}

const chunkCases: ChunkCase[] = [
  { attack: 'a bit flip in the first chunk’s ciphertext', frames: (s) => withFrame(s.frames, 0, flip(s.frames[0]!, 4 + 100)) },
  { attack: 'a bit flip in the first chunk’s tag', frames: (s) => withFrame(s.frames, 0, flip(s.frames[0]!, -1)) },
  {
    attack: 'a bit flip in the final chunk',
    frames: (s) => withFrame(s.frames, last(s), flip(s.frames[last(s)]!, 4)),
    hold: last,
  },
  {
    attack: 'a bit flip in the final chunk’s tag',
    frames: (s) => withFrame(s.frames, last(s), flip(s.frames[last(s)]!, -1, 0x80)),
    hold: last,
  },
  {
    attack: 'a bit flip in a middle chunk’s length prefix',
    frames: (s) => withFrame(s.frames, middle(s), flip(s.frames[middle(s)]!, 3)),
    hold: middle,
  },
  {
    attack: 'a middle chunk’s length prefix far beyond the chunk size',
    frames: (s) => {
      const frame = Buffer.from(s.frames[middle(s)]!);
      frame.writeUInt32BE(0xffffffff, 0);
      return withFrame(s.frames, middle(s), frame);
    },
    hold: middle,
  },
  { attack: 'truncation at a chunk boundary: the final chunk dropped', frames: (s) => s.frames.slice(0, -1), hold: last },
  { attack: 'truncation at a chunk boundary: the second half dropped', frames: (s) => s.frames.slice(0, middle(s)), hold: middle },
  {
    attack: 'truncation inside the final chunk',
    frames: (s) => [...s.frames.slice(0, -1), s.frames[last(s)]!.subarray(0, -1)],
    hold: last,
  },
  {
    attack: 'truncation inside a middle chunk',
    frames: (s) => [...s.frames.slice(0, middle(s)), s.frames[middle(s)]!.subarray(0, 1000)],
    hold: middle,
  },
  {
    attack: 'truncation inside a length prefix',
    frames: (s) => [...s.frames.slice(0, middle(s)), s.frames[middle(s)]!.subarray(0, 2)],
    hold: middle,
  },
  { attack: 'the stream header alone', frames: () => [] },
  { attack: 'a dropped middle chunk', frames: (s) => s.frames.filter((_f, i) => i !== middle(s)), hold: middle },
  { attack: 'a dropped first chunk', frames: (s) => s.frames.slice(1) },
  {
    attack: 'a duplicated middle chunk',
    frames: (s) => [...s.frames.slice(0, middle(s) + 1), s.frames[middle(s)]!, ...s.frames.slice(middle(s) + 1)],
    hold: (s) => middle(s) + 1,
  },
  {
    attack: 'two swapped middle chunks',
    frames: (s) => {
      const m = middle(s);
      return [...s.frames.slice(0, m), s.frames[m + 1]!, s.frames[m]!, ...s.frames.slice(m + 2)];
    },
    hold: middle,
  },
  { attack: 'the first two chunks swapped', frames: (s) => [s.frames[1]!, s.frames[0]!, ...s.frames.slice(2)] },
  {
    attack: 'the final chunk moved before the one before it',
    frames: (s) => [...s.frames.slice(0, -2), s.frames[last(s)]!, s.frames[last(s) - 1]!],
    hold: (s) => last(s) - 1,
  },
  {
    attack: 'an empty chunk inserted in the middle',
    frames: (s) => {
      const empty = Buffer.alloc(4 + 16);
      empty.writeUInt32BE(16, 0);
      return [...s.frames.slice(0, middle(s)), empty, ...s.frames.slice(middle(s))];
    },
    hold: middle,
  },
  {
    attack: 'one extra byte after the final chunk, sent once btrfs receive has finished',
    frames: (s) => [...s.frames, Buffer.from([0])],
    hold: (s) => s.frames.length,
    complete: true,
  },
  {
    attack: 'the final chunk repeated after itself, sent once btrfs receive has finished',
    frames: (s) => [...s.frames, s.frames[last(s)]!],
    hold: (s) => s.frames.length,
    complete: true,
  },
  {
    attack: 'a well-formed junk chunk after the final chunk',
    frames: (s) => {
      const junk = Buffer.alloc(4 + 16 + 10);
      junk.writeUInt32BE(26, 0);
      return [...s.frames, junk];
    },
  },
];

describe('manipulated chunks', () => {
  it.each(named(chunkCases, (c) => c.attack))('refuses %s (BAD_STREAM), and leaves nothing behind', async (_name, { frames, hold, complete }) => {
    const t = await openTransfer();
    const sealed = await seal(t);
    expect(sealed.frames.length).toBeGreaterThan(30);
    const bytes = join(sealed.header, frames(sealed));
    expect(bytes.equals(whole(sealed))).toBe(false);
    if (hold === undefined) {
      await expectUploadRefused(t, 400, 'BAD_STREAM', () => upload(t, bytes, sealed.header));
      return;
    }
    // The manipulated frames begin with `hold(sealed)` intact ones: send those, wait for staging, send the rest.
    const split = sealed.header.length + sealed.frames.slice(0, hold(sealed)).reduce((n, f) => n + f.length, 0);
    expect(bytes.subarray(0, split).equals(whole(sealed).subarray(0, split))).toBe(true);
    const held = heldBody(t, bytes.subarray(0, split), bytes.subarray(split), complete);
    await expectUploadRefused(t, 400, 'BAD_STREAM', () => upload(t, held.body, sealed.header));
    expect(held.sawStaging()).toBe(true);
  });
});

// ---- empty and cut-short bodies ---------------------------------------------------------------

describe('bodies without a stream', () => {
  it.each<[string, (s: Sealed) => Buffer]>([
    ['an empty body', () => Buffer.alloc(0)],
    ['half of the stream header', (s) => s.header.subarray(0, 40)],
    ['the stream header less one byte', (s) => s.header.subarray(0, -1)],
  ])('refuses %s (BAD_STREAM)', async (_name, body) => {
    const t = await openTransfer();
    const sealed = await seal(t);
    await expectUploadRefused(t, 400, 'BAD_STREAM', () => upload(t, body(sealed), sealed.header));
  });
});

// ---- splicing two transfers --------------------------------------------------------------------

describe('chunks spliced from another opened transfer', () => {
  /** Two transfers open at once (different shares, two snapshots of the same data), each with its sealed stream. */
  async function openTwo(): Promise<[{ t: Opened; s: Sealed }, { t: Opened; s: Sealed }]> {
    const a = await openTransfer('tamper');
    const b = await openTransfer('tamper-b', other);
    const [sa, sb] = [await seal(a), await seal(b)];
    expect(sa.frames).toHaveLength(sb.frames.length);
    return [
      { t: a, s: sa },
      { t: b, s: sb },
    ];
  }

  it.each<[string, (s: Sealed) => number]>([
    ['the first chunk', () => 0],
    ['a middle chunk', middle],
    ['the final chunk', last],
  ])('refuses %s taken from the other transfer, both ways (BAD_STREAM)', async (_name, k) => {
    const [a, b] = await openTwo();
    const i = k(a.s);
    expect(a.s.frames[i]!.length).toBe(b.s.frames[i]!.length);
    expect(a.s.frames[i]!.equals(b.s.frames[i]!)).toBe(false);
    await expectUploadRefused(a.t, 400, 'BAD_STREAM', () => upload(a.t, join(a.s.header, withFrame(a.s.frames, i, b.s.frames[i]!)), a.s.header));
    await expectUploadRefused(b.t, 400, 'BAD_STREAM', () => upload(b.t, join(b.s.header, withFrame(b.s.frames, i, a.s.frames[i]!)), b.s.header));
  });

  it('refuses the other transfer’s chunks under this one’s header, and this one’s whole stream sent to the other (BAD_STREAM)', async () => {
    const [a, b] = await openTwo();
    await expectUploadRefused(a.t, 400, 'BAD_STREAM', () => upload(a.t, join(a.s.header, b.s.frames), a.s.header));
    // Signed for b's transfer path, with b's header: the header names another transfer than the path.
    await expectUploadRefused(b.t, 400, 'BAD_STREAM', () => upload(b.t, whole(a.s), a.s.header));
  });
});
