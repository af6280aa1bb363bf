// Whether a transfer may begin, decided before any byte: the pool takes this
// peer (grants), the peer is within its budget of transfers at once, the
// share is the one its replica chain belongs to, the parent is this chain's
// own replica as btrfs will resolve it, the peer's quota and the pool's free
// space hold, and no UUID the stream carries names anything here yet.
//
// It works from one listing of the pool (`btrfs subvolume list`, not a `show`
// per replica): the one the sender's holdings query took, when nothing was
// made or deleted through this appliance's btrfs since and it is recent;
// else a fresh one. The opened transfer keeps it for commit and retention.

import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Btrfs, PoolListing } from '../btrfs/index.js';
import { resolutionProblem, type ChainReplica } from '../domain/chain.js';
import { FerryError, toFerryError } from '../domain/errors.js';
import { isSnapshotName, validateTaskName } from '../domain/names.js';
import type { Replica } from '../domain/snapshot.js';
import type { HoldingsQuery, TransferRequest } from '../domain/transfer.js';
import type { Logger } from '../log/logger.js';
import type { Pool, Store } from '../store/index.js';
import { formatBytes } from '../util/bytes.js';
import type { KeyedLock } from '../util/lock.js';
import type { ChainBook, HeldChain } from './chains.js';
import { checkIdentities } from './identity.js';
import { replicaDir } from './paths.js';
import type { PendingTransfer, PendingTransfers } from './pending.js';
import type { RestoreInbox } from './restores.js';
import { shareKey } from './stream-checks.js';
import type { ReceiveTrail } from './trail.js';
import { validatePeerId, validateShareName } from './validate.js';

/** How long the listing a holdings query took may serve the open that follows it. */
const LISTING_REUSE_MS = 30_000;
/** Listings kept for opens to come, at most (each is one pool's whole list): a peer asking holdings of many shares cannot grow it. */
const LISTINGS_KEPT = 16;

/**
 * Snapshots this appliance took and sent to a peer, found by identity: the
 * common ground for a share the peer promoted from its replica and now sends
 * back (failback). Only what was sent to that peer qualifies: a peer must
 * never get another of this appliance's subvolumes copied into its chain by
 * naming it as a parent.
 */
export type SentSnapshots = (peer: string, identity: string) => Promise<{ readonly name: string; readonly path: string } | null>;

export interface AdmissionDeps {
  readonly btrfs: Btrfs;
  readonly store: Store;
  readonly logger: Logger;
  readonly chains: ChainBook;
  readonly shares: KeyedLock;
  readonly pending: PendingTransfers;
  readonly restores: RestoreInbox;
  readonly trail: ReceiveTrail;
  readonly sent: SentSnapshots;
  readonly maxTransfersPerPeer: number;
  /** Arms the timer that drops an opened transfer whose stream does not come. */
  readonly expiry: (id: string) => NodeJS.Timeout;
  /** Ends a transfer that will never stream (superseded): closes it and finishes its trail. */
  readonly drop: (pending: PendingTransfer, reason: FerryError) => void;
}

export class Admission {
  readonly #d: AdmissionDeps;
  readonly #listed = new Map<string, { readonly listing: PoolListing; readonly at: number }>();

  constructor(deps: AdmissionDeps) {
    this.#d = deps;
  }

  /** The pool, if it takes this peer: it exists, and it has no grants or one for the peer. */
  poolFor(peer: string, name: string): Pool {
    const pool = this.#d.store.pools.get(name);
    if (!pool) throw new FerryError('POOL_NOT_GRANTED', `there is no pool '${name}' on this appliance`);
    if (!this.#d.store.grants.admits(name, peer)) {
      throw new FerryError('POOL_NOT_GRANTED', `pool '${name}' is not granted to this peer (${peer}): its admin granted it to other peers only ('ferry pool grant ${name} ${peer}' there)`);
    }
    return pool;
  }

  /** The committed replicas of a share from a peer, oldest first; the listing it took waits for the open that follows. */
  async holdings(peer: string, query: HoldingsQuery): Promise<Replica[]> {
    validatePeerId(peer);
    validateShareName(query.share);
    const pool = this.poolFor(peer, query.pool);
    const listing = await this.#d.btrfs.listing(pool.path);
    const held = await this.#d.chains.held(peer, pool, query.share, query.shareUuid, listing);
    const base = await this.#base(peer, pool, held, query.shareOrigin);
    this.#d.chains.checkSource(held, query.shareUuid, query.share, query.shareOrigin, base !== null);
    this.#keep(shareKey(peer, pool, query.share), listing);
    const replicas = held.replicas.map((r) => ({ name: r.name, receivedUuid: r.receivedUuid }));
    return base ? [...replicas, { name: base.name, receivedUuid: base.receivedUuid }] : replicas;
  }

  #keep(key: string, listing: PoolListing): void {
    this.#listed.delete(key);
    this.#listed.set(key, { listing, at: performance.now() });
    for (const oldest of this.#listed.keys()) {
      if (this.#listed.size <= LISTINGS_KEPT) break;
      this.#listed.delete(oldest);
    }
  }

  /** The listing kept for this share, once, if nothing changed through btrfs since and it is recent; else a fresh one. */
  async #listingFor(key: string, pool: Pool): Promise<PoolListing> {
    const kept = this.#listed.get(key);
    this.#listed.delete(key);
    if (kept && kept.listing.changes === this.#d.btrfs.changes && performance.now() - kept.at < LISTING_REUSE_MS) return kept.listing;
    return this.#d.btrfs.listing(pool.path);
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
    const found = await this.#d.sent(peer, origin);
    if (!found) return null;
    const [here, there] = await Promise.all([this.#d.btrfs.filesystemOf(found.path), this.#d.btrfs.filesystemOf(pool.path)]);
    if (!here || !there || here.device !== there.device) return null;
    const info = await this.#d.btrfs.show(found.path);
    return { name: found.name, uuid: info.uuid, receivedUuid: origin, parent: null, bytes: 0, committedAt: '', path: found.path };
  }

  /** Admits a replica's transfer, or refuses it (logged, and in the trail when its names were valid). */
  async open(peer: string, request: TransferRequest): Promise<PendingTransfer> {
    validateShareName(request.share);
    validateTaskName(request.task);
    if (!isSnapshotName(request.snapshot)) throw new FerryError('INVALID_NAME', `'${request.snapshot}' is not a snapshot name`);
    if (request.parent && !isSnapshotName(request.parent.name)) throw new FerryError('INVALID_NAME', `'${request.parent.name}' is not a snapshot name`);
    let pool: Pool;
    try {
      pool = this.poolFor(peer, request.pool);
      this.#checkPeerBudget(peer, pool, shareKey(peer, pool, request.share));
    } catch (err) {
      this.#d.trail.refuse(peer, request, toFerryError(err));
      throw err;
    }
    return this.#d.pending.opening(peer, () => this.#openIn(peer, request, pool));
  }

  async #openIn(peer: string, request: TransferRequest, pool: Pool): Promise<PendingTransfer> {
    const { chains, pending, trail } = this.#d;
    const key = shareKey(peer, pool, request.share);
    const releaseShare = this.#d.shares.tryAcquire(key) ?? this.#supersede(peer, key);
    if (!releaseShare) {
      const err = new FerryError('SHARE_BUSY', `a transfer of share '${request.share}' from this peer is already streaming`);
      trail.refuse(peer, request, err);
      throw err;
    }
    let quotaLeft: number | null;
    let parentPath: string | null = null;
    let listing: PoolListing;
    try {
      listing = await this.#listingFor(key, pool);
      const held = await chains.held(peer, pool, request.share, request.shareUuid, listing);
      const base = await this.#base(peer, pool, held, request.shareOrigin);
      chains.checkSource(held, request.shareUuid, request.share, request.shareOrigin, base !== null);
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
      checkIdentities(listing.subvolumes, request, parent, pending.reserved());
      trail.start(peer, request, { failback: parent !== null && parent === base });
    } catch (err) {
      releaseShare();
      trail.refuse(peer, request, toFerryError(err));
      throw err;
    }
    const id = randomUUID();
    const dir = replicaDir(pool.path, peer, request.share);
    const opened: PendingTransfer = { id, peer, key, request, pool, dir, restore: null, quotaLeft, parentPath, listing, releaseShare, expiry: this.#d.expiry(id), streaming: false };
    pending.add(opened);
    this.#d.logger.info('transfer opened', { transferId: id, attemptId: request.attemptId, peer, share: request.share, snapshot: request.snapshot });
    return opened;
  }

  /**
   * A transfer that brings back a restore this appliance asked for: into the
   * task's snapshot directory, with every check of the stream a replica gets,
   * but no chain, quota or retention (those are the holder's, for what it keeps).
   */
  async openRestore(peer: string, request: TransferRequest): Promise<PendingTransfer> {
    const { btrfs, pending, restores, trail } = this.#d;
    const restore = restores.claim(peer, request);
    const key = `restore/${restore.dir}`;
    const releaseShare = this.#d.shares.tryAcquire(key);
    try {
      if (!releaseShare) throw new FerryError('SHARE_BUSY', `a restore into ${restore.dir} is under way already`);
      const subvolumes = await btrfs.listAll(restore.dir);
      // A subvolume whose own UUID it is (the snapshot it was sent from) holds the same data, and btrfs looks for received UUIDs first.
      const twin = subvolumes.find((s) => s.receivedUuid === request.snapshotUuid);
      if (twin) {
        // Said with its place: most often a snapshot an earlier restore or a removed task left, which holds the very data asked for.
        throw new FerryError('UUID_CONFLICT', `a subvolume restored from ${request.snapshotUuid} is on this filesystem already, at '${twin.path}' from its top level: make the share a writable snapshot of it, or delete it and restore again`);
      }
      if (pending.reserved().has(request.snapshotUuid)) throw new FerryError('UUID_CONFLICT', `a subvolume restored from ${request.snapshotUuid} is on its way into this filesystem already`);
      if (request.parent) {
        const name = restore.have.get(request.parent.uuid) ?? '';
        const own = await btrfs.show(path.join(restore.dir, name)).catch(() => null);
        const problem = own ? resolutionProblem(subvolumes, request.parent.uuid, { uuid: own.uuid, name }) : `snapshot '${name}' is gone`;
        if (problem !== null) throw new FerryError('UUID_CONFLICT', `the restore's parent cannot be used safely: ${problem}`);
      }
      trail.start(peer, request, { restore });
    } catch (thrown) {
      const err = toFerryError(thrown);
      releaseShare?.();
      restores.fail(restore.restoreId, err);
      throw err;
    }
    const id = randomUUID();
    // The holder's pool name, for messages; nothing of a restore is filed under a pool here.
    const pool: Pool = { name: request.pool, path: restore.dir, createdAt: '' };
    const parentName = request.parent ? restore.have.get(request.parent.uuid) : undefined;
    const parentPath = parentName === undefined ? null : path.join(restore.dir, parentName);
    const opened: PendingTransfer = { id, peer, key, request, pool, dir: restore.dir, restore, quotaLeft: null, parentPath, listing: null, releaseShare, expiry: this.#d.expiry(id), streaming: false };
    pending.add(opened);
    this.#d.logger.info('restore transfer opened', { transferId: id, restoreId: restore.restoreId, peer, share: request.share, snapshot: request.snapshot });
    return opened;
  }

  /**
   * The same peer opening a share again while an earlier open of it waits for
   * its stream: the answer to that open was lost (a sender only opens again
   * when it has given up on the first), so the new one takes over instead of
   * failing with SHARE_BUSY until the first expires.
   */
  #supersede(peer: string, key: string): (() => void) | null {
    const stale = this.#d.pending.stale(peer, key);
    if (!stale) return null;
    this.#d.drop(stale, new FerryError('ABORTED', 'superseded: the peer opened this share again before streaming (the answer to this open was probably lost)'));
    this.#d.logger.warn('an open transfer was superseded by a new open of the same share', { peer, transferId: stale.id });
    return this.#d.shares.tryAcquire(key);
  }

  /** What the peer may still receive on the pool, refusing an estimate that would pass it. */
  #quotaLeft(peer: string, pool: string, estimate: number | null): number | null {
    const quota = this.#d.store.policies.effective(pool, peer).quotaBytes;
    if (quota === null) return null;
    const used = this.#d.store.chains.bytesHeld(peer, pool);
    const left = Math.max(0, quota - used);
    if (estimate !== null && estimate > left) {
      throw new FerryError('QUOTA_EXCEEDED', `this transfer of about ${formatBytes(estimate)} would pass this peer's quota on pool '${pool}': ${formatBytes(used)} of ${formatBytes(quota)} used`);
    }
    return left;
  }

  /**
   * Refuses, before any byte, a transfer announced larger than the pool's
   * free space (btrfs' own estimate): failing after half the stream has
   * streamed helps no one, and leaves the pool full. (A transfer without an
   * estimate is still cut by ENOSPC, as NO_SPACE.)
   */
  async #checkSpace(pool: Pool, sizeEstimate: number | null): Promise<void> {
    if (sizeEstimate === null) return;
    const free = await this.#d.btrfs.freeBytes(pool.path);
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
    const held = this.#d.pending.heldBy(peer, key);
    const most = this.#d.store.policies.effective(pool.name, peer).maxTransfers ?? this.#d.maxTransfersPerPeer;
    if (held >= most) {
      throw new FerryError('PEER_BUSY', `this peer has ${held} transfers open here, the most it may hold at once: the next waits for one to end`);
    }
  }
}
