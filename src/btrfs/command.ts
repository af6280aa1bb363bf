// The one wrapper that runs btrfs-progs. Everything in src/btrfs spawns
// through here, so argv handling, abort, bounded stderr, timing and the
// mapping of failures to error codes are decided once.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { FerryError, type ErrorCode } from '../domain/errors.js';
import type { Logger } from '../log/logger.js';
import { classifyStderr, firstErrorLine, formatCommand } from './parse.js';

/** Stderr kept for errors: enough for any btrfs-progs message, bounded against a chatty child. */
const STDERR_TAIL_BYTES = 64 * 1024;
/** The start of stderr is kept too: `btrfs receive` names its subvolume on the first line. */
const STDERR_HEAD_BYTES = 4 * 1024;
/** Collected stdout (`subvolume show` lists every snapshot) is capped so a surprise cannot exhaust memory. */
const STDOUT_LIMIT_BYTES = 16 * 1024 * 1024;
/** A child that ignores SIGTERM this long gets SIGKILL. */
const KILL_GRACE_MS = 5_000;

export interface CommandOptions {
  binary: string;
  logger: Logger;
  /** Code of the error when btrfs fails and its stderr names nothing more specific. */
  failure: ErrorCode;
  /** Whether stderr may narrow `failure` only to NO_SPACE (send/receive) or to any specific code. */
  refine: 'space' | 'all';
  signal?: AbortSignal | undefined;
  stdin?: 'ignore' | 'pipe';
  /** 'collect' gathers stdout into the result; 'stream' leaves it to the caller to read. */
  stdout?: 'collect' | 'stream';
}

export interface CommandOutput {
  /** Collected stdout; empty in 'stream' mode. */
  stdout: string;
  /** The first 4 KiB of stderr, then its last 64 KiB when it was longer. */
  stderr: string;
}

export interface BtrfsProcess {
  readonly command: string;
  /** The child's stdin; null unless `stdin: 'pipe'`. */
  readonly stdin: Writable | null;
  /** The child's stdout; read it in 'stream' mode. */
  readonly stdout: Readable;
  /** Resolves when btrfs exited 0; rejects with a FerryError otherwise. Never unhandled. */
  readonly result: Promise<CommandOutput>;
  /** True once `result` has settled. */
  readonly settled: boolean;
  /** Kill the child and make `result` reject with `reason` (unless it settled already). */
  fail(reason: FerryError): void;
}

/** Keeps the head and the tail of a byte stream, dropping the middle. */
class BoundedText {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = false;

  push(chunk: Buffer): void {
    if (this.headBytes < STDERR_HEAD_BYTES) {
      const take = chunk.subarray(0, STDERR_HEAD_BYTES - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (chunk.length === 0) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes > STDERR_TAIL_BYTES && this.tail.length > 0) {
      const first = this.tail[0]!;
      const excess = this.tailBytes - STDERR_TAIL_BYTES;
      this.dropped = true;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
      }
    }
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    return this.dropped ? `${head}\n[... stderr truncated ...]\n${tail}` : head + tail;
  }
}

/**
 * Start `binary ...args` without a shell. The result promise owns the whole
 * life of the child: it settles once, after the child exited and its stderr
 * was read to the end.
 */
export function startBtrfs(args: readonly string[], options: CommandOptions): BtrfsProcess {
  const argv = [options.binary, ...args];
  const command = formatCommand(argv);
  const { logger, signal } = options;
  const streamStdout = options.stdout === 'stream';
  const started = performance.now();

  const child: ChildProcess = spawn(options.binary, args, {
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    // btrfs-progs messages are matched against English text.
    env: { ...process.env, LC_ALL: 'C' },
  });
  const stdout = child.stdout!;
  const stderr = child.stderr!;

  const stderrText = new BoundedText();
  const stdoutChunks: Buffer[] = [];
  let stdoutBytes = 0;
  let failure: FerryError | null = null;
  let settled = false;
  let killTimer: NodeJS.Timeout | undefined;

  let resolveResult!: (value: CommandOutput) => void;
  let rejectResult!: (err: FerryError) => void;
  const result = new Promise<CommandOutput>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  // Callers often attach to `result` late (after piping a stream); a failure
  // before then must not count as an unhandled rejection.
  result.catch(() => undefined);

  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
  };

  const fail = (reason: FerryError): void => {
    if (settled || failure) return;
    failure = reason;
    kill();
    // An unread stdout would keep the pipe, and so the child's exit, pending.
    if (streamStdout) stdout.destroy();
  };

  const onAbort = (): void => {
    fail(
      new FerryError('ABORTED', `"${command}" was aborted.`, {
        cause: signal?.reason,
      }),
    );
  };
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }

  const settle = (err: FerryError | null): void => {
    if (settled) return;
    settled = true;
    if (killTimer) clearTimeout(killTimer);
    signal?.removeEventListener('abort', onAbort);
    const ms = Math.round(performance.now() - started);
    const output = { stdout: Buffer.concat(stdoutChunks).toString('utf8'), stderr: stderrText.text() };
    logger.debug('btrfs command finished', {
      argv,
      ms,
      exitCode: child.exitCode,
      signal: child.signalCode,
      ...(err ? { code: err.code } : {}),
    });
    if (err) rejectResult(err);
    else resolveResult(output);
  };

  stderr.on('data', (chunk: Buffer) => stderrText.push(chunk));
  if (!streamStdout) {
    stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > STDOUT_LIMIT_BYTES) {
        fail(new FerryError('BTRFS_COMMAND_FAILED', `"${command}" wrote more than ${STDOUT_LIMIT_BYTES} bytes to stdout.`));
        return;
      }
      stdoutChunks.push(chunk);
    });
  }
  // EPIPE on stdin after the child died is reported through the exit status.
  child.stdin?.on('error', (err) => logger.debug('btrfs stdin error', { argv, error: err.message }));

  const ended = (stream: Readable): Promise<void> =>
    new Promise((resolve) => {
      if (stream.readableEnded || stream.destroyed) resolve();
      else {
        stream.once('end', () => resolve());
        stream.once('close', () => resolve());
      }
    });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, sig) => resolve({ code, signal: sig }));
  });

  child.once('error', (err: NodeJS.ErrnoException) => {
    // Spawn failures never emit 'exit'.
    if (err.code === 'ENOENT') {
      settle(
        new FerryError('BTRFS_MISSING', `Cannot run "${command}": ${options.binary} was not found; install btrfs-progs.`, {
          cause: err,
        }),
      );
    } else {
      settle(new FerryError(options.failure, `Cannot run "${command}": ${err.message}.`, { cause: err }));
    }
  });

  // Stream mode does not wait for stdout: a reader that stopped reading must
  // not keep a dead child's result pending.
  void Promise.all([exited, ended(stderr), streamStdout ? Promise.resolve() : ended(stdout)]).then(([exit]) => {
    if (failure) {
      settle(new FerryError(failure.code, failure.message, { cause: failure.cause, detail: failure.detail ?? stderrText.text() }));
      return;
    }
    if (exit.code === 0) {
      settle(null);
      return;
    }
    const text = stderrText.text();
    const code = classifyStderr(text, { spaceOnly: options.refine === 'space' }) ?? options.failure;
    const how = exit.code === null ? `was killed by ${exit.signal ?? 'a signal'}` : `failed with exit code ${exit.code}`;
    const reason = firstErrorLine(text);
    settle(new FerryError(code, `"${command}" ${how}${reason ? `: ${reason}` : ''}.`, { detail: text }));
  });

  return {
    command,
    stdin: child.stdin,
    stdout,
    result,
    get settled() {
      return settled;
    },
    fail,
  };
}

/** Run btrfs to completion and return what it printed. */
export function runBtrfs(args: readonly string[], options: Omit<CommandOptions, 'stdout' | 'stdin'>): Promise<CommandOutput> {
  return startBtrfs(args, { ...options, stdout: 'collect', stdin: 'ignore' }).result;
}
