// The btrfs adapter against real btrfs: pools are loop-mounted images made
// by test/support/pools.ts.

import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { Btrfs, type SubvolumeInfo } from '../../src/btrfs/index.js';
import { encodeCommand } from '../../src/btrfs/stream-format.js';
import { createLogger } from '../../src/log/logger.js';
import { createPool, usePools, type Pool } from '../support/pools.js';
import { rejection } from '../support/errors.js';
import { runCommand } from '../support/run.js';

usePools();

const logged: string[] = [];
const btrfs = new Btrfs({ logger: createLogger({ level: 'debug', write: (line) => { logged.push(line); if (process.env.FERRY_TEST_LOG) process.stderr.write(line + '\n'); } }) });

async function writeRandom(file: string, mib: number): Promise<void> {
  const chunks = Array.from({ length: mib }, () => randomBytes(1024 * 1024));
  await writeFile(file, Buffer.concat(chunks));
}

/** Running btrfs processes whose argv mentions `path`. */
async function btrfsProcessesOn(path: string): Promise<string[][]> {
  const found: string[][] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').then(
      (text) => text.split('\0').filter(Boolean),
      () => [],
    );
    if (argv[0]?.endsWith('btrfs') && argv.some((arg) => arg.includes(path))) found.push(argv);
  }
  return found;
}

/**
 * Offsets in a v1 send stream where a command starts: after the 17-byte
 * header ("btrfs-stream\0" + version), each command is a 10-byte header
 * (u32 length, u16 command, u32 crc) and `length` bytes.
 */
function commandStarts(stream: Buffer): number[] {
  expect(stream.subarray(0, 13).toString('latin1')).toBe('btrfs-stream\0');
  const starts: number[] = [];
  for (let offset = 17; offset + 10 <= stream.length; offset += 10 + stream.readUInt32LE(offset)) starts.push(offset);
  return starts;
}

/** Send `path` (incrementally from `parent`) into `dir` and return what was received. */
async function transfer(path: string, dir: string, parent?: string): Promise<SubvolumeInfo> {
  const sent = btrfs.send(parent === undefined ? { path } : { path, parent });
  const received = btrfs.receive({ dir });
  await pipeline(sent.stream, received.input);
  await sent.done;
  const { name } = await received.done;
  return btrfs.show(join(dir, name));
}

/**
 * `stream` (a v1 send stream) with every path TLV (path, path_to, path_link)
 * that `rewrite` maps to a string replaced by it, each changed command's
 * crc32c redone: what a paired but hostile sender could send.
 */
function rewritePaths(stream: Buffer, rewrite: (path: string) => string | null): Buffer {
  const HEADER = 17; // "btrfs-stream\0" and a u32 version
  const parts: Buffer[] = [stream.subarray(0, HEADER)];
  for (let at = HEADER; at < stream.length; ) {
    const length = stream.readUInt32LE(at);
    const tlvs: [number, Buffer][] = [];
    let changed = false;
    for (let t = at + 10; t < at + 10 + length; ) {
      const type = stream.readUInt16LE(t);
      const size = stream.readUInt16LE(t + 2);
      const replaced = type === 15 || type === 16 || type === 17 ? rewrite(stream.toString('utf8', t + 4, t + 4 + size)) : null;
      changed ||= replaced !== null;
      tlvs.push([type, replaced === null ? stream.subarray(t + 4, t + 4 + size) : Buffer.from(replaced, 'utf8')]);
      t += 4 + size;
    }
    parts.push(changed ? encodeCommand(stream.readUInt16LE(at + 4), tlvs) : stream.subarray(at, at + 10 + length));
    at += 10 + length;
  }
  return Buffer.concat(parts);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('subvolumes', () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = await createPool();
  });

  it('creates, shows, snapshots read-only, lists and deletes', async () => {
    const share = join(pool.path, 'share');
    await btrfs.create(share);
    await writeFile(join(share, 'file'), 'hello');
    const info = await btrfs.show(share);
    expect(info).toMatchObject({ path: share, name: 'share', parentUuid: null, receivedUuid: null, readOnly: false });
    expect(info.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(info.generation).toBeGreaterThan(0);

    const snaps = join(pool.path, 'snaps');
    await mkdir(snaps);
    await btrfs.snapshot(share, join(snaps, 'b'), { readOnly: true });
    await btrfs.snapshot(share, join(snaps, 'a'), { readOnly: false });
    await mkdir(join(snaps, 'plain-dir'));
    await writeFile(join(snaps, 'plain-file'), '');

    const b = await btrfs.show(join(snaps, 'b'));
    expect(b).toMatchObject({ name: 'b', parentUuid: info.uuid, readOnly: true });
    expect(await readFile(join(snaps, 'b', 'file'), 'utf8')).toBe('hello');

    const listed = await btrfs.children(snaps);
    expect(listed.map((s) => [s.name, s.path, s.readOnly])).toEqual([
      ['a', join(snaps, 'a'), false],
      ['b', join(snaps, 'b'), true],
    ]);
    expect(await btrfs.children(join(pool.path, 'missing'))).toEqual([]);

    expect(await btrfs.isSubvolume(share)).toBe(true);
    expect(await btrfs.isSubvolume(join(snaps, 'plain-dir'))).toBe(false);
    expect(await btrfs.isSubvolume(join(snaps, 'plain-file'))).toBe(false);
    expect(await btrfs.isSubvolume(join(pool.path, 'missing'))).toBe(false);
    expect(await btrfs.isSubvolume('/proc')).toBe(false);

    await btrfs.delete(join(snaps, 'b'));
    expect(await btrfs.isSubvolume(join(snaps, 'b'))).toBe(false);
    expect((await btrfs.children(snaps)).map((s) => s.name)).toEqual(['a']);
    await btrfs.sync(pool.path);
  });

  it('refuses to snapshot onto an existing path instead of nesting the snapshot in it', async () => {
    const share = join(pool.path, 'nest-share');
    const existing = join(pool.path, 'nest-dest');
    await btrfs.create(share);
    await mkdir(existing);
    expect((await rejection(btrfs.snapshot(share, existing, { readOnly: true }))).code).toBe('ALREADY_EXISTS');
    expect(await readdir(existing)).toEqual([]);
  });

  it('sets and clears read-only', async () => {
    const share = join(pool.path, 'ro-share');
    await btrfs.create(share);
    await btrfs.setReadOnly(share, true);
    expect((await btrfs.show(share)).readOnly).toBe(true);
    await btrfs.setReadOnly(share, false);
    expect((await btrfs.show(share)).readOnly).toBe(false);
  });

  it('reports typed errors with the command and its stderr', async () => {
    const plain = join(pool.path, 'not-a-subvolume');
    await mkdir(plain);
    const notSubvolume = await rejection(btrfs.show(plain));
    expect(notSubvolume.code).toBe('NOT_A_SUBVOLUME');
    expect(notSubvolume.message).toContain(`btrfs subvolume show -- ${plain}`);
    expect(notSubvolume.detail).toMatch(/Not a Btrfs subvolume/);

    expect((await rejection(btrfs.show(join(pool.path, 'missing')))).code).toBe('NOT_FOUND');
    expect((await rejection(btrfs.show('/proc'))).code).toBe('NOT_BTRFS');
    expect((await rejection(btrfs.create(join(pool.path, 'share')))).code).toBe('ALREADY_EXISTS');
    expect((await rejection(btrfs.delete(plain))).code).toBe('NOT_A_SUBVOLUME');
    expect((await rejection(new Btrfs({ binary: 'ferry-no-such-btrfs' }).show(pool.path))).code).toBe('BTRFS_MISSING');
    expect(logged.some((line) => line.includes('"btrfs command finished"') && line.includes('"ms"'))).toBe(true);
  });

  it('estimates free space', async () => {
    const before = await btrfs.freeBytes(pool.path);
    expect(before).toBeGreaterThan(100 * 1024 * 1024);
    expect(before).toBeLessThan(256 * 1024 * 1024);
    const share = join(pool.path, 'space-share');
    await btrfs.create(share);
    await writeRandom(join(share, 'data'), 48);
    await btrfs.sync(pool.path);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    // Written data needs a commit before usage shows it: `subvolume sync` is not one, deleting is.
    const filled = join(pool.path, 'space-snap');
    await btrfs.snapshot(share, filled, { readOnly: true });
    expect(await btrfs.freeBytes(pool.path)).toBeLessThan(before - 40 * 1024 * 1024);
  });
});

describe('one listing in place of a show per subvolume', () => {
  let pool: Pool;
  let other: Pool;
  beforeAll(async () => {
    pool = await createPool();
    other = await createPool();
  });

  /** What `show` says of each entry of `dir` that is a subvolume, by name. */
  async function shownIn(dir: string, names: readonly string[]): Promise<SubvolumeInfo[]> {
    return Promise.all(names.map((name) => btrfs.show(join(dir, name))));
  }
  /** The btrfs commands `work` ran, by their first two words. */
  async function commandsOf(work: () => Promise<unknown>): Promise<string[]> {
    const from = logged.length;
    await work();
    return logged.slice(from).flatMap((line) => {
      const { msg, argv } = JSON.parse(line) as { msg: string; argv?: string[] };
      return msg === 'btrfs command finished' && argv ? [argv.slice(1, 3).join(' ')] : [];
    });
  }
  async function mounted(args: readonly string[], where: string): Promise<() => Promise<void>> {
    await mkdir(where, { recursive: true });
    const r = await runCommand('mount', [...args, where]);
    expect(r.code, r.stderr).toBe(0);
    return async () => {
      await runCommand('umount', [where]);
    };
  }

  it('gives what show gives of each entry, writable, read-only and received, from one subvolume list', async () => {
    const a = join(pool.path, 'a');
    await btrfs.create(a);
    const x = join(a, 'x');
    await mkdir(x);
    await btrfs.create(join(x, 's1'));
    await writeFile(join(x, 's1', 'file'), 'one');
    await btrfs.snapshot(join(x, 's1'), join(x, 's2'), { readOnly: true });
    await mkdir(join(x, 'plain'));
    const rcv = join(a, 'rcv');
    await mkdir(rcv);
    const received = await transfer(join(x, 's2'), rcv);
    expect(received.receivedUuid).not.toBeNull();

    let listed: SubvolumeInfo[] = [];
    const ran = await commandsOf(async () => {
      listed = [...(await btrfs.children(x)), ...(await btrfs.children(rcv))];
    });
    expect(ran).toEqual(['subvolume list', 'subvolume list']);
    expect(listed).toEqual([...(await shownIn(x, ['s1', 's2'])), received]);
    expect(listed.map((s) => [s.name, s.readOnly, s.receivedUuid !== null])).toEqual([
      ['s1', false, false],
      ['s2', true, false],
      [received.name, true, true],
    ]);
    // Subvolumes nested in a subvolume, and one at the top: the paths are built up through each one's parent.
    expect(await btrfs.children(pool.path)).toEqual(await shownIn(pool.path, ['a']));
  });

  it('places a directory under a subvolume mounted by itself, and asks show where the mount is read-only', async () => {
    const b = join(pool.path, 'b');
    await btrfs.create(b);
    await mkdir(join(b, 'snaps'));
    await btrfs.create(join(b, 'snaps', 'w'));
    await btrfs.snapshot(join(b, 'snaps', 'w'), join(b, 'snaps', 'r'), { readOnly: true });
    const where = join(dirname(pool.path), 'b-mounted');
    const unmount = await mounted(['-o', 'subvol=b', pool.loopDevice], where);
    try {
      const dir = join(where, 'snaps');
      let listed: SubvolumeInfo[] = [];
      expect(await commandsOf(async () => (listed = await btrfs.children(dir)))).toEqual(['subvolume list']);
      expect(listed).toEqual(await shownIn(dir, ['r', 'w']));
    } finally {
      await unmount();
    }
    const readOnly = join(dirname(pool.path), 'b-read-only');
    const unmountRo = await mounted(['-o', 'bind,ro', join(b, 'snaps')], readOnly);
    try {
      let listed: SubvolumeInfo[] = [];
      // Every entry says EROFS on a read-only mount, the writable one too: each is asked of show instead.
      expect(await commandsOf(async () => (listed = await btrfs.children(readOnly)))).toEqual(['subvolume list', 'subvolume show', 'subvolume show']);
      expect(listed.map((s) => [s.name, s.readOnly])).toEqual([
        ['r', true],
        ['w', false],
      ]);
    } finally {
      await unmountRo();
    }
  });

  it('tells what changed since it was taken: a subvolume made since is asked of show, one deleted since is gone', async () => {
    const dir = join(pool.path, 'changing');
    await mkdir(dir);
    await btrfs.create(join(dir, 'old'));
    await btrfs.create(join(dir, 'gone'));
    const before = btrfs.changes;
    const listing = await btrfs.listing(pool.path);
    expect(listing.changes).toBe(before);
    await btrfs.delete(join(dir, 'gone'));
    await btrfs.snapshot(join(dir, 'old'), join(dir, 'new'), { readOnly: true });
    expect(btrfs.changes).toBe(before + 4);
    let listed: SubvolumeInfo[] = [];
    expect(await commandsOf(async () => (listed = await listing.children(dir)))).toEqual(['subvolume show']);
    expect(listed).toEqual(await shownIn(dir, ['new', 'old']));
    // A subvolume the caller made and told of is not asked again.
    listing.learn(listed[0]!);
    expect(await commandsOf(() => listing.children(dir))).toEqual([]);
    // The listing's UUIDs are the filesystem's, for the identity checks of a transfer.
    expect(listing.subvolumes.map((s) => s.uuid)).toContain(listed[1]!.uuid);
  });

  it('asks show of a directory on another filesystem than the one listed, so same paths there are not mistaken', async () => {
    for (const p of [pool.path, other.path]) {
      await mkdir(join(p, 'twin'), { recursive: true });
      await btrfs.create(join(p, 'twin', 'same')).catch(() => undefined);
    }
    const listing = await btrfs.listing(pool.path);
    let listed: SubvolumeInfo[] = [];
    expect(await commandsOf(async () => (listed = await listing.children(join(other.path, 'twin'))))).toEqual(['subvolume show']);
    expect(listed).toEqual(await shownIn(join(other.path, 'twin'), ['same']));
    expect(listed[0]!.uuid).not.toBe((await btrfs.show(join(pool.path, 'twin', 'same'))).uuid);
  });
});

describe('send and receive', () => {
  let source: Pool;
  let target: Pool;
  beforeAll(async () => {
    [source, target] = await Promise.all([createPool({ sizeMiB: 512 }), createPool({ sizeMiB: 512 })]);
  });

  it('sends a full stream into another pool, then an incremental one on top of it', async () => {
    const share = join(source.path, 'share');
    await btrfs.create(share);
    await writeFile(join(share, 'one'), 'first');
    await writeRandom(join(share, 'data'), 8);
    const snap1 = join(source.path, 'snap1');
    await btrfs.snapshot(share, snap1, { readOnly: true });
    const sent1 = await btrfs.show(snap1);

    const replicas = join(target.path, 'replicas');
    await mkdir(replicas);
    const replica1 = await transfer(snap1, replicas);
    expect(replica1).toMatchObject({ name: 'snap1', receivedUuid: sent1.uuid, readOnly: true });
    expect(replica1.uuid).not.toBe(sent1.uuid);
    // Buffer.equals: toEqual compares 8 MiB byte by byte, for a minute.
    expect((await readFile(join(replicas, 'snap1', 'data'))).equals(await readFile(join(snap1, 'data')))).toBe(true);

    await writeFile(join(share, 'two'), 'second');
    const snap2 = join(source.path, 'snap2');
    await btrfs.snapshot(share, snap2, { readOnly: true });
    const sent2 = await btrfs.show(snap2);
    const replica2 = await transfer(snap2, replicas, snap1);
    expect(replica2).toMatchObject({ name: 'snap2', receivedUuid: sent2.uuid, parentUuid: replica1.uuid, readOnly: true });
    expect(await readFile(join(replicas, 'snap2', 'two'), 'utf8')).toBe('second');
    expect((await btrfs.children(replicas)).map((s) => s.receivedUuid)).toEqual([sent1.uuid, sent2.uuid]);

    // Replicas are read-only and received; retention must still be able to delete them.
    await btrfs.delete(join(replicas, 'snap1'));
    await btrfs.delete(join(replicas, 'snap2'));
    expect(await btrfs.children(replicas)).toEqual([]);
  });

  it('keeps backpressure: an unread send stream holds btrfs send, not memory', async () => {
    const share = join(source.path, 'bp-share');
    await btrfs.create(share);
    await writeRandom(join(share, 'data'), 32);
    const snap = join(source.path, 'bp-snap');
    await btrfs.snapshot(share, snap, { readOnly: true });

    const { stream, done } = btrfs.send({ path: snap });
    let settled = false;
    void done.finally(() => (settled = true));
    await sleep(1_000);
    expect(settled).toBe(false);
    expect(stream.readableLength).toBeLessThanOrEqual(1024 * 1024);

    let bytes = 0;
    await pipeline(
      stream,
      new Writable({
        write(chunk: Buffer, _enc, callback) {
          bytes += chunk.length;
          callback();
        },
      }),
    );
    await done;
    expect(bytes).toBeGreaterThan(32 * 1024 * 1024);
  });

  it('rejects SEND_FAILED, on done and on the stream, for a path that does not exist', async () => {
    const missing = join(source.path, 'no-such-snapshot');
    const { stream, done } = btrfs.send({ path: missing });
    const streamError = await rejection(pipeline(stream, new Writable({ write: (_c, _e, cb) => cb() })));
    const err = await rejection(done);
    expect(err.code).toBe('SEND_FAILED');
    expect(err.message).toContain(missing);
    expect(err.detail).toMatch(/ERROR/);
    expect(streamError).toBe(err);
  });

  it('rejects SEND_FAILED for a writable subvolume and for a missing parent', async () => {
    const share = join(source.path, 'rw-share');
    await btrfs.create(share);
    const rw = await rejection(btrfs.send({ path: share }).done);
    expect(rw.code).toBe('SEND_FAILED');
    expect(rw.detail).toMatch(/not read-only/);
    const snap = join(source.path, 'rw-snap');
    await btrfs.snapshot(share, snap, { readOnly: true });
    expect((await rejection(btrfs.send({ path: snap, parent: join(source.path, 'nope') }).done)).code).toBe('SEND_FAILED');
  });

  it('aborts a send: the child is killed and both sides say ABORTED', async () => {
    const share = join(source.path, 'abort-share');
    await btrfs.create(share);
    await writeRandom(join(share, 'data'), 16);
    const snap = join(source.path, 'abort-snap');
    await btrfs.snapshot(share, snap, { readOnly: true });

    const controller = new AbortController();
    const { stream, done } = btrfs.send({ path: snap, signal: controller.signal });
    const streamFailed = rejection(pipeline(stream, new Writable({ highWaterMark: 1, write: () => undefined })));
    await sleep(300);
    expect(await btrfsProcessesOn(snap)).toHaveLength(1);
    controller.abort();
    const err = await rejection(done);
    expect(err.code).toBe('ABORTED');
    expect((await streamFailed).code).toBe('ABORTED');
    expect(await btrfsProcessesOn(snap)).toEqual([]);
    // The kernel refuses to delete a snapshot while a send still reads it.
    await btrfs.delete(snap);
  });

  it('aborts a receive that waits for input', async () => {
    const dir = join(target.path, 'abort-receive');
    await mkdir(dir);
    const controller = new AbortController();
    const { input, done } = btrfs.receive({ dir, signal: controller.signal });
    const writer = rejection(pipeline(async function* () {
      yield Buffer.alloc(0);
      await sleep(60_000);
    }, input));
    await sleep(200);
    expect(await btrfsProcessesOn(dir)).toHaveLength(1);
    controller.abort();
    expect((await rejection(done)).code).toBe('ABORTED');
    expect((await writer).code).toBe('ABORTED');
    expect(await btrfsProcessesOn(dir)).toEqual([]);
  });

  it('kills btrfs receive when its writer fails, so a cut stream is never finished as whole', async () => {
    const share = join(source.path, 'cut-share');
    await btrfs.create(share);
    for (let i = 0; i < 64; i++) await writeFile(join(share, `f${i}`), `file ${i}`);
    const snap = join(source.path, 'cut-snap');
    await btrfs.snapshot(share, snap, { readOnly: true });
    const chunks: Buffer[] = [];
    const sent = btrfs.send({ path: snap });
    for await (const chunk of sent.stream) chunks.push(chunk as Buffer);
    await sent.done;
    const whole = Buffer.concat(chunks);

    const dir = join(target.path, 'cut');
    await mkdir(dir);
    const { input, done } = btrfs.receive({ dir });
    input.on('error', () => undefined);
    // Cut on a command boundary, the one place where EOF could pass for the
    // end of a stream (btrfs-progs 6.2 rejects it too: "unexpected EOF").
    const starts = commandStarts(whole);
    expect(starts.length).toBeGreaterThan(64);
    input.write(whole.subarray(0, starts[Math.floor(starts.length / 2)]));
    await sleep(300);
    input.destroy(new Error('the link dropped'));
    const err = await rejection(done);
    expect(err.code).toBe('RECEIVE_FAILED');
    expect(err.message).toMatch(/the link dropped/);

    const partial = await btrfs.children(dir);
    expect(partial.length).toBeLessThanOrEqual(1);
    for (const subvolume of partial) {
      expect(subvolume.receivedUuid).toBeNull();
      expect(subvolume.readOnly).toBe(false);
      await btrfs.delete(subvolume.path);
    }
    expect(await btrfsProcessesOn(dir)).toEqual([]);
  });

  it('confines btrfs receive to its directory: a stream cannot create files through a symlink to outside', async () => {
    // The symlink first, so that it exists (inode 257) when the file (inode 258) is made.
    const outside = dirname(target.path);
    const share = join(source.path, 'climb-share');
    await btrfs.create(share);
    await symlink(outside, join(share, 'l'));
    await writeFile(join(share, 'a'), 'written by a hostile stream\n');
    const snap = join(source.path, 'climb-snap');
    await btrfs.snapshot(share, snap, { readOnly: true });
    const sent = btrfs.send({ path: snap });
    const chunks: Buffer[] = [];
    for await (const chunk of sent.stream) chunks.push(chunk as Buffer);
    await sent.done;

    // The file's temporary name (o258-...) becomes a path through the symlink.
    const name = `escaped-${randomBytes(6).toString('hex')}`;
    const hostile = rewritePaths(Buffer.concat(chunks), (p) => (p.startsWith('o258-') ? `l/${name}` : null));
    const dir = join(target.path, 'climb');
    await mkdir(dir);
    const received = btrfs.receive({ dir });
    const [, done] = await Promise.allSettled([pipeline(Readable.from([hostile]), received.input), received.done]);
    expect(await exists(join(outside, name))).toBe(false);
    expect(done.status).toBe('rejected');
    for (const subvolume of await btrfs.children(dir)) await btrfs.delete(subvolume.path);
  });

  it('fails with NO_SPACE when the target pool is too small, and the partial subvolume can be deleted', async () => {
    const small = await createPool({ sizeMiB: 128 });
    const share = join(source.path, 'big-share');
    await btrfs.create(share);
    await writeRandom(join(share, 'data'), 192);
    const snap = join(source.path, 'big-snap');
    await btrfs.snapshot(share, snap, { readOnly: true });

    const dir = join(small.path, 'staging');
    await mkdir(dir);
    const sent = btrfs.send({ path: snap });
    const received = btrfs.receive({ dir });
    const piped = rejection(pipeline(sent.stream, received.input));
    const err = await rejection(received.done);
    expect(['NO_SPACE', 'RECEIVE_FAILED']).toContain(err.code);
    expect(err.code).toBe('NO_SPACE');
    expect(err.detail).toMatch(/No space left on device/);
    await piped;
    // Its reader gone, btrfs send must not stay blocked.
    expect((await rejection(sent.done)).code).toBe('SEND_FAILED');

    const partial = await btrfs.children(dir);
    expect(partial.map((s) => [s.name, s.receivedUuid])).toEqual([['big-snap', null]]);
    for (const subvolume of partial) await btrfs.delete(subvolume.path);
    expect(await btrfs.children(dir)).toEqual([]);
    await btrfs.sync(small.path);
  });
});
