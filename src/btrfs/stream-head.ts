// The first command of a `btrfs send` stream names the subvolume that
// `btrfs receive` creates, and carries its UUID (and, for an incremental
// stream, the parent's). The receiver reads that command before anything
// reaches `btrfs receive`:
//  - to check the stream is the one announced (UUID, parent UUID), so a
//    wrong stream is refused before a byte is written;
//  - to rename the subvolume to a staging name chosen by the receiver, not
//    by the sender, so a partial receive never carries a replica's name and
//    commit is a rename within one directory (btrfs refuses to move a
//    read-only subvolume to another directory: EROFS on its '..').
// What follows the first command is checked by stream-guard.ts.

import { FerryError } from '../domain/errors.js';
import { Attr, CMD_HEADER, Cmd, MAGIC, MAX_VERSION, STREAM_HEADER, btrfsCrc32c, encodeCommand, formatUuid } from './stream-format.js';

/** The first command holds a path and two UUIDs: anything near this size is not a send stream. */
const MAX_FIRST_COMMAND = 8192;

export interface StreamHead {
  readonly version: number;
  readonly kind: 'full' | 'incremental';
  /** The subvolume name the sender gave (its snapshot's name). */
  readonly name: string;
  /** The sent snapshot's UUID: the received UUID the replica will carry. */
  readonly uuid: string;
  /** For an incremental stream, the UUID `btrfs receive` looks up as the parent's received UUID. */
  readonly parentUuid: string | null;
}

export function refused(message: string): FerryError {
  return new FerryError('STREAM_REFUSED', `the send stream was refused: ${message}`);
}

function bad(message: string): FerryError {
  return refused(`not a valid btrfs send stream: ${message}`);
}

/** Parses the stream header and first command from `buf`; null if more bytes are needed. */
export function parseStreamHead(buf: Buffer): { head: StreamHead; length: number; tlvs: Map<number, Buffer> } | null {
  if (buf.length < STREAM_HEADER + CMD_HEADER) {
    if (!MAGIC.subarray(0, Math.min(buf.length, MAGIC.length)).equals(buf.subarray(0, Math.min(buf.length, MAGIC.length)))) throw bad('bad magic');
    return null;
  }
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw bad('bad magic');
  const version = buf.readUInt32LE(MAGIC.length);
  if (version < 1 || version > MAX_VERSION) throw bad(`unknown stream version ${version}`);
  const len = buf.readUInt32LE(STREAM_HEADER);
  const cmd = buf.readUInt16LE(STREAM_HEADER + 4);
  if (len > MAX_FIRST_COMMAND) throw bad(`first command of ${len} bytes`);
  if (cmd !== Cmd.SUBVOL && cmd !== Cmd.SNAPSHOT) throw bad(`first command is ${cmd}, not subvol or snapshot`);
  const total = STREAM_HEADER + CMD_HEADER + len;
  if (buf.length < total) return null;
  const command = Buffer.from(buf.subarray(STREAM_HEADER, total));
  const crc = command.readUInt32LE(6);
  command.writeUInt32LE(0, 6);
  if (btrfsCrc32c(command) !== crc) throw bad('checksum of the first command does not match');

  const tlvs = new Map<number, Buffer>();
  for (let off = CMD_HEADER; off < command.length; ) {
    if (off + 4 > command.length) throw bad('truncated attribute');
    const type = command.readUInt16LE(off);
    const size = command.readUInt16LE(off + 2);
    if (off + 4 + size > command.length) throw bad('attribute overruns its command');
    // btrfs-progs keeps the last of two equal attributes; nothing legitimate sends two.
    if (tlvs.has(type)) throw bad(`attribute ${type} appears twice in the first command`);
    tlvs.set(type, command.subarray(off + 4, off + 4 + size));
    off += 4 + size;
  }
  const path = tlvs.get(Attr.PATH);
  const uuid = tlvs.get(Attr.UUID);
  const clone = tlvs.get(Attr.CLONE_UUID);
  if (!path || !uuid || uuid.length !== 16) throw bad('first command lacks a path or UUID');
  if (cmd === Cmd.SNAPSHOT && (!clone || clone.length !== 16)) throw bad('snapshot command lacks the parent UUID');
  return {
    head: {
      version,
      kind: cmd === Cmd.SNAPSHOT ? 'incremental' : 'full',
      name: path.toString('utf8'),
      uuid: formatUuid(uuid),
      parentUuid: cmd === Cmd.SNAPSHOT && clone ? formatUuid(clone) : null,
    },
    length: total,
    tlvs,
  };
}

/** The stream header and first command again, with the subvolume path replaced. */
export function renameStreamHead(buf: Buffer, parsed: { length: number; tlvs: Map<number, Buffer> }, newName: string): Buffer {
  const cmd = buf.readUInt16LE(STREAM_HEADER + 4);
  const tlvs = [...parsed.tlvs].map(([type, value]) => [type, type === Attr.PATH ? Buffer.from(newName, 'utf8') : value] as const);
  return Buffer.concat([buf.subarray(0, STREAM_HEADER), encodeCommand(cmd, tlvs)]);
}
