// The receiver's check of a whole send stream, as a pass-through between the
// opened sealed stream and `btrfs receive`. It reads the head (stream-head.ts),
// hands it to the caller's check, renames the subvolume to the staging name,
// then checks every later command (stream-scanner.ts frames them,
// stream-rules.ts judges them) while forwarding each chunk unchanged: file
// data is skipped, not copied. A refusal destroys the pipeline, so `btrfs
// receive` is killed before it reads the offending command to its end.

import { Transform, type TransformCallback } from 'node:stream';
import { CommandScanner } from './stream-scanner.js';
import { checkCommand, StreamRuleState, type StreamRules } from './stream-rules.js';
import { parseStreamHead, refused, renameStreamHead, type StreamHead } from './stream-head.js';

export interface StreamGuardOptions {
  /** The name `btrfs receive` creates the subvolume under. */
  readonly stagingName: string;
  /** Checks the head (the announced snapshot and parent); throws to refuse the stream. */
  readonly checkHead: (head: StreamHead) => void;
  readonly rules: StreamRules;
}

export class StreamGuard extends Transform {
  readonly #options: StreamGuardOptions;
  #pending: Buffer[] = [];
  #pendingLength = 0;
  #scanner: CommandScanner | null = null;
  readonly #state = new StreamRuleState();
  head: StreamHead | null = null;

  constructor(options: StreamGuardOptions) {
    // Node's default buffering: each chunk here is a freshly opened 256 KiB one,
    // and any more held between the opener and btrfs receive is peak RSS.
    super();
    this.#options = options;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    try {
      if (this.#scanner) {
        this.#scanner.feed(chunk);
        callback(null, chunk);
        return;
      }
      this.#readHead(chunk, callback);
    } catch (err) {
      callback(err as Error);
    }
  }

  #readHead(chunk: Buffer, callback: TransformCallback): void {
    this.#pending.push(chunk);
    this.#pendingLength += chunk.length;
    const buf = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending, this.#pendingLength);
    const parsed = parseStreamHead(buf);
    if (!parsed) {
      this.#pending = [buf];
      callback();
      return;
    }
    this.#options.checkHead(parsed.head);
    this.head = parsed.head;
    this.#pending = [];
    const rules = this.#options.rules;
    const state = this.#state;
    const scanner = new CommandScanner(parsed.head.version, (cmd, attrs) => checkCommand(cmd, attrs, rules, state, scanner.commands), 1);
    const rest = buf.length > parsed.length ? buf.subarray(parsed.length) : null;
    if (rest) scanner.feed(rest);
    this.#scanner = scanner;
    this.push(renameStreamHead(buf, parsed, this.#options.stagingName));
    callback(null, rest ?? undefined);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#scanner) callback(refused('the stream ended before its first command'));
    else if (!this.#state.ended) callback(refused(this.#scanner.atBoundary ? 'the stream ended before its end command' : 'the stream ended inside a command'));
    else callback();
  }
}
