// The receiving appliance's end of a transfer. It checks everything it can
// before any byte is accepted, receives into a staging directory, and commits
// (a rename into the replica directory) only a subvolume it has verified.

import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { StreamHeadGuard, type Btrfs, type StreamHead } from '../btrfs/index.js';
import { FerryError, describeError, toFerryError } from '../domain/errors.js';
import { isSnapshotName, validateTaskName } from '../domain/names.js';
import { receiverRetention } from '../domain/retention.js';
import { assessPool, type HealthFinding } from '../domain/health.js';
import type { Replica } from '../domain/snapshot.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { Store } from '../store/index.js';
import { ByteCounter } from '../util/bytes.js';
import { KeyedLock } from '../util/lock.js';
import { replicaDir, STAGING_PREFIX, stagingName } from './paths.js';
import { validatePeerId, validateShareName } from './validate.js';

export interface OpenRequest {
  readonly attemptId: string;
  readonly task: string;
  readonly share: string;
  readonly pool: string;
  readonly snapshot: string;
  readonly snapshotUuid: string;
  readonly parent: { readonly name: string; readonly uuid: string } | null;
  readonly keepRemote: number;
  readonly sizeEstimate: number | null;
}

export interface ReceiveReceipt {
  readonly attemptId: string;
  readonly snapshot: string;
  readonly receivedUuid: string;
  readonly bytes: number;
  readonly replicaPath: string;
}

interface PendingTransfer {
  readonly id: string;
  readonly peer: string;
  readonly request: OpenRequest;
  readonly poolPath: string;
  readonly releaseShare: () => void;
  readonly expiry: NodeJS.Timeout;
  streaming: boolean;
}

export interface ReceiverOptions {
  /** How long an opened transfer may wait for its stream before it is dropped. */
  readonly openTimeoutMs?: number;
}

export class Receiver {
  readonly #btrfs: Btrfs;
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #clock: () => Date;
  readonly #openTimeoutMs: number;
  readonly #shares = new KeyedLock();
  readonly #pending = new Map<string, PendingTransfer>();

  constructor(deps: { btrfs: Btrfs; store: Store; logger?: Logger; clock?: () => Date; options?: ReceiverOptions }) {
    this.#btrfs = deps.btrfs;
    this.#store = deps.store;
    this.#logger = deps.logger ?? silentLogger;
    this.#clock = deps.clock ?? (() => new Date());
    this.#openTimeoutMs = deps.options?.openTimeoutMs ?? 60_000;
  }

  /** Transfers opened or streaming now. */
  get active(): { id: string; peer: string; share: string; snapshot: string; streaming: boolean }[] {
    return [...this.#pending.values()].map((t) => ({ id: t.id, peer: t.peer, share: t.request.share, snapshot: t.request.snapshot, streaming: t.streaming }));
  }

  #poolPath(pool: string): string {
    const found = this.#store.pools.get(pool);
    if (!found) throw new FerryError('POOL_NOT_GRANTED', `pool '${pool}' is not granted on this appliance`);
    return found.path;
  }

  /** The committed replicas of a share from a peer, oldest first. */
  async holdings(peer: string, request: { share: string; pool: string }): Promise<Replica[]> {
    const dir = replicaDir(this.#poolPath(request.pool), peer, request.share);
    const children = await this.#btrfs.children(dir);
    return children
      .filter((c) => c.readOnly && c.receivedUuid !== null && isSnapshotName(c.name))
      .map((c) => ({ name: c.name, receivedUuid: c.receivedUuid as string }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Findings about the health of a granted pool, as the sender's policy will weigh them. */
  async poolHealth(pool: string): Promise<HealthFinding[]> {
    return assessPool('target', await this.#btrfs.poolHealth(this.#poolPath(pool)));
  }

  async open(peer: string, request: OpenRequest): Promise<{ transferId: string }> {
    validatePeerId(peer);
    validateShareName(request.share);
    validateTaskName(request.task);
    if (!isSnapshotName(request.snapshot)) throw new FerryError('INVALID_NAME', `'${request.snapshot}' is not a snapshot name`);
    if (request.parent && !isSnapshotName(request.parent.name)) throw new FerryError('INVALID_NAME', `'${request.parent.name}' is not a snapshot name`);
    const poolPath = this.#poolPath(request.pool);

    const releaseShare = this.#shares.tryAcquire(`${peer}/${request.pool}/${request.share}`);
    if (!releaseShare) {
      const err = new FerryError('SHARE_BUSY', `a transfer of share '${request.share}' from this peer is already running`);
      this.#refuse(peer, request, err);
      throw err;
    }
    try {
      const held = await this.holdings(peer, request);
      if (held.some((r) => r.name === request.snapshot)) {
        throw new FerryError('ALREADY_EXISTS', `a replica named '${request.snapshot}' of share '${request.share}' exists already`);
      }
      if (request.parent) {
        const parent = request.parent;
        if (!held.some((r) => r.name === parent.name && r.receivedUuid === parent.uuid)) {
          const names = held.map((r) => r.name).join(', ') || 'none';
          throw new FerryError('PARENT_MISSING', `parent '${parent.name}' is not held here; replicas held of '${request.share}': ${names}`);
        }
      }
    } catch (err) {
      releaseShare();
      this.#refuse(peer, request, toFerryError(err));
      throw err;
    }

    const id = randomUUID();
    this.#startTrail(peer, request, this.#clock().toISOString());
    const expiry = setTimeout(() => {
      const pending = this.#pending.get(id);
      if (pending && !pending.streaming) {
        this.#close(pending);
        this.#finish(pending, new FerryError('ABORTED', 'the transfer was opened but no stream arrived in time'), 0);
      }
    }, this.#openTimeoutMs);
    expiry.unref();
    this.#pending.set(id, { id, peer, request, poolPath, releaseShare, expiry, streaming: false });
    this.#logger.info('transfer opened', { transferId: id, attemptId: request.attemptId, peer, share: request.share, snapshot: request.snapshot });
    return { transferId: id };
  }

  /** Drops a transfer that was opened but will never stream; its trail entry says why. */
  abort(peer: string, transferId: string, reason: FerryError): void {
    const pending = this.#pending.get(transferId);
    if (!pending || pending.peer !== peer || pending.streaming) return;
    this.#close(pending);
    this.#finish(pending, reason, 0);
  }

  /** Receives the stream of an opened transfer; resolves once the replica is committed. */
  async transfer(peer: string, transferId: string, stream: Readable, signal: AbortSignal): Promise<ReceiveReceipt> {
    const pending = this.#pending.get(transferId);
    if (!pending || pending.peer !== peer) {
      throw new FerryError('NOT_FOUND', `no open transfer '${transferId.slice(0, 64)}' for this peer`);
    }
    if (pending.streaming) throw new FerryError('SHARE_BUSY', `transfer '${transferId}' is already streaming`);
    pending.streaming = true;
    clearTimeout(pending.expiry);
    const { request, poolPath } = pending;
    const dir = replicaDir(poolPath, peer, request.share);
    const staging = path.join(dir, stagingName(transferId));
    const counter = new ByteCounter({ onProgress: (bytes) => this.#store.receiveTrail.progress(request.attemptId, bytes) });
    // The stream's first command must be the announced snapshot on the
    // announced parent; checked before `btrfs receive` sees a byte.
    const guard = new StreamHeadGuard(stagingName(transferId), (head) => checkHead(head, request));
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      const { input, done } = this.#btrfs.receive({ dir, signal });
      // Both must succeed: a stream that errored may still have let `btrfs
      // receive` exit 0 at a command boundary (the false success of Rockstor #2215).
      const [piped, received] = await Promise.allSettled([pipeline(stream, counter, guard, input, { signal }), done]);
      if (piped.status === 'rejected') throw piped.reason;
      if (received.status === 'rejected') throw received.reason;
      const receipt = await this.#commit(pending, staging, received.value.name, counter.bytes);
      this.#finish(pending, null, counter.bytes, receipt.replicaPath);
      await this.#prune(pending);
      return receipt;
    } catch (thrown) {
      const err = toFerryError(thrown);
      await this.#discardStaging(staging);
      this.#finish(pending, err, counter.bytes);
      throw err;
    } finally {
      this.#close(pending);
    }
  }

  async #commit(pending: PendingTransfer, staging: string, name: string, bytes: number): Promise<ReceiveReceipt> {
    const { request } = pending;
    if (name !== path.basename(staging)) {
      throw new FerryError('RECEIVED_MISMATCH', `btrfs receive created '${name}', expected '${path.basename(staging)}'`);
    }
    const info = await this.#btrfs.show(staging);
    if (!info.readOnly || info.receivedUuid !== request.snapshotUuid) {
      throw new FerryError(
        'RECEIVED_MISMATCH',
        `received subvolume is ${info.readOnly ? 'read-only' : 'writable'} with received UUID ${info.receivedUuid ?? 'none'}; expected read-only with ${request.snapshotUuid}`,
      );
    }
    const target = path.join(path.dirname(staging), request.snapshot);
    if (await exists(target)) throw new FerryError('ALREADY_EXISTS', `replica ${target} exists already`);
    // The commit point: a rename within one directory, atomic.
    await rename(staging, target);
    this.#logger.info('replica committed', { attemptId: request.attemptId, peer: pending.peer, share: request.share, replica: target });
    return { attemptId: request.attemptId, snapshot: request.snapshot, receivedUuid: info.receivedUuid, bytes, replicaPath: target };
  }

  /** Deletes what `btrfs receive` left under the staging name: a partial subvolume must never linger. */
  async #discardStaging(staging: string): Promise<void> {
    try {
      if (await this.#btrfs.isSubvolume(staging)) await this.#btrfs.delete(staging);
    } catch (err) {
      this.#logger.error('could not delete a partial subvolume', { staging, error: String(err) });
    }
  }

  async #prune(pending: PendingTransfer): Promise<void> {
    const { request, peer, poolPath } = pending;
    try {
      const replicas = await this.holdings(peer, request);
      const inFlight = [...this.#pending.values()].filter((t) => t.peer === peer && t.request.share === request.share).map((t) => t.request.snapshot);
      const { remove } = receiverRetention({ replicas, keep: request.keepRemote, inFlight });
      const dir = replicaDir(poolPath, peer, request.share);
      for (const name of remove) {
        await this.#btrfs.delete(path.join(dir, name));
        this.#logger.info('replica pruned', { peer, share: request.share, replica: name });
      }
    } catch (err) {
      this.#logger.warn('receiver retention failed', { peer, share: request.share, error: String(err) });
    }
  }

  #close(pending: PendingTransfer): void {
    clearTimeout(pending.expiry);
    if (this.#pending.get(pending.id) === pending) this.#pending.delete(pending.id);
    pending.releaseShare();
  }

  #finish(pending: PendingTransfer, err: FerryError | null, bytes: number, replicaPath: string | null = null): void {
    this.#store.receiveTrail.finish(pending.request.attemptId, {
      status: err ? (err.code === 'ABORTED' || err.code === 'INTERRUPTED' ? 'interrupted' : 'failed') : 'succeeded',
      endedAt: this.#clock().toISOString(),
      bytes,
      errorCode: err?.code ?? null,
      error: err ? describeError(err) : null,
      replicaPath,
    });
  }

  #startTrail(peer: string, request: OpenRequest, startedAt: string): void {
    this.#store.receiveTrail.start({
      id: request.attemptId,
      task: request.task,
      share: request.share,
      snapshot: request.snapshot,
      parent: request.parent?.name ?? null,
      mode: request.parent ? 'incremental' : 'full',
      peer,
      pool: request.pool,
      reason: null,
      startedAt,
    });
  }

  /** A refused open is logged; it lands in the trail too when its names were valid. */
  #refuse(peer: string, request: OpenRequest, err: FerryError): void {
    this.#logger.warn('transfer refused', { peer, attemptId: request.attemptId, share: request.share, code: err.code, error: err.message });
    if (this.#store.receiveTrail.get(request.attemptId)) return;
    const now = this.#clock().toISOString();
    this.#startTrail(peer, request, now);
    this.#store.receiveTrail.finish(request.attemptId, { status: 'failed', endedAt: now, bytes: 0, errorCode: err.code, error: describeError(err), replicaPath: null });
  }

  /** At start-up: partial subvolumes left by a crash hold nothing anyone will ever commit. */
  async cleanStaging(): Promise<number> {
    let cleaned = 0;
    for (const pool of this.#store.pools.list()) {
      for (const peer of await listDir(pool.path)) {
        // Only peer directories are ours to look into.
        if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(peer)) continue;
        for (const share of await listDir(path.join(pool.path, peer))) {
          const dir = path.join(pool.path, peer, share);
          for (const entry of await listDir(dir)) {
            if (!entry.startsWith(STAGING_PREFIX)) continue;
            if (this.#pending.has(entry.slice(STAGING_PREFIX.length))) continue;
            await this.#discardStaging(path.join(dir, entry));
            cleaned++;
          }
        }
      }
    }
    return cleaned;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** The stream must be the snapshot the sender announced, on the parent it announced. */
function checkHead(head: StreamHead, request: OpenRequest): void {
  if (head.uuid !== request.snapshotUuid) {
    throw new FerryError('RECEIVED_MISMATCH', `the stream carries snapshot UUID ${head.uuid}, but ${request.snapshotUuid} was announced`);
  }
  const parentUuid = request.parent?.uuid ?? null;
  if (head.parentUuid !== parentUuid) {
    throw new FerryError('RECEIVED_MISMATCH', `the stream's parent is ${head.parentUuid ?? 'none (a full send)'}, but ${parentUuid ?? 'none (a full send)'} was announced`);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
