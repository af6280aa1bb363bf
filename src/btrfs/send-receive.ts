// `btrfs send` and `btrfs receive` as streams.
//
// Neither side turns a failure into a clean end of stream: the send stream
// errors unless btrfs send exited 0 (else a sealing layer would mark a cut
// stream final), and a receive whose writer fails is killed before its stdin
// closes. btrfs-progs 6.2 itself rejects EOF before the end command ("unexpected
// EOF in stream", tested with cuts on command boundaries), so the kill is a
// second guard, and it makes the error name the writer's failure.

import { Transform, Writable } from 'node:stream';
import { FerryError } from '../domain/errors.js';
import { startBtrfs } from './command.js';
import type { BtrfsContext } from './context.js';
import { parseReceivedName } from './parse.js';

/**
 * Fail a stream without ever ending it cleanly. The error is emitted only if
 * someone listens for it: a caller that watches just `done` must not get an
 * uncaught exception; a reader still sees a premature close, never an end.
 */
function failStream(stream: Transform | Writable, err: Error): void {
  if (stream.destroyed) return;
  if (stream.listenerCount('error') > 0) stream.destroy(err);
  else stream.destroy();
}

export interface SendOptions {
  path: string;
  parent?: string;
  signal?: AbortSignal;
}

export interface ReceiveOptions {
  dir: string;
  signal?: AbortSignal;
}

/** Bytes buffered between btrfs and the caller on top of the pipe's own 64 KiB. */
const HIGH_WATER_MARK = 64 * 1024;
/**
 * The send stream hands its reader pieces of this size: a pipe gives 64 KiB per
 * read, and every stage after it (counting, sealing, HTTP) pays per piece, not
 * per byte, so one copy into 1 MiB pieces here saves more than it costs.
 */
export const SEND_PIECE = 1024 * 1024;
/** A partial piece waits at most this long, so a slow `btrfs send` still shows progress. */
const PIECE_LINGER_MS = 100;

export function send(ctx: BtrfsContext, options: SendOptions): { stream: Transform; done: Promise<void> } {
  const args = ['send', '-q', ...(options.parent === undefined ? [] : ['-p', options.parent]), '--', options.path];
  const child = startBtrfs(args, { ...ctx, failure: 'SEND_FAILED', refine: 'space', signal: options.signal, stdout: 'stream' });

  let ended = false;
  let piece: Buffer | null = null;
  let fill = 0;
  let linger: NodeJS.Timeout | null = null;
  /** Hands the gathered piece (whole or partial) to the reader. */
  const pushPiece = (): void => {
    if (linger) clearTimeout(linger);
    linger = null;
    if (piece === null || fill === 0) return;
    const out = fill === piece.length ? piece : piece.subarray(0, fill);
    piece = null;
    fill = 0;
    if (!stream.destroyed) stream.push(out);
  };
  // A lingering partial piece goes out only to a reader that is waiting for it
  // (piped, nothing buffered): a reader that is behind or not reading gets
  // whole pieces, so what the stream holds stays within one piece.
  const lingered = (): void => {
    linger = null;
    if (piece === null || fill === 0 || stream.destroyed) return;
    if (stream.readableFlowing === true && stream.readableLength === 0) pushPiece();
    else linger = setTimeout(lingered, PIECE_LINGER_MS).unref();
  };
  // A pass-through that joins the pipe's reads into larger pieces, except
  // that its end waits for the exit status: the reader sees 'end' only after
  // btrfs send exited 0, and an error otherwise.
  const stream = new Transform({
    writableHighWaterMark: HIGH_WATER_MARK,
    readableHighWaterMark: SEND_PIECE,
    transform(chunk: Buffer, _encoding, callback) {
      for (let at = 0; at < chunk.length; ) {
        piece ??= Buffer.allocUnsafeSlow(SEND_PIECE);
        const n = Math.min(SEND_PIECE - fill, chunk.length - at);
        chunk.copy(piece, fill, at, at + n);
        fill += n;
        at += n;
        if (fill === SEND_PIECE) pushPiece();
      }
      if (fill > 0 && linger === null) linger = setTimeout(lingered, PIECE_LINGER_MS).unref();
      callback();
    },
    flush(callback) {
      child.result.then(
        () => {
          ended = true;
          pushPiece();
          callback();
        },
        (err: unknown) => failStream(stream, err as Error),
      );
    },
  });
  // By hand rather than pipe(): pipe() listens for errors on `stream`, which
  // would hide from failStream whether anyone else does.
  const stdout = child.stdout;
  stdout.on('data', (chunk: Buffer) => {
    if (!stream.destroyed && !stream.write(chunk)) stdout.pause();
  });
  stream.on('drain', () => stdout.resume());
  stdout.once('end', () => {
    if (!stream.destroyed) stream.end();
  });
  child.result.catch((err: unknown) => failStream(stream, err as Error));
  // A reader that gives up (destroys the stream) must not leave btrfs send
  // blocked on a full pipe for ever.
  stream.once('close', () => {
    if (linger) clearTimeout(linger);
    if (!ended && !child.settled) {
      child.fail(new FerryError('SEND_FAILED', `The reader of "${child.command}" stopped before the stream ended.`));
    }
  });

  const done = child.result.then(() => undefined);
  done.catch(() => undefined);
  return { stream, done };
}

export function receive(ctx: BtrfsContext, options: ReceiveOptions): { input: Writable; done: Promise<{ name: string }> } {
  // -e: stop at the stream's end marker instead of waiting for EOF.
  const child = startBtrfs(['receive', '-e', '--', options.dir], {
    ...ctx,
    failure: 'RECEIVE_FAILED',
    refine: 'space',
    signal: options.signal,
    stdin: 'pipe',
    stdout: 'collect',
  });
  const stdin = child.stdin!;

  let finalCalled = false;
  // Not the child's stdin itself: destroying that would close the pipe
  // before the child is killed, and the error would blame the stream.
  const input = new Writable({
    highWaterMark: HIGH_WATER_MARK,
    write(chunk: Buffer, _encoding, callback) {
      if (stdin.destroyed || stdin.writableEnded) {
        // btrfs receive -e exits at the end marker, possibly before the
        // writer's last callbacks ran: what still comes is not its stream.
        callback();
        return;
      }
      if (stdin.write(chunk)) {
        callback();
        return;
      }
      // 'drain' never comes once the child is gone; 'close' then releases the writer.
      const release = (): void => {
        stdin.off('drain', release);
        stdin.off('close', release);
        callback();
      };
      stdin.on('drain', release);
      stdin.on('close', release);
    },
    final(callback) {
      finalCalled = true;
      stdin.end();
      callback();
    },
    destroy(err, callback) {
      if (!finalCalled || err) {
        const cause = err ?? new Error('the input was destroyed before it ended');
        child.fail(
          new FerryError('RECEIVE_FAILED', `The input of "${child.command}" failed before the stream ended: ${cause.message}`, {
            cause,
          }),
        );
      }
      // Only now, with the child already killed, may its stdin close.
      if (!stdin.destroyed && !finalCalled) stdin.destroy();
      callback(err);
    },
  });

  const done = child.result.then(
    (output) => {
      const name = parseReceivedName(output.stderr) ?? parseReceivedName(output.stdout);
      if (name === null) {
        throw new FerryError('RECEIVE_FAILED', `"${child.command}" exited 0 but did not say which subvolume it created.`, {
          detail: output.stderr,
        });
      }
      return { name };
    },
    (err: unknown) => {
      // A writer blocked on a dead child must be released, not left waiting for 'drain'.
      failStream(input, err as Error);
      throw err;
    },
  );
  done.catch(() => undefined);
  return { input, done };
}
