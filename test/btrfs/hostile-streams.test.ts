// Two peers replicating into one pool, and peer B sending crafted streams to
// reach peer A's replica. Each attack is first shown to work against `btrfs
// receive -C` itself (btrfs-progs resolves parents and clone sources through
// the filesystem-wide UUID tree, whatever directory it is chrooted into), then
// shown refused by the Receiver with nothing left on the pool and the refusal
// in the receive trail with its code. Before the receiver checked the whole
// stream and the pool's UUIDs, every "refused" case here was committed.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attr, Cmd, attr, beforeEnd, cloneCommand, decodeStream, encodeStream, text, uuidBytes, withHead, type SendStream } from '../support/send-stream.js';
import { streamLab, type Snap, type StreamLab } from '../support/stream-lab.js';

const PEER_A = 'fpeeraaaaaaaaaaaaaaaa';
const PEER_B = 'fpeerbbbbbbbbbbbbbbbb';
const SECRET = randomBytes(64 * 1024);

let lab: StreamLab;
const snapshot = (share: string): Promise<Snap> => lab.snapshot(share);
const sendOf = (snap: Snap, parent?: Snap): Promise<Buffer> => lab.sendOf(snap, parent);
const request: StreamLab['request'] = (...args) => lab.request(...args);
const receiveAs: StreamLab['receiveAs'] = (...args) => lab.receiveAs(...args);

/** `btrfs receive -e -C` straight into `dir`, as before the receiver checked streams; returns the subvolume it made. */
async function rawReceive(dir: string, stream: Buffer): Promise<string> {
  await mkdir(dir, { recursive: true });
  const received = btrfs.receive({ dir });
  await Promise.all([pipeline(Readable.from([stream]), received.input), received.done]);
  return path.join(dir, (await received.done).name);
}

/** What peer B's directory holds: the replica names, and no staging. */
async function bHolds(): Promise<string[]> {
  return (await btrfs.children(path.join(target.path, PEER_B, 'docs'))).map((s) => s.name);
}

let btrfs: StreamLab['btrfs'];
let source: StreamLab['source'];
let target: StreamLab['target'];
let store: StreamLab['store'];
let receiver: StreamLab['receiver'];
let a1: Snap;
let b1: Snap;
let b2: Snap;
let aReplica: string;

beforeAll(async () => {
  lab = await streamLab();
  ({ btrfs, source, target, store, receiver } = lab);

  // Peer A replicates a share holding a secret.
  const shareA = path.join(source.path, 'a-share');
  await btrfs.create(shareA);
  await writeFile(path.join(shareA, 'secret'), SECRET);
  a1 = await snapshot(shareA);
  expect(await receiveAs(PEER_A, request(a1, 'photos', null), await sendOf(a1))).toEqual({ ok: true });
  aReplica = path.join(target.path, PEER_A, 'photos', a1.name);

  // Peer B replicates its own share, twice: full, then incremental.
  const shareB = path.join(source.path, 'b-share');
  await btrfs.create(shareB);
  await writeFile(path.join(shareB, 'x'), Buffer.alloc(64 * 1024, 0x62));
  b1 = await snapshot(shareB);
  expect(await receiveAs(PEER_B, request(b1, 'docs', null), await sendOf(b1))).toEqual({ ok: true });
  await writeFile(path.join(shareB, 'y'), 'more\n');
  b2 = await snapshot(shareB);
  expect(await receiveAs(PEER_B, request(b2, 'docs', { name: b1.name, uuid: b1.uuid }), await sendOf(b2, b1))).toEqual({ ok: true });
});

afterAll(async () => {
  await lab?.destroy();
});

/** A clone of A's secret into B's file 'x', with a bogus clone ctransid. */
const stealClone = () => cloneCommand({ path: 'x', offset: 0, length: SECRET.length, sourceUuid: a1.uuid, sourceCtransid: 999_999, sourcePath: 'secret' });

/** A scratch directory in peer B's area of the pool, for the raw receives. */
async function scratch(): Promise<string> {
  return mkdtemp(path.join(target.path, PEER_B, 'raw-'));
}

async function dropScratch(dir: string): Promise<void> {
  for (const s of await btrfs.children(dir)) await btrfs.delete(s.path);
  await rm(dir, { recursive: true, force: true });
}

describe('a clone naming another peer’s replica', () => {
  it('copies that replica’s data under btrfs receive -C alone, in a full or an incremental stream', async () => {
    const b3 = await snapshot(b2.share);
    for (const stream of [beforeEnd(decodeStream(await sendOf(b3)), stealClone()), beforeEnd(decodeStream(await sendOf(b3, b2)), stealClone())]) {
      const dir = await scratch();
      try {
        if (stream.commands[0]?.cmd === Cmd.SNAPSHOT) await rawReceive(dir, await sendOf(b2)); // its parent, as B would hold it
        const made = await rawReceive(dir, encodeStream(stream));
        expect((await readFile(path.join(made, 'x'))).equals(SECRET)).toBe(true);
      } finally {
        await dropScratch(dir);
      }
    }
  });

  it.each([
    ['a full stream', false],
    ['an otherwise legitimate incremental stream', true],
  ])('is refused in %s, with nothing left and the code in the receive trail', async (_label, incremental) => {
    const b3 = await snapshot(b2.share);
    const stream = encodeStream(beforeEnd(decodeStream(incremental ? await sendOf(b3, b2) : await sendOf(b3)), stealClone()));
    const req = request(b3, 'docs', incremental ? { name: b2.name, uuid: b2.uuid } : null);
    const result = await receiveAs(PEER_B, req, stream);
    expect(result).toMatchObject({ ok: false, code: 'STREAM_REFUSED' });
    expect(!result.ok && result.message).toMatch(new RegExp(`clones from subvolume ${a1.uuid}`));
    expect(await bHolds()).toEqual([b1.name, b2.name]);
    expect(store.receiveTrail.get(req.attemptId)).toMatchObject({ status: 'failed', errorCode: 'STREAM_REFUSED' });
    expect((await readFile(path.join(aReplica, 'secret'))).equals(SECRET)).toBe(true);
  });
});

describe('a snapshot command naming another peer’s replica as its parent', () => {
  /** B's next incremental, its head pointing at A's replica instead of B's own parent. */
  const onAsParent = async (b3: Snap): Promise<SendStream> => withHead(decodeStream(await sendOf(b3, b2)), { [Attr.CLONE_UUID]: uuidBytes(a1.uuid) });

  it('makes a full copy of that replica under btrfs receive -C alone', async () => {
    const b3 = await snapshot(b2.share);
    const dir = await scratch();
    try {
      // The rest of the stream fails to apply on A's tree, but the snapshot of A's replica is made first.
      const stream = await onAsParent(b3);
      stream.commands = [stream.commands[0]!, { cmd: Cmd.END, attrs: [] }];
      const made = await rawReceive(dir, encodeStream(stream));
      expect((await readFile(path.join(made, 'secret'))).equals(SECRET)).toBe(true);
    } finally {
      await dropScratch(dir);
    }
  });

  it('is refused whether B announces its own parent or A’s UUID as parent', async () => {
    const b3 = await snapshot(b2.share);
    const stream = encodeStream(await onAsParent(b3));
    const own = request(b3, 'docs', { name: b2.name, uuid: b2.uuid });
    expect(await receiveAs(PEER_B, own, stream)).toMatchObject({ ok: false, code: 'RECEIVED_MISMATCH' });
    const claimed = request(b3, 'docs', { name: b2.name, uuid: a1.uuid });
    expect(await receiveAs(PEER_B, claimed, stream)).toMatchObject({ ok: false, code: 'PARENT_MISSING' });
    expect(await bHolds()).toEqual([b1.name, b2.name]);
    expect(store.receiveTrail.get(own.attemptId)?.errorCode).toBe('RECEIVED_MISMATCH');
    expect(store.receiveTrail.get(claimed.attemptId)?.errorCode).toBe('PARENT_MISSING');
  });
});

describe('a decoy carrying another peer’s replica’s UUID', () => {
  /** A full stream of B's data whose subvolume UUID is A's replica's received UUID. */
  const decoy = async (b3: Snap): Promise<Buffer> => encodeStream(withHead(decodeStream(await sendOf(b3)), { [Attr.UUID]: uuidBytes(a1.uuid) }));

  it('lets a later parent "held by B" resolve to A’s replica under btrfs receive -C alone', async () => {
    const b3 = await snapshot(b2.share);
    const dir = await scratch();
    try {
      const held = await rawReceive(dir, await decoy(b3));
      expect((await btrfs.show(held)).receivedUuid).toBe(a1.uuid);
      // B now "holds" a parent with A's UUID; its snapshot on that parent is taken of A's replica.
      const next = withHead(decodeStream(await sendOf(b3, b2)), { [Attr.CLONE_UUID]: uuidBytes(a1.uuid), [Attr.PATH]: text('next') });
      next.commands = [next.commands[0]!, { cmd: Cmd.END, attrs: [] }];
      const made = await rawReceive(dir, encodeStream(next));
      expect((await readFile(path.join(made, 'secret'))).equals(SECRET)).toBe(true);
    } finally {
      await dropScratch(dir);
    }
  });

  it('is refused before btrfs receive runs (UUID_CONFLICT)', async () => {
    const b3 = await snapshot(b2.share);
    const req = request(b3, 'docs', null, { snapshotUuid: a1.uuid });
    const result = await receiveAs(PEER_B, req, await decoy(b3));
    expect(result).toMatchObject({ ok: false, code: 'UUID_CONFLICT' });
    expect(!result.ok && result.message).toMatch(new RegExp(`${a1.uuid} already names another subvolume on this pool`));
    // Whose it is stays on this appliance: the peer is told of no other peer's path.
    expect(!result.ok && result.message).not.toContain(PEER_A);
    expect(await bHolds()).toEqual([b1.name, b2.name]);
    expect(store.receiveTrail.get(req.attemptId)?.errorCode).toBe('UUID_CONFLICT');
  });
});

describe('paths, commands and framing', () => {
  const cases: [string, (s: SendStream) => SendStream | Buffer][] = [
    ['an absolute path', (s) => beforeEnd(s, { cmd: Cmd.MKFILE, attrs: [[Attr.PATH, text('/etc/ferry-escaped')]] })],
    ['a ".." rename target', (s) => beforeEnd(s, { cmd: Cmd.RENAME, attrs: [[Attr.PATH, text('x')], [Attr.PATH_TO, text('../../escaped')]] })],
    ['a clone from the snapshot itself through ".."', (s) => beforeEnd(s, cloneCommand({ path: 'x', offset: 0, length: 4096, sourceUuid: uuidOf(s), sourcePath: `../../${PEER_A}/photos/${a1.name}/secret` }))],
    ['a second subvolume', (s) => beforeEnd(s, { cmd: Cmd.SUBVOL, attrs: [[Attr.PATH, text('second')], [Attr.UUID, uuidBytes(randomUUID())], [Attr.CTRANSID, Buffer.alloc(8)]] })],
    ['a command after the end', (s) => ({ ...s, commands: [...s.commands, { cmd: Cmd.MKFILE, attrs: [[Attr.PATH, text('late')]] }] })],
    ['an unknown command', (s) => beforeEnd(s, { cmd: 77, attrs: [] })],
    ['a malformed attribute', (s) => {
      const bytes = encodeStream(beforeEnd(s, { cmd: Cmd.MKFILE, attrs: [[Attr.PATH, text('abc')]] }));
      // Make the MKFILE's path attribute claim more bytes than its command holds.
      const at = bytes.lastIndexOf(text('abc')) - 2;
      bytes.writeUInt16LE(200, at);
      return bytes;
    }],
  ];

  it.each(cases)('refuses %s (STREAM_REFUSED), leaving nothing', async (_label, craft) => {
    const b3 = await snapshot(b2.share);
    const crafted = craft(decodeStream(await sendOf(b3)));
    const req = request(b3, 'docs', null);
    const result = await receiveAs(PEER_B, req, Buffer.isBuffer(crafted) ? crafted : encodeStream(crafted));
    expect(result).toMatchObject({ ok: false, code: 'STREAM_REFUSED' });
    expect(await bHolds()).toEqual([b1.name, b2.name]);
    expect(store.receiveTrail.get(req.attemptId)).toMatchObject({ status: 'failed', errorCode: 'STREAM_REFUSED' });
  });
});

function uuidOf(s: SendStream): string {
  const uuid = attr(s.commands[0]!, Attr.UUID);
  if (!uuid) throw new Error('no UUID in the head');
  const h = uuid.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

it('still takes B’s legitimate next incremental, and A’s replica is untouched', async () => {
  const b3 = await snapshot(b2.share);
  expect(await receiveAs(PEER_B, request(b3, 'docs', { name: b2.name, uuid: b2.uuid }), await sendOf(b3, b2))).toEqual({ ok: true });
  expect(await bHolds()).toEqual([b1.name, b2.name, b3.name]);
  expect((await readFile(path.join(aReplica, 'secret'))).equals(SECRET)).toBe(true);
  // B asking for a share of A's name sees nothing of A's: holdings are per peer.
  expect(await receiver.holdings(PEER_B, { share: 'photos', pool: 'backup', shareUuid: b3.shareUuid, shareOrigin: null })).toEqual([]);
});
