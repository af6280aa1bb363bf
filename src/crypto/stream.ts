// Sealing and opening a transfer stream: the STREAM construction of age over
// AES-256-GCM (byte layout in proto/frame.ts). AES-256-GCM because it measured
// ~1.7 GB/s here against ~1.2 GB/s for ChaCha20-Poly1305 (AES-NI).
//
// Throughput is decided by how often a chunk crosses a stream, a cipher call or
// a socket write, and by fresh buffers (each one external memory that drives
// V8's full GCs), more than by the cipher: so a chunk is gathered in one reused
// buffer (or sealed where it lies when one input holds it whole), goes through
// one cipher call, and leaves as one plaintext buffer (opener) or as length,
// ciphertext and tag (sealer: no join, the cipher cannot write into a caller's
// buffer). 256 KiB chunks: per byte, AES-GCM over 1 MiB measured ~20% slower
// here (cache), and the pipeline pays little per chunk now (bench/seal.ts,
// bench/run.ts).
//
// Memory stays at about two chunks per direction: each Transform holds at most
// one partial chunk, and Node does not call _transform again while the readable
// side is above its high-water mark, so a slow consumer stalls the producer.
// (One write is processed whole, so the bound also includes the largest single
// write.) A whole chunk inside one input buffer is sealed as a view of it, not
// a copy, so writers must not reuse a buffer after writing it,
// which is the general rule for Node streams anyway.
//
// Over 300 lines because sealing and opening mirror one byte layout, kept side
// by side so that a change to one is read against the other.

import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { FerryError } from '../domain/errors.js';
import { checkLength } from './identity.js';

export const STREAM_CIPHER = 'aes-256-gcm';
export const TAG_LENGTH = 16;
export const LENGTH_PREFIX = 4;
export const NONCE_LENGTH = 12;
export const MIN_CHUNK_SIZE = 16;
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 256 * 1024;
/** The nonce counter is 11 bytes on the wire; 2^48 chunks is beyond any send. */
export const MAX_CHUNKS = 2 ** 48;

export interface StreamOptions {
  /** The encoded stream header (proto/frame.ts): additional data of chunk 0. */
  readonly header: Uint8Array;
  /** Plaintext bytes per non-final chunk; must equal the header's. */
  readonly chunkSize?: number;
  /**
   * Sealer: write the header before the first chunk. Opener: expect the header
   * bytes first and check them. Default true, so a sealer's output is a whole
   * stream and an opener takes one; a receiver that parsed the header off the
   * wire already (to find the ephemeral key) passes false.
   */
  readonly headerIncluded?: boolean;
}

function streamKey(key: Uint8Array): KeyObject {
  checkLength(key, 32, 'stream key');
  return createSecretKey(key);
}

function checkChunkSize(size: number): number {
  if (!Number.isInteger(size) || size < MIN_CHUNK_SIZE || size > MAX_CHUNK_SIZE) {
    throw new FerryError('INVALID_INPUT', `chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`);
  }
  return size;
}

/** Writes the nonce of chunk `index` into `nonce` (12 bytes: 11-byte counter, final flag). */
function setNonce(nonce: Buffer, index: number, final: boolean): Buffer {
  nonce.fill(0, 0, 5);
  nonce.writeUIntBE(index, 5, 6);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

function badStream(message: string, cause?: unknown): FerryError {
  return new FerryError('BAD_STREAM', `sealed stream: ${message}`, cause === undefined ? {} : { cause });
}

export class Sealer extends Transform {
  /** Plaintext bytes taken in so far. */
  bytesIn = 0;
  /** Sealed bytes put out so far, header included. */
  bytesOut = 0;
  private readonly key: KeyObject;
  private readonly chunkSize: number;
  private readonly header: Uint8Array;
  /** The chunk being gathered: `fill` bytes of `staging`, or `whole` when one input was exactly a chunk. */
  private staging: Buffer | null = null;
  private whole: Buffer | null = null;
  private fill = 0;
  private index = 0;
  private headerSent: boolean;
  private readonly nonce = Buffer.alloc(NONCE_LENGTH);

  constructor(key: Uint8Array, options: StreamOptions) {
    const chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    // Room for one sealed chunk on the readable side, so sealing the next one overlaps its sending.
    super({ readableHighWaterMark: chunkSize + LENGTH_PREFIX + TAG_LENGTH });
    this.key = streamKey(key);
    this.chunkSize = chunkSize;
    this.header = options.header;
    this.headerSent = options.headerIncluded === false;
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.sendHeader();
      this.bytesIn += data.length;
      let offset = 0;
      while (offset < data.length) {
        // A full chunk is held until a later byte proves it is not the last: only
        // then is it known which flag its nonce takes.
        if (this.fill === this.chunkSize) this.seal(false);
        if (this.fill === 0 && data.length - offset >= this.chunkSize) {
          // A whole chunk lies in this input: seal it where it lies.
          this.whole = offset === 0 && data.length === this.chunkSize ? data : data.subarray(offset, offset + this.chunkSize);
          this.fill = this.chunkSize;
          offset += this.chunkSize;
          continue;
        }
        const n = Math.min(this.chunkSize - this.fill, data.length - offset);
        this.staging ??= Buffer.allocUnsafeSlow(this.chunkSize);
        data.copy(this.staging, this.fill, offset, offset + n);
        this.fill += n;
        offset += n;
      }
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.sendHeader();
      // Always a final chunk, even an empty one, so that an opener can tell a whole
      // empty payload from a stream cut off before its first chunk.
      this.seal(true);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.bytesOut += this.header.length;
    this.push(Buffer.from(this.header));
  }

  private seal(final: boolean): void {
    if (this.index >= MAX_CHUNKS) throw new FerryError('INVALID_INPUT', 'sealed stream: too many chunks');
    const cipher = createCipheriv(STREAM_CIPHER, this.key, setNonce(this.nonce, this.index, final), { authTagLength: TAG_LENGTH });
    if (this.index === 0) cipher.setAAD(this.header);
    const prefix = Buffer.allocUnsafe(LENGTH_PREFIX);
    prefix.writeUInt32BE(this.fill + TAG_LENGTH, 0);
    this.push(prefix);
    if (this.fill > 0) {
      // One call over the whole chunk; the staging buffer is free again once it returns.
      const text = this.whole ?? (this.staging as Buffer).subarray(0, this.fill);
      const out = cipher.update(text);
      if (out.length > 0) this.push(out);
    }
    cipher.final();
    this.push(cipher.getAuthTag());
    this.bytesOut += LENGTH_PREFIX + this.fill + TAG_LENGTH;
    this.index++;
    this.whole = null;
    this.fill = 0;
  }
}

export class Opener extends Transform {
  /** Plaintext bytes put out so far (only ever from chunks that verified). */
  bytesOut = 0;
  /** Sealed bytes taken in so far. */
  bytesIn = 0;
  private readonly key: KeyObject;
  private readonly chunkSize: number;
  private readonly header: Uint8Array;
  private headerSeen: number;
  private readonly lengthBytes = Buffer.alloc(LENGTH_PREFIX);
  private lengthFill = 0;
  /** Sealed length of the chunk being gathered, or -1 while its length prefix is incomplete. */
  private chunkLength = -1;
  /** The sealed chunk being gathered (ciphertext and tag), reused from chunk to chunk. */
  private staging: Buffer | null = null;
  private bodyFill = 0;
  private index = 0;
  private finished = false;
  private readonly nonce = Buffer.alloc(NONCE_LENGTH);

  constructor(key: Uint8Array, options: StreamOptions) {
    const chunkSize = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    // Room for one opened chunk on the readable side, so opening the next one overlaps writing it out.
    super({ readableHighWaterMark: chunkSize });
    this.key = streamKey(key);
    this.chunkSize = chunkSize;
    this.header = options.header;
    this.headerSeen = options.headerIncluded === false ? this.header.length : 0;
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(data);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.finished) {
      callback();
      return;
    }
    let message: string;
    if (this.bytesIn === 0) message = 'the stream is empty';
    else if (this.headerSeen < this.header.length) message = 'the stream ends inside its header';
    else if (this.lengthFill > 0 || this.chunkLength >= 0) message = `truncated inside chunk ${this.index}`;
    else if (this.index === 0) message = 'the stream ends after its header, before any chunk';
    else message = `truncated: the stream ended after chunk ${this.index - 1} without a final chunk`;
    callback(badStream(message));
  }

  private consume(data: Buffer): void {
    this.bytesIn += data.length;
    let offset = 0;
    if (this.headerSeen < this.header.length) {
      const n = Math.min(this.header.length - this.headerSeen, data.length);
      if (!data.subarray(0, n).equals(this.header.subarray(this.headerSeen, this.headerSeen + n))) {
        throw badStream('the stream header differs from the announced one');
      }
      this.headerSeen += n;
      offset = n;
    }
    while (offset < data.length) {
      if (this.finished) throw badStream(`${data.length - offset} bytes follow the final chunk`);
      if (this.chunkLength < 0) {
        const n = Math.min(LENGTH_PREFIX - this.lengthFill, data.length - offset);
        data.copy(this.lengthBytes, this.lengthFill, offset, offset + n);
        this.lengthFill += n;
        offset += n;
        if (this.lengthFill < LENGTH_PREFIX) break;
        this.chunkLength = this.checkLength(this.lengthBytes.readUInt32BE(0));
        this.lengthFill = 0;
        this.bodyFill = 0;
      }
      const n = Math.min(this.chunkLength - this.bodyFill, data.length - offset);
      if (this.bodyFill === 0 && n === this.chunkLength) {
        // The whole chunk is in this input: open it where it lies.
        this.open(data.subarray(offset, offset + n));
      } else {
        this.staging ??= Buffer.allocUnsafeSlow(this.chunkSize + TAG_LENGTH);
        data.copy(this.staging, this.bodyFill, offset, offset + n);
        this.bodyFill += n;
        if (this.bodyFill === this.chunkLength) this.open(this.staging.subarray(0, this.chunkLength));
      }
      offset += n;
      if (this.bodyFill === this.chunkLength || n === this.chunkLength) {
        this.chunkLength = -1;
        this.bodyFill = 0;
      }
    }
  }

  private checkLength(length: number): number {
    if (length < TAG_LENGTH) throw badStream(`chunk ${this.index} is shorter than its tag`);
    if (length > this.chunkSize + TAG_LENGTH) throw badStream(`chunk ${this.index} is longer than the chunk size`);
    if (length === TAG_LENGTH && this.index > 0) throw badStream(`chunk ${this.index} is empty but not the first`);
    if (this.index >= MAX_CHUNKS) throw badStream('too many chunks');
    return length;
  }

  /** Opens one sealed chunk (ciphertext then tag); `sealed` may be the reused staging buffer. */
  private open(sealed: Buffer): void {
    const textLength = sealed.length - TAG_LENGTH;
    const text = sealed.subarray(0, textLength);
    const tag = sealed.subarray(textLength);
    const full = textLength === this.chunkSize;
    // Only a full chunk can be non-final; it is tried as non-final first since all
    // but the last are. A short chunk can only be the final one.
    let plaintext = full ? this.tryOpen(text, tag, false) : null;
    let final = false;
    if (plaintext === null) {
      plaintext = this.tryOpen(text, tag, true);
      final = true;
    }
    if (plaintext === null) {
      throw badStream(
        `chunk ${this.index} failed authentication: altered, out of order, from another transfer, or the header was changed`,
      );
    }
    this.index++;
    this.finished = final;
    // Pushed only now that the tag verified: no unauthenticated byte ever leaves.
    this.bytesOut += plaintext.length;
    if (plaintext.length > 0) this.push(plaintext);
  }

  private tryOpen(text: Buffer, tag: Buffer, final: boolean): Buffer | null {
    const decipher = createDecipheriv(STREAM_CIPHER, this.key, setNonce(this.nonce, this.index, final), {
      authTagLength: TAG_LENGTH,
    });
    if (this.index === 0) decipher.setAAD(this.header);
    decipher.setAuthTag(tag);
    // A new buffer, never a view of the input: the staging buffer is reused for the next chunk.
    const plaintext = decipher.update(text);
    try {
      decipher.final();
    } catch {
      return null;
    }
    return plaintext;
  }
}

export function createSealer(key: Uint8Array, options: StreamOptions): Sealer {
  return new Sealer(key, options);
}

export function createOpener(key: Uint8Array, options: StreamOptions): Opener {
  return new Opener(key, options);
}
