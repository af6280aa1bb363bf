// The receiver's reading of a send stream's first command, against the head
// of real `btrfs send` output (btrfs-progs 6.2) captured as hex.

import { describe, expect, it } from 'vitest';
import { btrfsCrc32c } from '../../src/btrfs/stream-format.js';
import { parseStreamHead, renameStreamHead } from '../../src/btrfs/stream-head.js';

// `btrfs send snap1` (a full stream): 120 bytes from its start.
const FULL = Buffer.from(
  '62747266732d73747265616d00010000002900000001006a0114040f000500736e6170310100100018879883f2ca474ba4f06ee7dc6003e20200080007000000000000001c000000130002372d8c0f000000060008000000000000000000070008000000000000000000100000001200595575350f000000',
  'hex',
);
// `btrfs send -p snap1 snap2` (incremental): 150 bytes from its start.
const INCREMENTAL = Buffer.from(
  '62747266732d73747265616d000100000049000000020072063fa40f000500736e6170320100100011ffceb9ef65f64d8b55f69c845f64a10200080008000000000000001400100018879883f2ca474ba4f06ee7dc6003e21500080007000000000000001800000003009e7334b70f0008006f3235382d382d30030008000201000000000000110000000900ac8a58510f0008006f32',
  'hex',
);
const SNAP1_UUID = '18879883-f2ca-474b-a4f0-6ee7dc6003e2';
const SNAP2_UUID = '11ffceb9-ef65-f64d-8b55-f69c845f64a1';

function corrupt(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

describe('parseStreamHead on real streams', () => {
  it.each([
    ['full', FULL, { kind: 'full', name: 'snap1', uuid: SNAP1_UUID, parentUuid: null, version: 1 }],
    ['incremental', INCREMENTAL, { kind: 'incremental', name: 'snap2', uuid: SNAP2_UUID, parentUuid: SNAP1_UUID, version: 1 }],
  ])('reads the %s stream head', (_label, stream, expected) => {
    expect(parseStreamHead(stream)?.head).toEqual(expected);
  });

  it('computes the same crc32c as the kernel wrote', () => {
    // The first command of FULL: 10-byte header + 0x29 bytes, crc at offset 6.
    const command = Buffer.from(FULL.subarray(17, 17 + 10 + 0x29));
    const crc = command.readUInt32LE(6);
    command.writeUInt32LE(0, 6);
    expect(btrfsCrc32c(command)).toBe(crc);
  });

  it('asks for more bytes while the head is incomplete', () => {
    for (const n of [0, 5, 13, 17, 26, 40]) expect(parseStreamHead(FULL.subarray(0, n))).toBeNull();
  });

  it.each([
    ['a flipped magic byte', corrupt(FULL, 0), /bad magic/],
    ['an unknown version', corrupt(FULL, 13 + 1), /unknown stream version/],
    ['a flipped byte in the path', corrupt(FULL, 17 + 10 + 4), /checksum/],
    ['a flipped byte in the UUID', corrupt(FULL, 17 + 10 + 9 + 4), /checksum/],
    ['a first command that is not subvol/snapshot', corrupt(FULL, 17 + 4), /first command is/],
    ['an oversized first command', (() => { const b = Buffer.from(FULL); b.writeUInt32LE(1 << 20, 17); return b; })(), /first command of/],
  ])('refuses %s with STREAM_REFUSED', (_label, stream, message) => {
    expect(() => parseStreamHead(stream)).toThrow(message);
    try {
      parseStreamHead(stream);
    } catch (err) {
      expect((err as { code: string }).code).toBe('STREAM_REFUSED');
    }
  });
});

describe('renameStreamHead', () => {
  it.each([['full', FULL], ['incremental', INCREMENTAL]])('renames the %s subvolume and keeps a valid checksum', (_label, stream) => {
    const parsed = parseStreamHead(stream);
    if (!parsed) throw new Error('no head');
    const renamed = renameStreamHead(stream, parsed, '.incoming-abc');
    const again = parseStreamHead(Buffer.concat([renamed, stream.subarray(parsed.length)]));
    expect(again?.head).toEqual({ ...parsed.head, name: '.incoming-abc' });
    // What follows the first command is untouched.
    expect(Buffer.concat([renamed, stream.subarray(parsed.length)]).subarray(again?.length)).toEqual(stream.subarray(parsed.length));
  });
});
