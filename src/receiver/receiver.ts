// The receiving appliance's end of a transfer, and the authority over its
// pools. Before any byte is accepted it checks that the pool takes this peer
// (grants), that the share is the one its replica chain belongs to, that the
// parent is this chain's own replica as btrfs will resolve it, and the peer's
// quota. It receives into a staging directory through the whole-stream check
// (src/btrfs/stream-guard.ts), commits (a rename into the replica directory)
// only a subvolume it has verified, and then applies retention: the sender's
// keep-remote, raised to the receiving admin's floor.
//
// Over 400 lines until its admission, streaming and commit parts move to
// files of their own (issue #20; the pending-transfer table they share
// comes first); its limits, stream checks and the holder's side of a
// restore are apart already.

import { rename } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { StreamGuard, type Btrfs } from '../btrfs/index.js';
import { resolutionProblem, type ChainReplica, type WritableCopy } from '../domain/chain.js';
import { FerryError, describeError, toFerryError } from '../domain/errors.js';
import { endStatusOf } from '../domain/trail.js';
import { formatDuration, isSnapshotName, validateTaskName } from '../domain/names.js';
import { receiverRetention } from '../domain/retention.js';
import { assessPool, type HealthFinding } from '../domain/health.js';
import type { Replica } from '../domain/snapshot.js';
import type { HoldingsQuery, RestoreQuery, TransferReceipt, TransferRequest } from '../domain/transfer.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { Pool, Store } from '../store/index.js';
import { ByteCounter, formatBytes } from '../util/bytes.js';
import { KeyedLock } from '../util/lock.js';
import { ChainBook, type HeldChain } from './chains.js';
import { CopyMaker, type CopyRequest } from './copies.js';
import { checkIdentities } from './identity.js';
import { checkJail, discardIncoming, jailOf, makeJail, type Jail } from './jail.js';
import { makeReplicaDir, replicaDir } from './paths.js';
import { RestoreHolder } from './restore-holder.js';
import { RestoreInbox, type RestoreArrival, type RestoreExpectation, type RestoreSource } from './restores.js';
import { DEFAULT_DEADLINE, DEFAULT_MAX_TRANSFERS_PER_PEER, deadlineMs, type ReceiverOptions, type TransferDeadline } from './limits.js';
import { findStaging, stagingTransfer } from './staging.js';
import { checkHead, exists, isStreamRefusal, shareKey } from './stream-checks.js';
import { validatePeerId, validateShareName } from './validate.js';

interface PendingTransfer {
  readonly id: string;
  readonly peer: string;
  readonly key: string;
  readonly request: TransferRequest;
  readonly pool: Pool;
  /** Where the stream is received and committed: the replica directory, or for a restore the task's snapshot directory. */
  readonly dir: string;
  /** Set when the transfer brings back a restore this appliance asked for. */
  readonly restore: RestoreExpectation | null;
  /** Bytes this peer may still receive on the pool (its quota less what it holds); null for no quota. */
  readonly quotaLeft: number | null;
  /** Where the announced parent is (read-only, checked at the open); null for a full stream. */
  readonly parentPath: string | null;
  readonly releaseShare: () => void;
  readonly expiry: NodeJS.Timeout;
  streaming: boolean;
}

/**
 * Snapshots this appliance took and sent to a peer, found by identity: the
 * common ground for a share the peer promoted from its replica and now sends
 * back (failback). Only what was sent to that peer qualifies: a peer must
 * never get another of this appliance's subvolumes copied into its chain by
 * naming it as a parent.
 */
export type SentSnapshots = (peer: string, identity: string) => Promise<{ readonly name: string; readonly path: string } | null>;

/** A chain as the admin sees it: `ferry replica list`. */
export interface ChainView {
  readonly peer: string;
  readonly pool: string;
  readonly share: string;
  readonly sourceUuid: string;
  readonly replicas: readonly (ChainReplica & { readonly path: string })[];
}

export class Receiver {
  readonly #btrfs: Btrfs;
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #clock: () => Date;
  readonly #openTimeoutMs: number;
  readonly #maxTransfersPerPeer: number;
  readonly #deadline: TransferDeadline;
  /** Opens under way, per peer: each holds a place in its budget until it is pending or refused. */
  readonly #opening = new Map<string, number>();
  readonly #chains: ChainBook;
  readonly #copies: CopyMaker;
  readonly #shares = new KeyedLock();
  readonly #pending = new Map<string, PendingTransfer>();
  readonly #restores = new RestoreInbox();
  readonly #holder: RestoreHolder;

  readonly #sent: SentSnapshots;

  constructor(deps: { btrfs: Btrfs; store: Store; logger?: Logger; clock?: () => Date; options?: ReceiverOptions; sentSnapshots?: SentSnapshots }) {
    this.#sent = deps.sentSnapshots ?? (() => Promise.resolve(null));
    this.#btrfs = deps.btrfs;
    this.#store = deps.store;
    this.#logger = deps.logger ?? silentLogger;
    this.#clock = deps.clock ?? (() => new Date());
    this.#openTimeoutMs = deps.options?.openTimeoutMs ?? 60_000;
    this.#maxTransfersPerPeer = deps.options?.maxTransfersPerPeer ?? DEFAULT_MAX_TRANSFERS_PER_PEER;
    this.#deadline = deps.options?.deadline ?? DEFAULT_DEADLINE;
    this.#chains = new ChainBook(this.#btrfs, this.#store, this.#logger, this.#clock);
    this.#copies = new CopyMaker(this.#btrfs, this.#store, this.#chains, this.#logger, this.#clock);
    this.#holder = new RestoreHolder(this.#btrfs, this.#store, this.#chains, this.#shares);
  }

  /** Transfers opened or streaming now. */
  get active(): { id: string; peer: string; share: string; snapshot: string; streaming: boolean }[] {
    return [...this.#pending.values()].map((t) => ({ id: t.id, peer: t.peer, share: t.request.share, snapshot: t.request.snapshot, streaming: t.streaming }));
  }

  /** The pool, if it takes this peer: it exists, and it has no grants or one for the peer. */
  #poolFor(peer: string, name: string): Pool {
    const pool = this.#store.pools.get(name);
    if (!pool) throw new FerryError('POOL_NOT_GRANTED', `there is no pool '${name}' on this appliance`);
    if (!this.#store.grants.admits(name, peer)) {
      throw new FerryError('POOL_NOT_GRANTED', `pool '${name}' is not granted to this peer (${peer}): its admin granted it to other peers only ('ferry pool grant ${name} ${peer}' there)`);
    }
    return pool;
  }

  /** The committed replicas of a share from a peer, oldest first. */
  async holdings(peer: string, query: HoldingsQuery): Promise<Replica[]> {
    validatePeerId(peer);
    validateShareName(query.share);
    const pool = this.#poolFor(peer, query.pool);
    const held = await this.#chains.held(peer, pool, query.share, query.shareUuid);
    const base = await this.#base(peer, pool, held, query.shareOrigin);
    this.#chains.checkSource(held, query.shareUuid, query.share, query.shareOrigin, base !== null);
    const replicas = held.replicas.map((r) => ({ name: r.name, receivedUuid: r.receivedUuid }));
    return base ? [...replicas, { name: base.name, receivedUuid: base.receivedUuid }] : replicas;
  }

  /**
   * Failback: the peer sends a share it made from one of its replicas of this
   * appliance's snapshots (its origin). When that snapshot is still here, was
   * sent to that peer, and sits on the pool's filesystem, it is the common
   * parent: offered in holdings, accepted as the parent of an open. btrfs
   * receive finds it through the filesystem's UUID tree, outside the chroot
   * of the replica directory (see proto/README.md, "Failback").
   */
  async #base(peer: string, pool: Pool, held: HeldChain, origin: string | null): Promise<(ChainReplica & { readonly path: string }) | null> {
    if (origin === null || held.replicas.some((r) => r.receivedUuid === origin)) return null;
    const found = await this.#sent(peer, origin);
    if (!found) return null;
    const [here, there] = await Promise.all([this.#btrfs.filesystemOf(found.path), this.#btrfs.filesystemOf(pool.path)]);
    if (!here || !there || here.device !== there.device) return null;
    const info = await this.#btrfs.show(found.path);
    return { name: found.name, uuid: info.uuid, receivedUuid: origin, parent: null, bytes: 0, committedAt: '', path: found.path };
  }

  /** Findings about the health of a pool this peer may write into, as the sender's policy will weigh them. */
  async poolHealth(peer: string, pool: string): Promise<HealthFinding[]> {
    return assessPool('target', await this.#btrfs.poolHealth(this.#poolFor(peer, pool).path));
  }

  /** Every chain on this appliance's pools, its replicas checked against the disk. */
  async chains(filter: { peer?: string; share?: string } = {}): Promise<ChainView[]> {
    const out: ChainView[] = [];
    for (const chain of this.#store.chains.list(filter)) {
      const pool = this.#store.pools.get(chain.pool);
      if (!pool) continue;
      const held = await this.#chains.held(chain.peer, pool, chain.share, null);
      if (held.replicas.length === 0) continue;
      const dir = replicaDir(pool.path, chain.peer, chain.share);
      out.push({ peer: chain.peer, pool: chain.pool, share: chain.share, sourceUuid: chain.sourceUuid, replicas: held.replicas.map((r) => ({ ...r, path: path.join(dir, r.name) })) });
    }
    return out;
  }

  /** A writable copy of a replica: `replica promote` or `replica clone`. */
  copy(request: CopyRequest): Promise<WritableCopy> {
    return this.#copies.make(request);
  }

  /** Deletes a test-failover clone. */
  discard(path: string): Promise<WritableCopy> {
    return this.#copies.discard(path);
  }

  /**
   * On the holder: what to send back for a restore the peer asks of its own
   * chain, the chain's lock held until `release` (./restore-holder.ts).
   */
  planRestore(peer: string, query: RestoreQuery): Promise<RestoreSource & { readonly release: () => void }> {
    return this.#holder.plan(peer, query);
  }

  /** Right before a restore's `btrfs send`: each path must still be the planned subvolume (./restore-holder.ts). */
  checkRestoreSource(source: RestoreSource): Promise<void> {
    return this.#holder.check(source);
  }

  /** On the asker: registers a restore before it is asked for; settles when its replica is committed or its transfer fails. */
  expectRestore(expectation: RestoreExpectation): Promise<RestoreArrival> {
    return this.#restores.expect(expectation);
  }

  /** The holder accepted: its transfer must open within `waitMs`. */
  restoreStarted(restoreId: string, waitMs: number): void {
    this.#restores.started(restoreId, waitMs);
  }

  /** The restore will not come (the request failed, or nothing needs sending). */
  cancelRestore(restoreId: string, err: FerryError): void {
    this.#restores.fail(restoreId, err);
  }

  async open(peer: string, request: TransferRequest): Promise<{ transferId: string }> {
    validatePeerId(peer);
    if (request.restoreId !== undefined) return this.#openRestore(peer, request);
    validateShareName(request.share);
    validateTaskName(request.task);
    if (!isSnapshotName(request.snapshot)) throw new FerryError('INVALID_NAME', `'${request.snapshot}' is not a snapshot name`);
    if (request.parent && !isSnapshotName(request.parent.name)) throw new FerryError('INVALID_NAME', `'${request.parent.name}' is not a snapshot name`);
    let pool: Pool;
    try {
      pool = this.#poolFor(peer, request.pool);
      this.#checkPeerBudget(peer, pool, shareKey(peer, pool, request.share));
    } catch (err) {
      this.#refuse(peer, request, toFerryError(err));
      throw err;
    }
    // The slot is taken now, not when the open is done: opens at once must not all pass the check.
    this.#opening.set(peer, (this.#opening.get(peer) ?? 0) + 1);
    try {
      return await this.#openIn(peer, request, pool);
    } finally {
      const left = (this.#opening.get(peer) ?? 1) - 1;
      if (left > 0) this.#opening.set(peer, left);
      else this.#opening.delete(peer);
    }
  }

  async #openIn(peer: string, request: TransferRequest, pool: Pool): Promise<{ transferId: string }> {
    const key = shareKey(peer, pool, request.share);
    const releaseShare = this.#shares.tryAcquire(key) ?? this.#supersede(peer, key);
    if (!releaseShare) {
      const err = new FerryError('SHARE_BUSY', `a transfer of share '${request.share}' from this peer is already streaming`);
      this.#refuse(peer, request, err);
      throw err;
    }
    const id = randomUUID();
    let quotaLeft: number | null;
    let parentPath: string | null = null;
    try {
      const held = await this.#chains.held(peer, pool, request.share, request.shareUuid);
      const base = await this.#base(peer, pool, held, request.shareOrigin);
      this.#chains.checkSource(held, request.shareUuid, request.share, request.shareOrigin, base !== null);
      if (held.replicas.some((r) => r.name === request.snapshot)) {
        throw new FerryError('ALREADY_EXISTS', `a replica named '${request.snapshot}' of share '${request.share}' exists already`);
      }
      const parent = request.parent
        ? (held.replicas.find((r) => r.name === request.parent?.name && r.receivedUuid === request.parent.uuid) ??
          (base && base.name === request.parent.name && base.receivedUuid === request.parent.uuid ? base : null))
        : null;
      if (request.parent && !parent) {
        const names = held.replicas.map((r) => r.name).join(', ') || 'none';
        throw new FerryError('PARENT_MISSING', `parent '${request.parent.name}' is not held here; replicas held of '${request.share}': ${names}`);
      }
      if (parent) parentPath = parent === base ? base.path : path.join(replicaDir(pool.path, peer, request.share), parent.name);
      quotaLeft = this.#quotaLeft(peer, pool.name, request.sizeEstimate);
      await this.#checkSpace(pool, request.sizeEstimate);
      await checkIdentities(this.#btrfs, pool.path, request, parent, this.#reserved());
      this.#startTrail(peer, request, this.#clock().toISOString(), null, parent !== null && parent === base);
    } catch (err) {
      releaseShare();
      this.#refuse(peer, request, toFerryError(err));
      throw err;
    }

    const expiry = this.#expiry(id);
    const dir = replicaDir(pool.path, peer, request.share);
    this.#pending.set(id, { id, peer, key, request, pool, dir, restore: null, quotaLeft, parentPath, releaseShare, expiry, streaming: false });
    this.#logger.info('transfer opened', { transferId: id, attemptId: request.attemptId, peer, share: request.share, snapshot: request.snapshot });
    return { transferId: id };
  }

  /**
   * Refuses, before any byte, a transfer announced larger than the pool's
   * free space (btrfs' own estimate): failing after half the stream has
   * streamed helps no one, and leaves the pool full. (A transfer without an
   * estimate is still cut by ENOSPC, as NO_SPACE.)
   */
  async #checkSpace(pool: Pool, sizeEstimate: number | null): Promise<void> {
    if (sizeEstimate === null) return;
    const free = await this.#btrfs.freeBytes(pool.path);
    if (sizeEstimate > free) {
      throw new FerryError('NO_SPACE', `the transfer is announced at ${formatBytes(sizeEstimate)}, and pool '${pool.name}' has ${formatBytes(free)} free: make room there, or grant another pool`);
    }
  }

  /**
   * Refuses a peer's open past its budget of transfers at once (an open of a
   * share it opened but never streamed replaces that one, so does not count
   * it). The budget is the pool's policy for the peer, else the default; it
   * counts the peer's transfers into every pool here.
   */
  #checkPeerBudget(peer: string, pool: Pool, key: string): void {
    const open = [...this.#pending.values()].filter((p) => p.peer === peer && !(p.key === key && !p.streaming)).length;
    const held = open + (this.#opening.get(peer) ?? 0);
    const most = this.#store.policies.effective(pool.name, peer).maxTransfers ?? this.#maxTransfersPerPeer;
    if (held >= most) {
      throw new FerryError('PEER_BUSY', `this peer has ${held} transfers open here, the most it may hold at once: the next waits for one to end`);
    }
  }

  /** Drops an opened transfer whose stream does not come in time. */
  #expiry(id: string): NodeJS.Timeout {
    const expiry = setTimeout(() => {
      const pending = this.#pending.get(id);
      if (pending && !pending.streaming) {
        this.#close(pending);
        this.#finish(pending, new FerryError('ABORTED', 'the transfer was opened but no stream arrived in time'), 0);
      }
    }, this.#openTimeoutMs);
    expiry.unref();
    return expiry;
  }

  /**
   * A transfer that brings back a restore this appliance asked for: into the
   * task's snapshot directory, with every check of the stream a replica gets,
   * but no chain, quota or retention (those are the holder's, for what it keeps).
   */
  async #openRestore(peer: string, request: TransferRequest): Promise<{ transferId: string }> {
    const restore = this.#restores.claim(peer, request);
    const key = `restore/${restore.dir}`;
    const releaseShare = this.#shares.tryAcquire(key);
    const id = randomUUID();
    try {
      if (!releaseShare) throw new FerryError('SHARE_BUSY', `a restore into ${restore.dir} is under way already`);
      const subvolumes = await this.#btrfs.listAll(restore.dir);
      // A subvolume whose own UUID it is (the snapshot it was sent from) holds the same data, and btrfs looks for received UUIDs first.
      const twin = subvolumes.find((s) => s.receivedUuid === request.snapshotUuid);
      if (twin) {
        // Said with its place: most often a snapshot an earlier restore or a removed task left, which holds the very data asked for.
        throw new FerryError('UUID_CONFLICT', `a subvolume restored from ${request.snapshotUuid} is on this filesystem already, at '${twin.path}' from its top level: make the share a writable snapshot of it, or delete it and restore again`);
      }
      if (this.#reserved().has(request.snapshotUuid)) throw new FerryError('UUID_CONFLICT', `a subvolume restored from ${request.snapshotUuid} is on its way into this filesystem already`);
      if (request.parent) {
        const name = restore.have.get(request.parent.uuid) ?? '';
        const own = await this.#btrfs.show(path.join(restore.dir, name)).catch(() => null);
        const problem = own ? resolutionProblem(subvolumes, request.parent.uuid, { uuid: own.uuid, name }) : `snapshot '${name}' is gone`;
        if (problem !== null) throw new FerryError('UUID_CONFLICT', `the restore's parent cannot be used safely: ${problem}`);
      }
      this.#startTrail(peer, request, this.#clock().toISOString(), restore);
    } catch (thrown) {
      const err = toFerryError(thrown);
      releaseShare?.();
      this.#restores.fail(restore.restoreId, err);
      throw err;
    }
    // The holder's pool name, for messages; nothing of a restore is filed under a pool here.
    const pool: Pool = { name: request.pool, path: restore.dir, createdAt: '' };
    const parentName = request.parent ? restore.have.get(request.parent.uuid) : undefined;
    const parentPath = parentName === undefined ? null : path.join(restore.dir, parentName);
    this.#pending.set(id, { id, peer, key, request, pool, dir: restore.dir, restore, quotaLeft: null, parentPath, releaseShare, expiry: this.#expiry(id), streaming: false });
    this.#logger.info('restore transfer opened', { transferId: id, restoreId: restore.restoreId, peer, share: request.share, snapshot: request.snapshot });
    return { transferId: id };
  }

  #reserved(): Set<string> {
    return new Set([...this.#pending.values()].map((t) => t.request.snapshotUuid));
  }

  /**
   * The same peer opening a share again while an earlier open of it waits for
   * its stream: the answer to that open was lost (a sender only opens again
   * when it has given up on the first), so the new one takes over instead of
   * failing with SHARE_BUSY until the first expires.
   */
  #supersede(peer: string, key: string): (() => void) | null {
    const stale = [...this.#pending.values()].find((t) => t.key === key && t.peer === peer && !t.streaming);
    if (!stale) return null;
    this.#close(stale);
    this.#finish(stale, new FerryError('ABORTED', 'superseded: the peer opened this share again before streaming (the answer to this open was probably lost)'), 0);
    this.#logger.warn('an open transfer was superseded by a new open of the same share', { peer, transferId: stale.id });
    return this.#shares.tryAcquire(key);
  }

  /** What the peer may still receive on the pool, refusing an estimate that would pass it. */
  #quotaLeft(peer: string, pool: string, estimate: number | null): number | null {
    const quota = this.#store.policies.effective(pool, peer).quotaBytes;
    if (quota === null) return null;
    const used = this.#store.chains.bytesHeld(peer, pool);
    const left = Math.max(0, quota - used);
    if (estimate !== null && estimate > left) {
      throw new FerryError('QUOTA_EXCEEDED', `this transfer of about ${formatBytes(estimate)} would pass this peer's quota on pool '${pool}': ${formatBytes(used)} of ${formatBytes(quota)} used`);
    }
    return left;
  }

  /** Drops a transfer that was opened but will never stream; its trail entry says why. */
  abort(peer: string, transferId: string, reason: FerryError): void {
    const pending = this.#pending.get(transferId);
    if (!pending || pending.peer !== peer || pending.streaming) return;
    this.#close(pending);
    this.#finish(pending, reason, 0);
  }

  /** Receives the stream of an opened transfer; resolves once the replica is committed. */
  async transfer(peer: string, transferId: string, stream: Readable, callerSignal: AbortSignal): Promise<TransferReceipt> {
    const pending = this.#pending.get(transferId);
    if (!pending || pending.peer !== peer) {
      throw new FerryError('NOT_FOUND', `no open transfer '${transferId.slice(0, 64)}' for this peer`);
    }
    if (pending.streaming) throw new FerryError('SHARE_BUSY', `transfer '${transferId}' is already streaming`);
    pending.streaming = true;
    clearTimeout(pending.expiry);
    const { request, pool, quotaLeft, dir } = pending;
    const jail = jailOf(dir, transferId);
    const { signal, stop } = this.#withDeadline(callerSignal, request.sizeEstimate);
    const counter = new ByteCounter({
      onProgress: (bytes) => {
        this.#store.receiveTrail.progress(request.attemptId, bytes);
        pending.restore?.onProgress?.(bytes);
      },
      ...(quotaLeft === null
        ? {}
        : { limit: { bytes: quotaLeft, error: () => new FerryError('QUOTA_EXCEEDED', `the stream passed this peer's quota on pool '${pool.name}' after ${formatBytes(quotaLeft)}`) } }),
    });
    const guard = new StreamGuard({
      stagingName: jail.name,
      checkHead: (head) => checkHead(head, request),
      // The parent was resolved to this chain's own replica in open().
      rules: { cloneSources: new Set([request.snapshotUuid, ...(request.parent ? [request.parent.uuid] : [])]) },
      // btrfs receive opens a clone's source from the mount root, outside the jail: no link on its way in the parent.
      ...(pending.parentPath && request.parent ? { linkFree: new Map([[request.parent.uuid, pending.parentPath]]) } : {}),
    });
    let made = false;
    try {
      if (!pending.restore) await makeReplicaDir(dir);
      await makeJail(jail);
      made = true;
      const { input, done } = this.#btrfs.receive({ dir: jail.dir, signal });
      // Both must succeed: a stream that errored may still have let `btrfs
      // receive` exit 0 at a command boundary (the false success of Rockstor #2215).
      const [piped, received] = await Promise.allSettled([pipeline(stream, counter, guard, input, { signal }), done]);
      // Pass or fail, what the stream made outside its subvolume refuses it first.
      await checkJail(this.#btrfs, jail);
      if (piped.status === 'rejected') throw piped.reason;
      if (received.status === 'rejected') throw received.reason;
      const receipt = await this.#commit(pending, jail, received.value.name, counter.bytes);
      this.#finish(pending, null, counter.bytes, receipt);
      return receipt;
    } catch (thrown) {
      // An abort's own reason (a stall, the sender's cancel, an unpairing) says more than the AbortError it caused.
      const err = signal.aborted && signal.reason instanceof FerryError && !isStreamRefusal(thrown) ? signal.reason : toFerryError(thrown);
      if (made) await this.#discardJail(jail.dir);
      this.#finish(pending, err, counter.bytes);
      throw err;
    } finally {
      stop();
      this.#close(pending);
    }
  }

  /** The caller's signal, aborted also when the stream runs past its deadline (TRANSFER_DEADLINE). */
  #withDeadline(signal: AbortSignal, size: number | null): { signal: AbortSignal; stop: () => void } {
    const ms = deadlineMs(size, this.#deadline);
    if (ms === null) return { signal, stop: () => undefined };
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new FerryError('TRANSFER_DEADLINE', `the transfer, announced at ${formatBytes(size ?? 0)}, ran past its deadline of ${formatDuration(Math.ceil(ms / 1000))} here`));
    }, ms);
    timer.unref();
    return { signal: AbortSignal.any([signal, controller.signal]), stop: () => clearTimeout(timer) };
  }

  async #commit(pending: PendingTransfer, jail: Jail, name: string, bytes: number): Promise<TransferReceipt> {
    const { request, peer, pool } = pending;
    const { staging } = jail;
    if (name !== jail.name) {
      throw new FerryError('RECEIVED_MISMATCH', `btrfs receive created '${name}', expected '${jail.name}'`);
    }
    const info = await this.#btrfs.show(staging);
    if (!info.readOnly || info.receivedUuid !== request.snapshotUuid) {
      throw new FerryError(
        'RECEIVED_MISMATCH',
        `received subvolume is ${info.readOnly ? 'read-only' : 'writable'} with received UUID ${info.receivedUuid ?? 'none'}; expected read-only with ${request.snapshotUuid}`,
      );
    }
    const target = path.join(pending.dir, request.snapshot);
    if (await exists(target)) throw new FerryError('ALREADY_EXISTS', `${pending.restore ? 'snapshot' : 'replica'} ${target} exists already`);
    // Out of the jail: a snapshot beside the replicas with the same received UUID (a read-only subvolume cannot change directory).
    const ready = path.join(pending.dir, jail.ready);
    await this.#btrfs.rehome({ receivedUuid: info.receivedUuid, generation: info.generation, dir: pending.dir, name: jail.ready });
    const moved = await this.#btrfs.show(ready);
    if (!moved.readOnly || moved.receivedUuid !== info.receivedUuid) {
      throw new FerryError('RECEIVED_MISMATCH', `the subvolume moved out of its jail is ${moved.readOnly ? 'read-only' : 'writable'} with received UUID ${moved.receivedUuid ?? 'none'}; expected read-only with ${info.receivedUuid}`);
    }
    await this.#discardJail(jail.dir);
    // The commit point: a rename within one directory, atomic.
    await rename(ready, target);
    if (pending.restore) {
      this.#logger.info('restored snapshot committed', { restoreId: pending.restore.restoreId, peer, share: request.share, snapshot: target });
      return { attemptId: request.attemptId, snapshot: request.snapshot, receivedUuid: info.receivedUuid, bytes, replicaPath: target, retention: null };
    }
    const chain = this.#chains.record(peer, pool.name, request.share, request.shareUuid, {
      name: request.snapshot,
      uuid: moved.uuid,
      receivedUuid: info.receivedUuid,
      parent: request.parent?.name ?? null,
      bytes,
      committedAt: this.#clock().toISOString(),
    });
    this.#logger.info('replica committed', { attemptId: request.attemptId, peer, share: request.share, replica: target, chain: chain.id });
    const retention = await this.#prune(pending);
    return { attemptId: request.attemptId, snapshot: request.snapshot, receivedUuid: info.receivedUuid, bytes, replicaPath: target, retention };
  }

  /** Deletes a transfer's jail and all in it: a partial subvolume, or what a stream made outside it, must never linger. */
  async #discardJail(where: string): Promise<void> {
    try {
      await discardIncoming(this.#btrfs, where);
    } catch (err) {
      this.#logger.error('could not delete what a transfer left', { jail: where, error: String(err) });
    }
  }

  /** Retention after a commit: the sender's request above the admin's floor. Returns what it did, for both trails. */
  async #prune(pending: PendingTransfer): Promise<string | null> {
    const { request, peer, pool } = pending;
    try {
      const held = await this.#chains.held(peer, pool, request.share, request.shareUuid);
      if (!held.chain) return null;
      const inFlight = [...this.#pending.values()].filter((t) => t.key === pending.key).map((t) => t.request.snapshot);
      const policy = this.#store.policies.effective(pool.name, peer);
      const decision = receiverRetention({ replicas: held.replicas, keep: request.keepRemote, inFlight, floor: policy, now: this.#clock() });
      for (const name of decision.remove) {
        await this.#chains.remove(held.chain, pool.path, name);
        this.#logger.info('replica pruned', { peer, share: request.share, replica: name });
      }
      return decision.summary;
    } catch (err) {
      this.#logger.warn('receiver retention failed', { peer, share: request.share, error: String(err) });
      return `retention failed: ${toFerryError(err).message}`;
    }
  }

  #close(pending: PendingTransfer): void {
    clearTimeout(pending.expiry);
    if (this.#pending.get(pending.id) === pending) this.#pending.delete(pending.id);
    pending.releaseShare();
  }

  #finish(pending: PendingTransfer, err: FerryError | null, bytes: number, receipt: TransferReceipt | null = null): void {
    if (pending.restore) {
      const { restoreId } = pending.restore;
      if (err || !receipt) this.#restores.fail(restoreId, err ?? new FerryError('INTERNAL', 'the restore ended without a snapshot'));
      else {
        this.#restores.arrived({
          restoreId,
          attemptId: pending.request.attemptId,
          snapshot: receipt.snapshot,
          path: receipt.replicaPath,
          receivedUuid: receipt.receivedUuid,
          parent: pending.request.parent?.name ?? null,
          bytes,
        });
      }
    }
    this.#store.receiveTrail.finish(pending.request.attemptId, {
      status: endStatusOf(err?.code ?? null),
      endedAt: this.#clock().toISOString(),
      bytes,
      errorCode: err?.code ?? null,
      error: err ? describeError(err) : null,
      replicaPath: receipt?.replicaPath ?? null,
      retention: receipt?.retention ?? null,
    });
  }

  #startTrail(peer: string, request: TransferRequest, startedAt: string, restore: RestoreExpectation | null = null, failback = false): void {
    this.#store.receiveTrail.start({
      id: request.attemptId,
      ...(restore ? { kind: 'restore' as const } : failback ? { kind: 'failback' as const } : {}),
      task: restore ? restore.task : request.task,
      share: request.share,
      snapshot: request.snapshot,
      parent: request.parent?.name ?? null,
      mode: request.parent ? 'incremental' : 'full',
      peer,
      pool: request.pool,
      reason: restore ? `restore ${restore.restoreId}` : null,
      startedAt,
    });
  }

  /** A refused open is logged; it lands in the trail too when its names were valid. */
  #refuse(peer: string, request: TransferRequest, err: FerryError): void {
    this.#logger.warn('transfer refused', { peer, attemptId: request.attemptId, share: request.share, code: err.code, error: err.message });
    try {
      if (this.#store.receiveTrail.get(request.attemptId)) return;
      const now = this.#clock().toISOString();
      this.#startTrail(peer, request, now);
      this.#store.receiveTrail.finish(request.attemptId, { status: 'failed', endedAt: now, bytes: 0, errorCode: err.code, error: describeError(err), replicaPath: null });
    } catch (trailErr) {
      // The refusal stands whether or not the trail could take it.
      this.#logger.error('could not record a refused transfer', { peer, attemptId: request.attemptId, error: String(trailErr) });
    }
  }

  /**
   * Partial subvolumes left by a crash hold nothing anyone will ever commit:
   * at start-up (all of them), and from the sweep job (the paths it found).
   * Staging of a transfer under way is left alone.
   */
  async cleanStaging(found?: readonly string[]): Promise<number> {
    const pools = this.#store.pools.list();
    let cleaned = 0;
    for (const staging of found ?? (await findStaging(pools))) {
      const transfer = stagingTransfer(staging, pools);
      if (transfer === null || this.#pending.has(transfer)) continue;
      await this.#discardJail(staging);
      cleaned++;
    }
    return cleaned;
  }
}
