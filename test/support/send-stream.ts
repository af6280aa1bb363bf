// Reading, changing and writing btrfs send streams in tests: a stream is its
// version and a list of commands, each a command number and its attributes in
// order. Hostile streams are real `btrfs send` output with commands changed,
// added or removed, re-encoded with valid checksums, so that `btrfs receive`
// itself would accept them and only the receiver's own checks stand between
// them and the pool.

import { Attr, Cmd, CMD_HEADER, MAGIC, STREAM_HEADER, encodeCommand, u64, uuidBytes } from '../../src/btrfs/stream-format.js';

export { u64, uuidBytes };

export { Attr, Cmd };

export interface Command {
  cmd: number;
  attrs: [number, Buffer][];
}

export interface SendStream {
  version: number;
  commands: Command[];
}

export function decodeStream(buf: Buffer): SendStream {
  const version = buf.readUInt32LE(MAGIC.length);
  const commands: Command[] = [];
  for (let at = STREAM_HEADER; at < buf.length; ) {
    const length = buf.readUInt32LE(at);
    const cmd = buf.readUInt16LE(at + 4);
    const attrs: [number, Buffer][] = [];
    const end = at + CMD_HEADER + length;
    for (let t = at + CMD_HEADER; t < end; ) {
      const type = buf.readUInt16LE(t);
      if (version >= 2 && type === Attr.DATA) {
        attrs.push([type, buf.subarray(t + 2, end)]);
        break;
      }
      const size = buf.readUInt16LE(t + 2);
      attrs.push([type, buf.subarray(t + 4, t + 4 + size)]);
      t += 4 + size;
    }
    commands.push({ cmd, attrs });
    at = end;
  }
  return { version, commands };
}

export function encodeStream(stream: SendStream): Buffer {
  const header = Buffer.alloc(STREAM_HEADER);
  MAGIC.copy(header);
  header.writeUInt32LE(stream.version, MAGIC.length);
  return Buffer.concat([header, ...stream.commands.map((c) => encodeCommand(c.cmd, c.attrs, stream.version))]);
}


export function text(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

export function attr(command: Command, type: number): Buffer | undefined {
  return command.attrs.find(([t]) => t === type)?.[1];
}

/** A clone command: `length` bytes at `offset` of `path` from `sourcePath` at `sourceOffset` in subvolume `sourceUuid`. */
export function cloneCommand(c: {
  path: string;
  offset: number;
  length: number;
  sourceUuid: string;
  sourceCtransid?: number;
  sourcePath: string;
  sourceOffset?: number;
}): Command {
  return {
    cmd: Cmd.CLONE,
    attrs: [
      [Attr.PATH, text(c.path)],
      [Attr.FILE_OFFSET, u64(c.offset)],
      [Attr.CLONE_LEN, u64(c.length)],
      [Attr.CLONE_UUID, uuidBytes(c.sourceUuid)],
      [Attr.CLONE_CTRANSID, u64(c.sourceCtransid ?? 1)],
      [Attr.CLONE_PATH, text(c.sourcePath)],
      [Attr.CLONE_OFFSET, u64(c.sourceOffset ?? 0)],
    ],
  };
}

/** The stream with attributes of its first command replaced (the subvolume or snapshot command). */
export function withHead(stream: SendStream, replace: Readonly<Record<number, Buffer>>): SendStream {
  const [head, ...rest] = stream.commands;
  if (!head) throw new Error('the stream has no commands');
  return { ...stream, commands: [{ cmd: head.cmd, attrs: head.attrs.map(([t, v]) => [t, replace[t] ?? v]) }, ...rest] };
}

/** The commands of a stream with `extra` inserted just before its END command. */
export function beforeEnd(stream: SendStream, ...extra: Command[]): SendStream {
  const end = stream.commands.findIndex((c) => c.cmd === Cmd.END);
  const at = end === -1 ? stream.commands.length : end;
  return { ...stream, commands: [...stream.commands.slice(0, at), ...extra, ...stream.commands.slice(at)] };
}
