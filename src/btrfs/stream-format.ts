// The btrfs send stream format (btrfs-progs send.h and send-stream.c, kernel
// fs/btrfs/send.h), versions 1 to 3, as far as the receiver needs it to read
// and check a stream: "btrfs-stream\0", le32 version; then commands, each a
// 10-byte header (le32 payload length, le16 command, le32 crc32c over the
// header with the crc zeroed and the payload) and a payload of attributes
// (TLVs: le16 type, le16 length, value). From version 2 on, a DATA attribute
// has no length: its value runs to the end of its command.

import CRC32C from 'crc-32/crc32c.js';

export const MAGIC = Buffer.from('btrfs-stream\0', 'latin1');
export const STREAM_HEADER = MAGIC.length + 4;
export const CMD_HEADER = 10;
export const MAX_VERSION = 3;

/** Commands, by the number the stream carries. */
export const Cmd = {
  SUBVOL: 1,
  SNAPSHOT: 2,
  MKFILE: 3,
  MKDIR: 4,
  MKNOD: 5,
  MKFIFO: 6,
  MKSOCK: 7,
  SYMLINK: 8,
  RENAME: 9,
  LINK: 10,
  UNLINK: 11,
  RMDIR: 12,
  SET_XATTR: 13,
  REMOVE_XATTR: 14,
  WRITE: 15,
  CLONE: 16,
  TRUNCATE: 17,
  CHMOD: 18,
  CHOWN: 19,
  UTIMES: 20,
  END: 21,
  UPDATE_EXTENT: 22,
  // version 2
  FALLOCATE: 23,
  FILEATTR: 24,
  ENCODED_WRITE: 25,
  // version 3
  ENABLE_VERITY: 26,
} as const;

/** Attributes, by their TLV type. */
export const Attr = {
  UUID: 1,
  CTRANSID: 2,
  INO: 3,
  SIZE: 4,
  MODE: 5,
  UID: 6,
  GID: 7,
  RDEV: 8,
  CTIME: 9,
  MTIME: 10,
  ATIME: 11,
  OTIME: 12,
  XATTR_NAME: 13,
  XATTR_DATA: 14,
  PATH: 15,
  PATH_TO: 16,
  PATH_LINK: 17,
  FILE_OFFSET: 18,
  DATA: 19,
  CLONE_UUID: 20,
  CLONE_CTRANSID: 21,
  CLONE_PATH: 22,
  CLONE_OFFSET: 23,
  CLONE_LEN: 24,
  // version 2
  FALLOCATE_MODE: 25,
  FILEATTR: 26,
  UNENCODED_FILE_LEN: 27,
  UNENCODED_LEN: 28,
  UNENCODED_OFFSET: 29,
  COMPRESSION: 30,
  ENCRYPTION: 31,
  // version 3
  VERITY_ALGORITHM: 32,
  VERITY_BLOCK_SIZE: 33,
  VERITY_SALT_DATA: 34,
  VERITY_SIG_DATA: 35,
} as const;

/** The highest command number each stream version may carry (index = version). */
const MAX_COMMAND = [0, Cmd.UPDATE_EXTENT, Cmd.ENCODED_WRITE, Cmd.ENABLE_VERITY] as const;
/** The highest attribute type each stream version may carry (index = version). */
const MAX_ATTR = [0, Attr.CLONE_LEN, Attr.ENCRYPTION, Attr.VERITY_SIG_DATA] as const;

export function maxCommand(version: number): number {
  return MAX_COMMAND[version] ?? 0;
}

export function maxAttr(version: number): number {
  return MAX_ATTR[version] ?? 0;
}

/** btrfs's crc32c: the Castagnoli polynomial, seed 0, no final inversion. */
export function btrfsCrc32c(data: Uint8Array): number {
  return ~CRC32C.buf(data, ~0) >>> 0;
}

/** A UUID's 16 bytes, as a stream carries them (the inverse of formatUuid). */
export function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

/** A little-endian u64 attribute value. */
export function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

export function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * One send-stream command: its header (payload length, command, crc32c over
 * the whole command) and its TLVs. From `version` 2 on, DATA is written
 * without a length, as the command's last attribute.
 */
export function encodeCommand(cmd: number, tlvs: Iterable<readonly [number, Buffer]>, version = 1): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of tlvs) {
    const bare = version >= 2 && type === Attr.DATA;
    const tlv = Buffer.alloc((bare ? 2 : 4) + value.length);
    tlv.writeUInt16LE(type, 0);
    if (!bare) tlv.writeUInt16LE(value.length, 2);
    value.copy(tlv, bare ? 2 : 4);
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
