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

export function send(ctx: BtrfsContext, options: SendOptions): { stream: Transform; done: Promise<void> } {
  const args = ['send', '-q', ...(options.parent === undefined ? [] : ['-p', options.parent]), '--', options.path];
  const child = startBtrfs(args, { ...ctx, failure: 'SEND_FAILED', refine: 'space', signal: options.signal, stdout: 'stream' });

  let ended = false;
  // A pass-through of the pipe's reads, as they come (the sealer gathers them
  // into chunks in a buffer it reuses; joining them here first cost a copy and
  // a fresh buffer per byte), except that its end waits for the exit status:
  // the reader sees 'end' only after btrfs send exited 0, and an error otherwise.
  const stream = new Transform({
    writableHighWaterMark: HIGH_WATER_MARK,
    readableHighWaterMark: HIGH_WATER_MARK,
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, chunk);
    },
    flush(callback) {
      child.result.then(
        () => {
          ended = true;
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
  // -C: chroot into the directory first. The paths in a send stream come from
  // the peer; without it, a hostile stream could make a symlink to anywhere and
  // then create files through it (test/btrfs/adapter.test.ts does exactly that).
  const child = startBtrfs(['receive', '-e', '-C', '--', options.dir], {
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
