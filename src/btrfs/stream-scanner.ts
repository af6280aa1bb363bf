// Reads the commands of a send stream as its bytes pass, chunk by chunk,
// without holding the stream: command headers and the attributes that name
// paths, UUIDs and offsets are collected; file data (DATA, XATTR_DATA and the
// verity blobs) is counted and skipped, never copied. It frames exactly as
// `btrfs receive` does (btrfs-progs send-stream.c read_cmd): a command is its
// payload length, an attribute its type and length, except that from stream
// version 2 on a DATA attribute runs to the end of its command. So the
// commands it reports are the commands `btrfs receive` will execute.
//
// Anything `btrfs receive` would frame differently, or that no btrfs send
// writes, is refused here: an attribute overrunning its command, an unknown
// command or attribute for the stream's version, the same attribute twice in
// one command (btrfs-progs keeps the last one, so a checker reading the first
// could be shown a harmless path while receive uses another).

import { refused } from './stream-head.js';
import { Attr, CMD_HEADER, maxAttr, maxCommand } from './stream-format.js';

/** The attributes of one command the checks read: paths and the clone source; undefined when absent. */
export interface CommandAttrs {
  get(type: number): Buffer | undefined;
}

/**
 * Values collected for the checks (stream-rules.ts); every other attribute
 * (file data, offsets, times, modes) is counted and skipped, never copied: the
 * scanner runs over every byte a peer sends.
 */
const COLLECTED: ReadonlySet<number> = new Set([Attr.PATH, Attr.PATH_TO, Attr.PATH_LINK, Attr.CLONE_UUID, Attr.CLONE_PATH]);
const ATTR_SLOTS = 64;

/**
 * No btrfs send writes a command anywhere near this (v1: 64 KiB; v2: 16 KiB
 * plus a 128 KiB compressed extent); the bound only keeps a hostile length
 * from reading as "the rest of the stream is data".
 */
export const MAX_COMMAND_BYTES = 16 << 20;

const enum Phase {
  CmdHeader,
  TlvType,
  TlvLength,
  Collect,
  Skip,
}

export class CommandScanner {
  readonly #version: number;
  readonly #onCommand: (cmd: number, attrs: CommandAttrs) => void;
  #phase = Phase.CmdHeader;
  /** Fixed-size reads (a command header, a TLV type or length) that may straddle chunks. */
  readonly #scratch = Buffer.alloc(CMD_HEADER);
  #scratchFill = 0;
  #cmd = 0;
  /** Payload bytes of the current command not yet consumed. */
  #cmdLeft = 0;
  #tlvType = 0;
  /** Bytes of the current attribute value still to collect or skip. */
  #valueLeft = 0;
  #value: Buffer | null = null;
  #valueFill = 0;
  /** Per attribute type, the command (by number) it last appeared in: a duplicate shows as the current one. */
  readonly #seenIn = new Float64Array(ATTR_SLOTS).fill(-1);
  readonly #values: (Buffer | undefined)[] = new Array<Buffer | undefined>(ATTR_SLOTS).fill(undefined);
  readonly #attrs: CommandAttrs = {
    get: (type) => (type < ATTR_SLOTS && this.#seenIn[type] === this.commands ? this.#values[type] : undefined),
  };
  /** Commands seen (those before the scanner started included), for messages. */
  commands: number;

  constructor(version: number, onCommand: (cmd: number, attrs: CommandAttrs) => void, seen = 0) {
    this.#version = version;
    this.#onCommand = onCommand;
    this.commands = seen;
  }

  /** True between commands: a stream may end only here. */
  get atBoundary(): boolean {
    return this.#phase === Phase.CmdHeader && this.#scratchFill === 0;
  }

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      switch (this.#phase) {
        case Phase.CmdHeader: {
          // Read in place when the header lies whole in this chunk; else gather it.
          if (this.#scratchFill === 0 && chunk.length - at >= CMD_HEADER) {
            const length = chunk.readUInt32LE(at);
            const cmd = chunk.readUInt16LE(at + 4);
            at += CMD_HEADER;
            this.#startCommand(length, cmd);
            break;
          }
          at = this.#fill(chunk, at, CMD_HEADER);
          if (this.#scratchFill < CMD_HEADER) break;
          this.#scratchFill = 0;
          this.#startCommand(this.#scratch.readUInt32LE(0), this.#scratch.readUInt16LE(4));
          break;
        }
        case Phase.TlvType:
        case Phase.TlvLength: {
          let value: number;
          if (this.#scratchFill === 0 && chunk.length - at >= 2) {
            value = chunk.readUInt16LE(at);
            at += 2;
          } else {
            at = this.#fill(chunk, at, 2);
            if (this.#scratchFill < 2) break;
            this.#scratchFill = 0;
            value = this.#scratch.readUInt16LE(0);
          }
          this.#cmdLeft -= 2;
          if (this.#phase === Phase.TlvType) this.#startAttr(value);
          else this.#startValue(value);
          break;
        }
        case Phase.Collect: {
          const n = Math.min(this.#valueLeft, chunk.length - at);
          chunk.copy(this.#value as Buffer, this.#valueFill, at, at + n);
          this.#valueFill += n;
          at += n;
          this.#consumeValue(n);
          break;
        }
        case Phase.Skip: {
          const n = Math.min(this.#valueLeft, chunk.length - at);
          at += n;
          this.#consumeValue(n);
          break;
        }
      }
    }
  }

  /** Copies up to `want - scratchFill` bytes into the scratch buffer; returns the new offset. */
  #fill(chunk: Buffer, at: number, want: number): number {
    const n = Math.min(want - this.#scratchFill, chunk.length - at);
    chunk.copy(this.#scratch, this.#scratchFill, at, at + n);
    this.#scratchFill += n;
    return at + n;
  }

  #startCommand(length: number, cmd: number): void {
    const n = this.commands + 1;
    if (cmd === 0 || cmd > maxCommand(this.#version)) throw refused(`command ${n} has the unknown type ${cmd} for a version ${this.#version} stream`);
    if (length > MAX_COMMAND_BYTES) throw refused(`command ${n} claims ${length} bytes`);
    this.#cmd = cmd;
    this.#cmdLeft = length;
    this.#nextAttr();
  }

  #startAttr(type: number): void {
    if (type === 0 || type > maxAttr(this.#version)) {
      throw refused(`command ${this.commands + 1} (type ${this.#cmd}) has the unknown attribute ${type} for a version ${this.#version} stream`);
    }
    // The command being read is number commands + 1 until it is whole.
    if (this.#seenIn[type] === this.commands + 1) throw refused(`command ${this.commands + 1} (type ${this.#cmd}) carries attribute ${type} twice`);
    this.#seenIn[type] = this.commands + 1;
    this.#values[type] = undefined;
    this.#tlvType = type;
    if (type === Attr.DATA && this.#version >= 2) {
      // No length: the data is the rest of the command.
      this.#valueLeft = this.#cmdLeft;
      this.#phase = Phase.Skip;
      if (this.#valueLeft === 0) this.#consumeValue(0);
      return;
    }
    this.#needPayload(2);
    this.#phase = Phase.TlvLength;
  }

  #startValue(length: number): void {
    if (length > this.#cmdLeft) throw refused(`an attribute of command ${this.commands + 1} (type ${this.#cmd}) overruns its command`);
    this.#valueLeft = length;
    if (!COLLECTED.has(this.#tlvType)) {
      this.#phase = Phase.Skip;
    } else {
      this.#value = Buffer.allocUnsafe(length);
      this.#valueFill = 0;
      this.#phase = Phase.Collect;
    }
    if (length === 0) this.#consumeValue(0);
  }

  #consumeValue(n: number): void {
    this.#valueLeft -= n;
    this.#cmdLeft -= n;
    if (this.#valueLeft > 0) return;
    if (this.#phase === Phase.Collect) {
      this.#values[this.#tlvType] = this.#value ?? undefined;
      this.#value = null;
    }
    this.#nextAttr();
  }

  /** After a command header or an attribute: the next attribute, or the command is whole. */
  #nextAttr(): void {
    if (this.#cmdLeft > 0) {
      this.#needPayload(2);
      this.#phase = Phase.TlvType;
      return;
    }
    this.commands++;
    this.#phase = Phase.CmdHeader;
    this.#onCommand(this.#cmd, this.#attrs);
  }

  #needPayload(bytes: number): void {
    if (this.#cmdLeft < bytes) throw refused(`command ${this.commands + 1} (type ${this.#cmd}) ends inside an attribute header`);
  }
}
