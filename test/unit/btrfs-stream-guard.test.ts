// The receiver's whole-stream check, on synthetic streams framed exactly as
// btrfs send frames them (test/support/send-stream.ts): what a legitimate
// stream may do passes through byte for byte whatever the chunking, and
// every rule of src/btrfs/stream-rules.ts refuses its breach, also when the
// offending bytes arrive one at a time. test/btrfs/hostile-streams.test.ts
// shows on real btrfs what each breach would do without the check.

import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { parseStreamHead } from '../../src/btrfs/stream-head.js';
import { StreamGuard } from '../../src/btrfs/stream-guard.js';
import { pathProblem } from '../../src/btrfs/stream-rules.js';
import { encodeCommand } from '../../src/btrfs/stream-format.js';
import { Attr, Cmd, beforeEnd, cloneCommand, encodeStream, text, u64, uuidBytes, type Command, type SendStream } from '../support/send-stream.js';

const SNAP = '11111111-1111-4111-8111-111111111111';
const PARENT = '22222222-2222-4222-8222-222222222222';
const OTHER = '33333333-3333-4333-8333-333333333333';

function body(version: number): Command[] {
  return [
    { cmd: Cmd.MKFILE, attrs: [[Attr.PATH, text('o257-7-0')]] },
    { cmd: Cmd.RENAME, attrs: [[Attr.PATH, text('o257-7-0')], [Attr.PATH_TO, text('dir/a')]] },
    { cmd: Cmd.WRITE, attrs: [[Attr.PATH, text('dir/a')], [Attr.FILE_OFFSET, u64(0)], [Attr.DATA, randomBytes(version >= 2 ? 100_000 : 49_152)]] },
    { cmd: Cmd.SET_XATTR, attrs: [[Attr.PATH, text('dir/a')], [Attr.XATTR_NAME, text('user.note')], [Attr.XATTR_DATA, text('..//etc/../..')]] },
    cloneCommand({ path: 'dir/b', offset: 0, length: 4096, sourceUuid: SNAP, sourcePath: 'dir/a' }),
    { cmd: Cmd.SYMLINK, attrs: [[Attr.PATH, text('link')], [Attr.INO, u64(259)], [Attr.PATH_LINK, text('/etc/../../anywhere')]] },
    { cmd: Cmd.LINK, attrs: [[Attr.PATH, text('dir/hard')], [Attr.PATH_LINK, text('dir/a')]] },
    { cmd: Cmd.UTIMES, attrs: [[Attr.PATH, text('')], [Attr.ATIME, Buffer.alloc(12)], [Attr.MTIME, Buffer.alloc(12)], [Attr.CTIME, Buffer.alloc(12)]] },
    { cmd: Cmd.END, attrs: [] },
  ];
}

function full(version = 1): SendStream {
  return {
    version,
    commands: [{ cmd: Cmd.SUBVOL, attrs: [[Attr.PATH, text('snap')], [Attr.UUID, uuidBytes(SNAP)], [Attr.CTRANSID, u64(7)]] }, ...body(version)],
  };
}

function incremental(version = 1): SendStream {
  return {
    version,
    commands: [
      {
        cmd: Cmd.SNAPSHOT,
        attrs: [[Attr.PATH, text('snap')], [Attr.UUID, uuidBytes(SNAP)], [Attr.CTRANSID, u64(8)], [Attr.CLONE_UUID, uuidBytes(PARENT)], [Attr.CLONE_CTRANSID, u64(7)]],
      },
      cloneCommand({ path: 'dir/c', offset: 0, length: 4096, sourceUuid: PARENT, sourcePath: 'dir/a' }),
      ...body(version),
    ],
  };
}

async function through(stream: Buffer, slice: number): Promise<Buffer> {
  const guard = new StreamGuard({ stagingName: '.incoming-x', checkHead: () => undefined, rules: { cloneSources: new Set([SNAP, PARENT]) } });
  const source = new PassThrough();
  const out: Buffer[] = [];
  guard.on('data', (b: Buffer) => out.push(b));
  const done = pipeline(source, guard);
  for (let i = 0; i < stream.length; i += slice) source.write(stream.subarray(i, i + slice));
  source.end();
  await done;
  return Buffer.concat(out);
}

const SLICES = [1, 2, 3, 7, 10, 64, 4096, 1 << 20];

describe('StreamGuard passes what btrfs send writes', () => {
  it.each([
    ['a full v1', full(1)],
    ['an incremental v1', incremental(1)],
    ['a full v2 (DATA without a length)', full(2)],
    ['an incremental v3', incremental(3)],
  ])('%s stream, unchanged but for the staging name, however it is sliced', async (_label, stream) => {
    const bytes = encodeStream(stream);
    const head = parseStreamHead(bytes);
    if (!head) throw new Error('no head');
    for (const slice of SLICES) {
      const out = await through(bytes, slice);
      const renamed = parseStreamHead(out);
      expect(renamed?.head.name, `slice ${slice}`).toBe('.incoming-x');
      expect(out.subarray(renamed?.length).equals(bytes.subarray(head.length)), `slice ${slice}`).toBe(true);
    }
  });

  it('refuses the stream when the head check refuses it', async () => {
    const guard = new StreamGuard({
      stagingName: '.incoming-x',
      checkHead: () => {
        throw new Error('not the announced snapshot');
      },
      rules: { cloneSources: new Set() },
    });
    await expect(pipeline(PassThrough.from([encodeStream(full())]), guard)).rejects.toThrow('not the announced snapshot');
  });
});

/** A stream whose bytes after a valid command are `raw`. */
function withRaw(stream: SendStream, raw: Buffer): Buffer {
  return Buffer.concat([encodeStream({ ...stream, commands: stream.commands.filter((c) => c.cmd !== Cmd.END) }), raw]);
}

function rawCommand(cmd: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(10);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt16LE(cmd, 4);
  return Buffer.concat([header, payload]);
}

function tlv(type: number, value: Buffer, length = value.length): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(type, 0);
  head.writeUInt16LE(length, 2);
  return Buffer.concat([head, value]);
}

const end = encodeCommand(Cmd.END, []);

describe('StreamGuard refuses', () => {
  it.each<[string, Buffer, RegExp]>([
    ['a clone from a subvolume that is neither the parent nor the snapshot', encodeStream(beforeEnd(full(), cloneCommand({ path: 'x', offset: 0, length: 4096, sourceUuid: OTHER, sourcePath: 'secret' }))), /clones from subvolume 33333333-.*neither the announced parent/],
    ['the same clone inside an otherwise legitimate incremental', encodeStream(beforeEnd(incremental(), cloneCommand({ path: 'x', offset: 0, length: 4096, sourceUuid: OTHER, sourcePath: 'secret', sourceCtransid: 999_999 }))), /clones from subvolume 33333333-/],
    ['a clone without a source UUID', encodeStream(beforeEnd(full(), { cmd: Cmd.CLONE, attrs: [[Attr.PATH, text('x')], [Attr.CLONE_PATH, text('dir/a')]] })), /clone without a source UUID/],
    ['a clone from the snapshot itself that climbs out with ".."', encodeStream(beforeEnd(full(), cloneCommand({ path: 'x', offset: 0, length: 4096, sourceUuid: SNAP, sourcePath: '../../other-peer/share/secret' }))), /names the path "..\/..\/other-peer.*'\.\.' component/],
    ['an absolute path', encodeStream(beforeEnd(full(), { cmd: Cmd.MKFILE, attrs: [[Attr.PATH, text('/etc/cron.d/x')]] })), /is absolute/],
    ['a ".." in a rename target', encodeStream(beforeEnd(full(), { cmd: Cmd.RENAME, attrs: [[Attr.PATH, text('dir/a')], [Attr.PATH_TO, text('dir/../../x')]] })), /'\.\.' component/],
    ['a hard link to "../x"', encodeStream(beforeEnd(full(), { cmd: Cmd.LINK, attrs: [[Attr.PATH, text('h')], [Attr.PATH_LINK, text('../x')]] })), /'\.\.' component/],
    ['a NUL in a path', encodeStream(beforeEnd(full(), { cmd: Cmd.MKFILE, attrs: [[Attr.PATH, Buffer.from('a\0/../../b')]] })), /NUL byte/],
    ['a second subvolume command', encodeStream(beforeEnd(full(), { cmd: Cmd.SUBVOL, attrs: [[Attr.PATH, text('two')], [Attr.UUID, uuidBytes(OTHER)], [Attr.CTRANSID, u64(1)]] })), /second subvolume/],
    ['a snapshot command after the head', encodeStream(beforeEnd(full(), { cmd: Cmd.SNAPSHOT, attrs: [[Attr.PATH, text('two')], [Attr.UUID, uuidBytes(OTHER)], [Attr.CLONE_UUID, uuidBytes(PARENT)]] })), /second subvolume/],
    ['a command after the end command', Buffer.concat([encodeStream(full()), encodeCommand(Cmd.MKFILE, [[Attr.PATH, text('late')]])]), /follows the end command/],
    ['stray bytes after the end command', Buffer.concat([encodeStream(full()), Buffer.from('trailing garbage')]), /follows the end command|unknown type/],
    ['an unknown command', withRaw(full(), Buffer.concat([encodeCommand(99, []), end])), /unknown type 99/],
    ['a version 2 command in a version 1 stream', withRaw(full(), Buffer.concat([encodeCommand(Cmd.ENCODED_WRITE, [[Attr.PATH, text('a')]]), end])), /unknown type 25 for a version 1 stream/],
    ['an unknown attribute', withRaw(full(), Buffer.concat([encodeCommand(Cmd.MKFILE, [[77, text('x')]]), end])), /unknown attribute 77/],
    ['the same attribute twice (btrfs-progs would use the second)', withRaw(full(), Buffer.concat([encodeCommand(Cmd.MKFILE, [[Attr.PATH, text('ok')], [Attr.PATH, text('../../x')]]), end])), /attribute 15 twice/],
    ['an attribute that overruns its command', withRaw(full(), Buffer.concat([rawCommand(Cmd.MKFILE, tlv(Attr.PATH, text('abc'), 40)), end])), /overruns its command/],
    ['a command that ends inside an attribute header', withRaw(full(), Buffer.concat([rawCommand(Cmd.MKFILE, Buffer.from([15, 0, 3])), end])), /ends inside an attribute header/],
    ['a command claiming gigabytes', withRaw(full(), rawCommand(Cmd.WRITE, Buffer.alloc(0)).fill(0xff, 0, 4)), /claims 4294967295 bytes/],
    ['a stream that ends before its end command', withRaw(full(), Buffer.alloc(0)), /ended before its end command/],
    ['a stream that ends inside a command', withRaw(full(), encodeCommand(Cmd.MKFILE, [[Attr.PATH, text('abcdef')]]).subarray(0, 14)), /ended inside a command/],
  ])('%s', async (_label, stream, message) => {
    for (const slice of [1, 5, 4096, 1 << 20]) {
      const err = await through(stream, slice).then(
        () => null,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(err?.message, `slice ${slice}`).toMatch(message);
      expect(err?.code).toBe('STREAM_REFUSED');
    }
  });
});

describe('pathProblem', () => {
  it.each([
    ['', null],
    ['a', null],
    ['dir/a', null],
    ['o257-7-0', null],
    ['...', null],
    ['..a', null],
    ['a..', null],
    ['a/..b/c', null],
    ['.hidden/.x', null],
    ['..', "has a '..' component"],
    ['../x', "has a '..' component"],
    ['a/..', "has a '..' component"],
    ['a/../b', "has a '..' component"],
    ['a//../b', "has a '..' component"],
    ['/a', 'is absolute'],
    ['//a', 'is absolute'],
    ['a\0b', 'has a NUL byte'],
  ])('%j: %s', (path, problem) => {
    expect(pathProblem(Buffer.from(path, 'utf8'))).toBe(problem);
  });
});
