// How many bytes a `btrfs send` will write, before it writes them: the same
// send run with --no-data walks the same metadata and emits the same
// commands, except that each write of file data becomes one UPDATE_EXTENT
// naming the file, the offset and the length it would have written. So the
// real stream is the metadata-only stream, minus those UPDATE_EXTENT
// commands, plus for each of them its data cut into WRITE commands of at most
// 48 KiB (btrfs-progs' and the kernel's BTRFS_SEND_READ_SIZE for stream
// version 1, which Ferry sends), each with its command header and its PATH,
// FILE_OFFSET and DATA attributes.
//
// It costs a metadata walk (no file data is read); measured against the real
// stream in test/btrfs/estimate.test.ts. Clones are sent as CLONE commands in
// both modes, so they count as what they are: a few bytes.

import { FerryError } from '../domain/errors.js';
import { startBtrfs } from './command.js';
import type { BtrfsContext } from './context.js';
import { Attr, CMD_HEADER, Cmd, MAGIC, STREAM_HEADER } from './stream-format.js';

/** The largest WRITE a version 1 stream carries. */
export const SEND_READ_SIZE = 48 * 1024;
const TLV_HEADER = 4;

/** Reads the commands of a metadata-only stream and adds up what the real one would be. */
export class SendSizeCounter {
  /** Bytes of the stream as it would be sent with data. */
  total = 0;
  #pending: Buffer = Buffer.alloc(0);
  #headerSeen = false;

  feed(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let at = 0;
    if (!this.#headerSeen) {
      if (this.#pending.length < STREAM_HEADER) return;
      if (!this.#pending.subarray(0, MAGIC.length).equals(MAGIC)) throw new FerryError('SEND_FAILED', 'btrfs send --no-data wrote something that is not a send stream');
      this.#headerSeen = true;
      this.total += STREAM_HEADER;
      at = STREAM_HEADER;
    }
    while (this.#pending.length - at >= CMD_HEADER) {
      const length = this.#pending.readUInt32LE(at);
      const cmd = this.#pending.readUInt16LE(at + 4);
      if (this.#pending.length - at < CMD_HEADER + length) break;
      const payload = this.#pending.subarray(at + CMD_HEADER, at + CMD_HEADER + length);
      this.total += cmd === Cmd.UPDATE_EXTENT ? writesFor(payload) : CMD_HEADER + length;
      at += CMD_HEADER + length;
    }
    this.#pending = this.#pending.subarray(at);
  }
}

/** The WRITE commands that carry what one UPDATE_EXTENT stands for. */
function writesFor(payload: Buffer): number {
  let pathBytes = 0;
  let size = 0;
  for (let at = 0; at + TLV_HEADER <= payload.length; ) {
    const type = payload.readUInt16LE(at);
    const len = payload.readUInt16LE(at + 2);
    if (type === Attr.PATH) pathBytes = len;
    else if (type === Attr.SIZE && len === 8) size = Number(payload.readBigUInt64LE(at + TLV_HEADER));
    at += TLV_HEADER + len;
  }
  const writes = Math.ceil(size / SEND_READ_SIZE);
  const perWrite = CMD_HEADER + TLV_HEADER + pathBytes + TLV_HEADER + 8 + TLV_HEADER;
  return size + writes * perWrite;
}

/** Bytes `btrfs send [-p parent] path` would write, from a metadata-only run of it. */
export async function estimateSend(ctx: BtrfsContext, options: { path: string; parent?: string | undefined; signal?: AbortSignal | undefined }): Promise<number> {
  const args = ['send', '-q', '--no-data', ...(options.parent === undefined ? [] : ['-p', options.parent]), '--', options.path];
  const child = startBtrfs(args, { ...ctx, failure: 'SEND_FAILED', refine: 'space', signal: options.signal, stdout: 'stream' });
  const counter = new SendSizeCounter();
  child.stdout.on('data', (chunk: Buffer) => {
    try {
      counter.feed(chunk);
    } catch (err) {
      child.fail(err as FerryError);
    }
  });
  await child.result;
  return counter.total;
}
