// The receiver's check of a whole send stream, as a pass-through between the
// opened sealed stream and `btrfs receive`. It reads the head (stream-head.ts),
// hands it to the caller's check, renames the subvolume to the staging name,
// then checks every later command (stream-scanner.ts frames them,
// stream-rules.ts judges them) while forwarding each chunk unchanged: file
// data is skipped, not copied. A refusal destroys the pipeline, so `btrfs
// receive` is killed before it reads the offending command to its end.

import { Transform, type TransformCallback } from 'node:stream';
import { CommandScanner, type CommandAttrs } from './stream-scanner.js';
import { Attr, Cmd, formatUuid } from './stream-format.js';
import { LinkFreeRoot } from './stream-links.js';
import { checkCommand, shown, StreamRuleState, type StreamRules } from './stream-rules.js';
import { parseStreamHead, refused, renameStreamHead, type StreamHead } from './stream-head.js';

export interface StreamGuardOptions {
  /** The name `btrfs receive` creates the subvolume under. */
  readonly stagingName: string;
  /** Checks the head (the announced snapshot and parent); throws to refuse the stream. */
  readonly checkHead: (head: StreamHead) => void;
  readonly rules: StreamRules;
  /**
   * Clone sources, by UUID, whose paths must pass through no symbolic link:
   * the parent, at its path on the pool (see stream-links.ts). A clone
   * command is held back until its path is looked at.
   */
  readonly linkFree?: ReadonlyMap<string, string>;
}

export class StreamGuard extends Transform {
  readonly #options: StreamGuardOptions;
  #pending: Buffer[] = [];
  #pendingLength = 0;
  #scanner: CommandScanner | null = null;
  readonly #state = new StreamRuleState();
  readonly #linkFree: ReadonlyMap<string, LinkFreeRoot>;
  /** Looks at clone paths the last chunk held, to finish before that chunk is passed on. */
  #looks: Promise<void>[] = [];
  head: StreamHead | null = null;

  constructor(options: StreamGuardOptions) {
    // Node's default buffering: each chunk here is a freshly opened 256 KiB one,
    // and any more held between the opener and btrfs receive is peak RSS.
    super();
    this.#options = options;
    this.#linkFree = new Map([...(options.linkFree ?? [])].map(([uuid, root]) => [uuid, new LinkFreeRoot(root)]));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    try {
      if (this.#scanner) {
        this.#scanner.feed(chunk);
        this.#pass(chunk, callback);
        return;
      }
      this.#readHead(chunk, callback);
    } catch (err) {
      callback(err as Error);
    }
  }

  /** Passes a checked chunk on, once the clone paths it held are looked at. */
  #pass(chunk: Buffer | undefined, callback: TransformCallback): void {
    if (this.#looks.length === 0) {
      callback(null, chunk);
      return;
    }
    const looks = this.#looks;
    this.#looks = [];
    Promise.all(looks).then(
      () => callback(null, chunk),
      (err: unknown) => callback(err as Error),
    );
  }

  #onCommand(cmd: number, attrs: CommandAttrs, index: number): void {
    checkCommand(cmd, attrs, this.#options.rules, this.#state, index);
    if (cmd !== Cmd.CLONE || this.#linkFree.size === 0) return;
    const root = this.#linkFree.get(formatUuid(attrs.get(Attr.CLONE_UUID)!));
    const clonePath = attrs.get(Attr.CLONE_PATH);
    if (!root || !clonePath) return;
    // The scanner reuses its buffers: the path is copied for the look.
    const copy = Buffer.from(clonePath);
    const look = root.linkOn(copy).then((link) => {
      if (link !== null) {
        throw refused(`command ${index} (type ${cmd}) clones from ${shown(copy)} in the parent, through its symbolic link ${shown(link)}`);
      }
    });
    // A later command of the same chunk may be refused first; this look's own refusal then goes unread.
    look.catch(() => undefined);
    this.#looks.push(look);
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
    const scanner = new CommandScanner(parsed.head.version, (cmd, attrs) => this.#onCommand(cmd, attrs, scanner.commands), 1);
    const rest = buf.length > parsed.length ? buf.subarray(parsed.length) : null;
    if (rest) scanner.feed(rest);
    this.#scanner = scanner;
    this.push(renameStreamHead(buf, parsed, this.#options.stagingName));
    this.#pass(rest ?? undefined, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#scanner) callback(refused('the stream ended before its first command'));
    else if (!this.#state.ended) callback(refused(this.#scanner.atBoundary ? 'the stream ended before its end command' : 'the stream ended inside a command'));
    else callback();
  }
}
