// A stream from a paired peer that writes through a symbolic link. `btrfs
// receive -C` chroots into the directory it receives in, so an absolute link
// ("esc" -> "/") names that directory: before each transfer had a jail of its
// own, that was the share's replica directory, and a stream could plant files
// beside the replicas or rename its own (still writable) subvolume out of the
// way. A link the parent already holds does the same on an incremental, where
// the stream check cannot see it. Each case here was committed, or left a
// file or a writable subvolume behind, before the jail.

import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stagingName } from '../../src/receiver/paths.js';
import { Attr, Cmd, beforeEnd, cloneCommand, decodeStream, encodeStream, text, u64, type Command } from '../support/send-stream.js';
import { streamLab, type Snap, type StreamLab } from '../support/stream-lab.js';

const PEER_A = 'fpeeraaaaaaaaaaaaaaaa';
const PEER_B = 'fpeerbbbbbbbbbbbbbbbb';
const SECRET = randomBytes(64 * 1024);

let lab: StreamLab;
let a1: Snap;
let b1: Snap;
let b2: Snap;

let ino = 90_000;
const symlinkCmd = (at: string, to: string): Command => ({ cmd: Cmd.SYMLINK, attrs: [[Attr.PATH, text(at)], [Attr.INO, u64(ino++)], [Attr.PATH_LINK, text(to)]] });
const mkfile = (at: string): Command => ({ cmd: Cmd.MKFILE, attrs: [[Attr.PATH, text(at)], [Attr.INO, u64(ino++)]] });
const write = (at: string, data: Buffer): Command => ({ cmd: Cmd.WRITE, attrs: [[Attr.PATH, text(at)], [Attr.FILE_OFFSET, u64(0)], [Attr.DATA, data]] });
const rename = (from: string, to: string): Command => ({ cmd: Cmd.RENAME, attrs: [[Attr.PATH, text(from)], [Attr.PATH_TO, text(to)]] });

/** Every path under peer B's directory, links not followed, and which of them are subvolumes. */
async function bTree(): Promise<string[]> {
  const root = path.join(lab.target.path, PEER_B);
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir)).sort()) {
      const full = path.join(dir, entry);
      const info = await lstat(full);
      found.push(`${path.relative(root, full)}${info.isDirectory() && info.ino === 256 ? ' (subvolume)' : ''}`);
      if (info.isDirectory()) await walk(full);
    }
  };
  await walk(root);
  return found;
}

beforeAll(async () => {
  lab = await streamLab();
  // Peer A's replica holds a secret.
  const shareA = path.join(lab.source.path, 'a-share');
  await lab.btrfs.create(shareA);
  await writeFile(path.join(shareA, 'secret'), SECRET);
  a1 = await lab.snapshot(shareA);
  expect(await lab.receiveAs(PEER_A, lab.request(a1, 'photos', null), await lab.sendOf(a1))).toEqual({ ok: true });

  // Peer B's share holds two links any share may hold: one to "/", one up and over to A's replica.
  const shareB = path.join(lab.source.path, 'b-share');
  await lab.btrfs.create(shareB);
  await writeFile(path.join(shareB, 'x'), Buffer.alloc(64 * 1024, 0x62));
  await symlink('/', path.join(shareB, 'up'));
  await symlink(`../../../${PEER_A}/photos/${a1.name}`, path.join(shareB, 'climb'));
  b1 = await lab.snapshot(shareB);
  expect(await lab.receiveAs(PEER_B, lab.request(b1, 'docs', null), await lab.sendOf(b1))).toEqual({ ok: true });
  await writeFile(path.join(shareB, 'y'), 'more\n');
  b2 = await lab.snapshot(shareB);
  expect(await lab.receiveAs(PEER_B, lab.request(b2, 'docs', { name: b1.name, uuid: b1.uuid }), await lab.sendOf(b2, b1))).toEqual({ ok: true });
});

afterAll(async () => {
  await lab?.destroy();
});

/** Sends B's next snapshot, full or on b2, with `extra` commands before its end; the outcome. */
async function attack(incremental: boolean, extra: (transferId: string, snap: Snap) => Command[]): Promise<{ result: Awaited<ReturnType<StreamLab['receiveAs']>>; attemptId: string }> {
  const b3 = await lab.snapshot(b2.share);
  const stream = decodeStream(incremental ? await lab.sendOf(b3, b2) : await lab.sendOf(b3));
  const req = lab.request(b3, 'docs', incremental ? { name: b2.name, uuid: b2.uuid } : null);
  const result = await lab.receiveAs(PEER_B, req, (id) => encodeStream(beforeEnd(stream, ...extra(id, b3))));
  return { result, attemptId: req.attemptId };
}

describe('a stream writing through a symbolic link', () => {
  let before: string[];
  beforeAll(async () => {
    before = await bTree();
    // What B holds: its two replicas, their files and links, and nothing else.
    expect(before.filter((p) => !p.includes('/') || p.split('/').length === 2)).toEqual(['docs', `docs/${b1.name} (subvolume)`, `docs/${b2.name} (subvolume)`]);
  });

  it.each([
    ['a link the stream made, in a full stream', false, (): Command[] => [symlinkCmd('esc', '/'), mkfile('esc/planted.txt'), write('esc/planted.txt', text('planted\n'))]],
    ['a link the parent holds, in an incremental stream', true, (): Command[] => [mkfile('up/planted.txt'), write('up/planted.txt', text('planted\n'))]],
    ['a link renaming the subvolume itself out of the way', false, (id: string): Command[] => [symlinkCmd('esc', '/'), rename(`esc/${stagingName(id)}`, 'esc/stolen')]],
    ['a parent’s link renaming the subvolume itself', true, (id: string): Command[] => [rename(`up/${stagingName(id)}`, 'up/stolen')]],
  ])('is refused through %s, and nothing is left under the peer’s directory', async (_label, incremental, extra) => {
    const { result, attemptId } = await attack(incremental, extra);
    expect(result).toMatchObject({ ok: false, code: 'STREAM_REFUSED' });
    expect(!result.ok && result.message).toMatch(/outside its subvolume/);
    expect(await bTree()).toEqual(before);
    expect(lab.store.receiveTrail.get(attemptId)).toMatchObject({ status: 'failed', errorCode: 'STREAM_REFUSED' });
  });

  it('is refused cloning through the parent’s link to another peer’s replica, and nothing of it is read', async () => {
    const steal = cloneCommand({ path: 'x', offset: 0, length: SECRET.length, sourceUuid: b2.uuid, sourcePath: 'climb/secret' });
    const { result } = await attack(true, () => [steal]);
    expect(result).toMatchObject({ ok: false, code: 'STREAM_REFUSED' });
    expect(!result.ok && result.message).toMatch(/symbolic link/);
    expect(await bTree()).toEqual(before);
  });

  it('reads nothing of another peer cloning from the snapshot itself through the link it inherited', async () => {
    // Its files are in the jail: every walk through the link ends at the jail's root.
    const { result } = await attack(true, (_id, b3) => [cloneCommand({ path: 'x', offset: 0, length: SECRET.length, sourceUuid: b3.uuid, sourcePath: 'climb/secret' })]);
    expect(result.ok).toBe(false);
    expect(await bTree()).toEqual(before);
  });

  it('still takes B’s legitimate next incremental, links and all', async () => {
    const b3 = await lab.snapshot(b2.share);
    expect(await lab.receiveAs(PEER_B, lab.request(b3, 'docs', { name: b2.name, uuid: b2.uuid }), await lab.sendOf(b3, b2))).toEqual({ ok: true });
    const replica = path.join(lab.target.path, PEER_B, 'docs', b3.name);
    expect((await lstat(path.join(replica, 'up'))).isSymbolicLink()).toBe(true);
    expect(await readFile(path.join(replica, 'y'), 'utf8')).toBe('more\n');
    expect((await readdir(path.join(lab.target.path, PEER_B, 'docs'))).sort()).toEqual([b1.name, b2.name, b3.name].sort());
  });
});

describe('the sweep after a crash', () => {
  it('deletes a jail whole (its subvolume, and what a stream planted beside it) and a subvolume moved out but not committed', async () => {
    const docs = path.join(lab.target.path, PEER_B, 'docs');
    const before = await bTree();
    const jail = path.join(docs, '.incoming-0b9d2a8e-crashed');
    await mkdir(jail, { mode: 0o700 });
    await lab.btrfs.create(path.join(jail, '.incoming-0b9d2a8e-crashed'));
    await writeFile(path.join(jail, '.incoming-0b9d2a8e-crashed', 'partial'), 'half\n');
    await mkdir(path.join(jail, 'planted', 'deeper'), { recursive: true });
    await symlink('/', path.join(jail, 'planted', 'deeper', 'up'));
    const ready = path.join(docs, '.incoming-5f0c11aa-crashed.ready');
    await lab.btrfs.snapshot(path.join(docs, b1.name), ready, { readOnly: true });

    expect(await lab.receiver.cleanStaging()).toBe(2);
    expect(await bTree()).toEqual(before);
    // The link was never followed: the root it pointed at is still there.
    expect((await lstat('/etc/hostname')).isFile()).toBe(true);
  });
});
