import type { Readable, Writable } from 'node:stream';
import type { PoolHealth } from '../domain/health.js';
import { silentLogger } from '../log/logger.js';
import type { BtrfsContext } from './context.js';
import { estimateSend } from './estimate.js';
import { filesystemOf, poolHealth } from './health.js';
import { rehome, type RehomeRequest } from './rehome.js';
import { receive, send, type ReceiveOptions, type SendOptions } from './send-receive.js';
import { children, takeListing, type PoolListing } from './listing.js';
import * as subvolume from './subvolume.js';
import type { BtrfsOptions, SubvolumeInfo, SubvolumeListing } from './types.js';

/**
 * btrfs-progs, as Ferry uses it. Every failure is a FerryError whose `detail`
 * is the command's stderr.
 */
export class Btrfs {
  private readonly ctx: BtrfsContext;
  /** Changes this adapter made to any filesystem (made, deleted, received, flags): a listing taken before the last one may be out of date. */
  #changes = 0;

  constructor(options: BtrfsOptions = {}) {
    this.ctx = { binary: options.binary ?? 'btrfs', logger: options.logger ?? silentLogger };
  }

  /** `btrfs subvolume show`, parsed. */
  show(path: string, signal?: AbortSignal): Promise<SubvolumeInfo> {
    return subvolume.show(this.ctx, path, signal);
  }

  /** False, not an error, for a plain directory, a file, a missing path or a path off btrfs. */
  isSubvolume(path: string): Promise<boolean> {
    return subvolume.isSubvolume(path);
  }

  /** How many changes this adapter has begun or ended; see `listing`. */
  get changes(): number {
    return this.#changes;
  }

  /** Counts a change when it begins and when it settles, so that a listing taken while it ran is out of date too. */
  #change<T>(work: () => Promise<T>): Promise<T> {
    this.#changes++;
    return work().finally(() => this.#changes++);
  }

  create(path: string): Promise<void> {
    return this.#change(() => subvolume.create(this.ctx, path));
  }

  /** Snapshot `source` to exactly `dest`, which must not exist (ALREADY_EXISTS). */
  snapshot(source: string, dest: string, options: { readOnly: boolean }): Promise<void> {
    return this.#change(() => subvolume.snapshot(this.ctx, source, dest, options));
  }

  /** Delete a subvolume, read-only or not. Its space is freed later; see `sync`. */
  delete(path: string): Promise<void> {
    return this.#change(() => subvolume.deleteSubvolume(this.ctx, path));
  }

  /** Subvolumes that are direct entries of `dir`, sorted by entry name; [] if `dir` is missing. One `subvolume list`, not a `show` each. */
  children(dir: string): Promise<SubvolumeInfo[]> {
    return children(this.ctx, dir, this.#changes);
  }

  /**
   * One `btrfs subvolume list` of the filesystem holding `path`, kept to
   * answer `children` of any directory on it and the UUID checks of one
   * transfer (./listing.ts). Its `changes` against this adapter's tell
   * whether anything was made or deleted through it since.
   */
  listing(path: string, signal?: AbortSignal): Promise<PoolListing> {
    return takeListing(this.ctx, path, this.#changes, signal);
  }

  /**
   * Every subvolume of the filesystem holding `path` (the top level excepted)
   * with its UUID, parent UUID and received UUID: what `btrfs receive`
   * searches when it resolves a parent or a clone source.
   */
  listAll(path: string, signal?: AbortSignal): Promise<SubvolumeListing[]> {
    return subvolume.listAll(this.ctx, path, signal);
  }

  /** Refuses to make a received subvolume writable: that would clear its received UUID. */
  setReadOnly(path: string, readOnly: boolean): Promise<void> {
    return this.#change(() => subvolume.setReadOnly(this.ctx, path, readOnly));
  }

  /** Wait until the space of deleted subvolumes on this filesystem is freed. */
  sync(path: string): Promise<void> {
    return subvolume.sync(this.ctx, path);
  }

  /** `Free (estimated)` of `btrfs filesystem usage`, in bytes. */
  freeBytes(path: string): Promise<number> {
    return subvolume.freeBytes(this.ctx, path);
  }

  /**
   * The health of the pool that holds `path`: its devices (missing ones
   * too) with their `btrfs device stats` error counters, whether it is
   * mounted read-only or degraded, and its free space. NOT_FOUND for a
   * missing path, NOT_BTRFS for one off a mounted btrfs filesystem.
   */
  poolHealth(path: string, signal?: AbortSignal): Promise<PoolHealth> {
    return poolHealth(this.ctx, path, signal);
  }

  /** The btrfs filesystem an existing path is on (device and mount point), or null when it is not on btrfs. */
  filesystemOf(path: string): Promise<{ device: string; mountPoint: string } | null> {
    return filesystemOf(path);
  }

  /**
   * `btrfs send -q [-p parent] path`. `stream` carries stdout with
   * backpressure; it ends only if btrfs send exited 0 and otherwise errors
   * with the same FerryError `done` rejects with (SEND_FAILED, NO_SPACE,
   * ABORTED), so consume it with `pipeline()` or an 'error' listener.
   * Destroying `stream` early kills btrfs send.
   */
  /** Bytes `send` would write for the same options, from a metadata-only walk (--no-data); see estimate.ts. */
  estimateSend(options: { path: string; parent?: string | undefined; signal?: AbortSignal | undefined }): Promise<number> {
    return estimateSend(this.ctx, options);
  }

  send(options: SendOptions): { stream: Readable; done: Promise<void> } {
    return send(this.ctx, options);
  }

  /**
   * `btrfs receive -e dir`. `done` gives the name of the subvolume created
   * in `dir`. On failure btrfs leaves a partial subvolume there, which the
   * caller must delete. If `input` is destroyed before it ended (its writer
   * failed), btrfs receive is killed first, so a cut stream is never
   * finished as a whole one; `done` then rejects RECEIVE_FAILED.
   */
  receive(options: ReceiveOptions): { input: Writable; done: Promise<{ name: string }> } {
    this.#changes++;
    const received = receive(this.ctx, options);
    return { input: received.input, done: received.done.finally(() => this.#changes++) };
  }

  /** Moves a received read-only subvolume into another directory as a snapshot with its received UUID (see rehome.ts). */
  rehome(request: RehomeRequest): Promise<void> {
    return this.#change(() => rehome(this.ctx, request));
  }
}
