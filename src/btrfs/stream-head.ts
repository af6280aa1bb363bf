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
// Everything after the first command passes through untouched.
//
// Format (btrfs-progs send.h, stream version 1 and 2): "btrfs-stream\0",
// le32 version; then commands: le32 payload length, le16 command, le32
// crc32c (over header with crc zeroed, and payload), payload of TLVs
// (le16 type, le16 length, value).

import { Transform, type TransformCallback } from 'node:stream';
import CRC32C from 'crc-32/crc32c.js';
import { FerryError } from '../domain/errors.js';

const MAGIC = Buffer.from('btrfs-stream\0', 'latin1');
const STREAM_HEADER = MAGIC.length + 4;
const CMD_HEADER = 10;
/** The first command holds a path and two UUIDs: anything near this size is not a send stream. */
const MAX_FIRST_COMMAND = 8192;

export const CMD_SUBVOL = 1;
export const CMD_SNAPSHOT = 2;
export const ATTR_UUID = 1;
export const ATTR_PATH = 15;
export const ATTR_CLONE_UUID = 20;

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

/** btrfs's crc32c: the Castagnoli polynomial, seed 0, no final inversion. */
export function btrfsCrc32c(data: Uint8Array): number {
  return ~CRC32C.buf(data, ~0) >>> 0;
}

function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function bad(message: string): FerryError {
  return new FerryError('BAD_STREAM', `not a valid btrfs send stream: ${message}`);
}

/** Parses the stream header and first command from `buf`; null if more bytes are needed. */
export function parseStreamHead(buf: Buffer): { head: StreamHead; length: number; tlvs: Map<number, Buffer> } | null {
  if (buf.length < STREAM_HEADER + CMD_HEADER) {
    if (!MAGIC.subarray(0, Math.min(buf.length, MAGIC.length)).equals(buf.subarray(0, Math.min(buf.length, MAGIC.length)))) throw bad('bad magic');
    return null;
  }
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw bad('bad magic');
  const version = buf.readUInt32LE(MAGIC.length);
  if (version < 1 || version > 3) throw bad(`unknown stream version ${version}`);
  const len = buf.readUInt32LE(STREAM_HEADER);
  const cmd = buf.readUInt16LE(STREAM_HEADER + 4);
  if (len > MAX_FIRST_COMMAND) throw bad(`first command of ${len} bytes`);
  if (cmd !== CMD_SUBVOL && cmd !== CMD_SNAPSHOT) throw bad(`first command is ${cmd}, not subvol or snapshot`);
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
    tlvs.set(type, command.subarray(off + 4, off + 4 + size));
    off += 4 + size;
  }
  const path = tlvs.get(ATTR_PATH);
  const uuid = tlvs.get(ATTR_UUID);
  const clone = tlvs.get(ATTR_CLONE_UUID);
  if (!path || !uuid || uuid.length !== 16) throw bad('first command lacks a path or UUID');
  if (cmd === CMD_SNAPSHOT && (!clone || clone.length !== 16)) throw bad('snapshot command lacks the parent UUID');
  return {
    head: {
      version,
      kind: cmd === CMD_SNAPSHOT ? 'incremental' : 'full',
      name: path.toString('utf8'),
      uuid: formatUuid(uuid),
      parentUuid: cmd === CMD_SNAPSHOT && clone ? formatUuid(clone) : null,
    },
    length: total,
    tlvs,
  };
}

/** One send-stream command: its header (payload length, command, crc32c over the whole command) and its TLVs. */
export function encodeCommand(cmd: number, tlvs: Iterable<readonly [number, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of tlvs) {
    const tlv = Buffer.alloc(4 + value.length);
    tlv.writeUInt16LE(type, 0);
    tlv.writeUInt16LE(value.length, 2);
    value.copy(tlv, 4);
    parts.push(tlv);
  }
  const payload = Buffer.concat(parts);
  const command = Buffer.alloc(CMD_HEADER + payload.length);
  command.writeUInt32LE(payload.length, 0);
  command.writeUInt16LE(cmd, 4);
  payload.copy(command, CMD_HEADER);
  command.writeUInt32LE(btrfsCrc32c(command), 6);
  return command;
}

/** The stream header and first command again, with the subvolume path replaced. */
export function renameStreamHead(buf: Buffer, parsed: { length: number; tlvs: Map<number, Buffer> }, newName: string): Buffer {
  const cmd = buf.readUInt16LE(STREAM_HEADER + 4);
  const tlvs = [...parsed.tlvs].map(([type, value]) => [type, type === ATTR_PATH ? Buffer.from(newName, 'utf8') : value] as const);
  return Buffer.concat([buf.subarray(0, STREAM_HEADER), encodeCommand(cmd, tlvs)]);
}

/**
 * A pass-through that reads the stream's head, hands it to `check` (which
 * throws to refuse the stream), renames the subvolume to `stagingName`, and
 * then forwards every later byte unchanged.
 */
export class StreamHeadGuard extends Transform {
  #pending: Buffer[] = [];
  #pendingLength = 0;
  #done = false;
  head: StreamHead | null = null;

  constructor(
    private readonly stagingName: string,
    private readonly check: (head: StreamHead) => void,
  ) {
    // Node's default buffering: each chunk here is a freshly opened 256 KiB one,
    // and any more held between the opener and btrfs receive is peak RSS.
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.#done) {
      callback(null, chunk);
      return;
    }
    this.#pending.push(chunk);
    this.#pendingLength += chunk.length;
    const buf = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending, this.#pendingLength);
    try {
      const parsed = parseStreamHead(buf);
      if (!parsed) {
        this.#pending = [buf];
        callback();
        return;
      }
      this.check(parsed.head);
      this.head = parsed.head;
      this.#done = true;
      this.#pending = [];
      this.push(renameStreamHead(buf, parsed, this.stagingName));
      callback(null, buf.length > parsed.length ? buf.subarray(parsed.length) : undefined);
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.#done ? null : bad('the stream ended before its first command'));
  }
}
