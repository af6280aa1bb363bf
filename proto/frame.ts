// The sealed-stream format: what travels as the body of a stream upload.
//
//   stream  = header chunk* final-chunk        (nothing may follow the final chunk)
//   header  = see HEADER LAYOUT below (62 + L bytes)
//   chunk   = length:u32be  ciphertext  tag:16
//
// HEADER LAYOUT (all integers big-endian)
//   offset  size  field
//   0       8     magic, ASCII "FERRYSTM"
//   8       1     version, u8 = PROTOCOL_VERSION
//   9       4     chunkSize, u32: plaintext bytes in every non-final chunk
//   13      16    salt, as issued by the receiver in the open-transfer response
//   29      32    the sender's ephemeral X25519 public key for this transfer
//   61      1     L, length of the transfer id (8..64)
//   62      L     transfer id, ASCII [A-Za-z0-9_-], as issued by the receiver
//
// CHUNKS (the STREAM construction of age, with AES-256-GCM)
//   - `length` counts ciphertext + 16-byte tag, so TAG_LENGTH <= length <= chunkSize + TAG_LENGTH.
//   - chunk i (from 0) is sealed under nonce = i as an 11-byte big-endian counter,
//     followed by one flag byte: 0x01 on the final chunk, 0x00 on every other.
//   - chunk 0 takes the whole header (all 62 + L bytes) as additional data, so a
//     changed header field fails the first chunk; other chunks have no additional data.
//   - every non-final chunk carries exactly chunkSize plaintext bytes; the final one
//     carries 1..chunkSize, or 0 only when it is chunk 0 (an empty payload still
//     sends exactly one, final, empty chunk). An opener must refuse any other shape.
//   - An opener decides "final" by trying: a short chunk can only be final; a full one
//     is tried as non-final, then as final. After a final chunk, any byte is an error;
//     end of input before a final chunk is truncation.
//
// KEY (one per transfer; never reused, so counter nonces never repeat under a key)
//   ikm  = X25519(ephemeralSecret, receiverBoxPublic) || X25519(senderBoxSecret, receiverBoxPublic)
//        (the receiver computes the same from its box secret and the two sender publics;
//         an all-zero X25519 output is refused)
//   key  = HKDF-SHA256(ikm, salt = header salt, info = streamKeyInfo(...), 32 bytes)
//   info = ASCII STREAM_KEY_LABEL || 0x00 || transferId || 0x00 || ephemeralPublic
//          || senderBoxPublic || receiverBoxPublic
//
// The stream upload's signed digest (see signing.ts) is sha256 of the header bytes,
// so the signature covers the header and chunk 0 ties the header to the payload.

import { PROTOCOL_VERSION } from './version.js';
import { ProtocolError } from './errors.js';

export const STREAM_MAGIC: Uint8Array = new Uint8Array(Buffer.from('FERRYSTM', 'ascii'));
export const STREAM_CIPHER = 'aes-256-gcm';
export const STREAM_KEY_LENGTH = 32;
export const STREAM_KEY_LABEL = 'ferry-stream-key-v1';
export const SALT_LENGTH = 16;
export const X25519_KEY_LENGTH = 32;
export const NONCE_LENGTH = 12;
export const COUNTER_LENGTH = 11;
export const FINAL_FLAG = 0x01;
export const NOT_FINAL_FLAG = 0x00;
export const TAG_LENGTH = 16;
export const LENGTH_PREFIX = 4;
/**
 * Chunks per stream: the counter is 11 bytes on the wire, but 2^48 chunks of even
 * the minimum size is far beyond any send, so the top 5 counter bytes stay zero.
 */
export const MAX_CHUNKS = 2 ** 48;

/** Bounds on chunkSize: the upper one bounds what an opener buffers before a tag is checked. */
export const MIN_CHUNK_SIZE = 16;
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024;
/** Measured on the reference machine: see bench/seal.ts. */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;

export const TRANSFER_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
export const HEADER_FIXED_LENGTH = 62;
export const MAX_HEADER_LENGTH = HEADER_FIXED_LENGTH + 64;

export interface StreamHeader {
  readonly version: number;
  readonly chunkSize: number;
  readonly salt: Uint8Array;
  readonly ephemeralPublicKey: Uint8Array;
  readonly transferId: string;
}

export function encodeStreamHeader(header: Omit<StreamHeader, 'version'> & { version?: number }): Uint8Array {
  const version = header.version ?? PROTOCOL_VERSION;
  checkChunkSize(header.chunkSize);
  if (header.salt.length !== SALT_LENGTH) throw new ProtocolError('INVALID_INPUT', `salt must be ${SALT_LENGTH} bytes`);
  if (header.ephemeralPublicKey.length !== X25519_KEY_LENGTH) {
    throw new ProtocolError('INVALID_INPUT', `ephemeral public key must be ${X25519_KEY_LENGTH} bytes`);
  }
  if (!TRANSFER_ID_PATTERN.test(header.transferId)) throw new ProtocolError('INVALID_INPUT', 'transfer id is malformed');
  const id = Buffer.from(header.transferId, 'ascii');
  const out = Buffer.alloc(HEADER_FIXED_LENGTH + id.length);
  out.set(STREAM_MAGIC, 0);
  out.writeUInt8(version, 8);
  out.writeUInt32BE(header.chunkSize, 9);
  out.set(header.salt, 13);
  out.set(header.ephemeralPublicKey, 29);
  out.writeUInt8(id.length, 61);
  out.set(id, 62);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * Parses a header from the start of `bytes`. Returns null while too few bytes have
 * arrived to tell, so a reader can call it again with more; throws ProtocolError
 * (BAD_STREAM or UNSUPPORTED_VERSION) as soon as the bytes cannot be a header.
 */
export function decodeStreamHeader(bytes: Uint8Array): { header: StreamHeader; length: number } | null {
  const have = Math.min(bytes.length, STREAM_MAGIC.length);
  for (let i = 0; i < have; i++) {
    if (bytes[i] !== STREAM_MAGIC[i]) throw new ProtocolError('BAD_STREAM', 'not a Ferry sealed stream (bad magic)');
  }
  if (bytes.length < HEADER_FIXED_LENGTH) {
    if (bytes.length > 8 && bytes[8] !== PROTOCOL_VERSION) {
      throw new ProtocolError('UNSUPPORTED_VERSION', `stream version ${bytes[8]} is not ${PROTOCOL_VERSION}`);
    }
    return null;
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.readUInt8(8);
  if (version !== PROTOCOL_VERSION) throw new ProtocolError('UNSUPPORTED_VERSION', `stream version ${version} is not ${PROTOCOL_VERSION}`);
  const chunkSize = view.readUInt32BE(9);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new ProtocolError('BAD_STREAM', `stream chunk size ${chunkSize} is out of range`);
  }
  const idLength = view.readUInt8(61);
  if (idLength < 8 || idLength > 64) throw new ProtocolError('BAD_STREAM', 'stream transfer id length is out of range');
  const length = HEADER_FIXED_LENGTH + idLength;
  if (bytes.length < length) return null;
  const transferId = view.toString('latin1', 62, length);
  if (!TRANSFER_ID_PATTERN.test(transferId)) throw new ProtocolError('BAD_STREAM', 'stream transfer id is malformed');
  return {
    header: {
      version,
      chunkSize,
      salt: bytes.slice(13, 29),
      ephemeralPublicKey: bytes.slice(29, 61),
      transferId,
    },
    length,
  };
}

/** The HKDF info of the stream key (see KEY above). */
export function streamKeyInfo(
  transferId: string,
  ephemeralPublicKey: Uint8Array,
  senderBoxPublicKey: Uint8Array,
  receiverBoxPublicKey: Uint8Array,
): Uint8Array {
  return new Uint8Array(
    Buffer.concat([
      Buffer.from(STREAM_KEY_LABEL, 'ascii'),
      Buffer.from([0]),
      Buffer.from(transferId, 'ascii'),
      Buffer.from([0]),
      ephemeralPublicKey,
      senderBoxPublicKey,
      receiverBoxPublicKey,
    ]),
  );
}

/** The 12-byte AEAD nonce of chunk `index`. */
export function chunkNonce(index: number, final: boolean): Uint8Array {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_CHUNKS) {
    throw new ProtocolError('INVALID_INPUT', 'chunk index out of range');
  }
  const nonce = Buffer.alloc(NONCE_LENGTH);
  nonce.writeUIntBE(index, COUNTER_LENGTH - 6, 6);
  nonce[COUNTER_LENGTH] = final ? FINAL_FLAG : NOT_FINAL_FLAG;
  return new Uint8Array(nonce.buffer, nonce.byteOffset, nonce.length);
}

function checkChunkSize(chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new ProtocolError('INVALID_INPUT', `chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`);
  }
}
