// The receiving appliance's end of a transfer, and the authority over its
// pools, as a pipeline of parts each in its own file: admission decides
// before any byte whether a transfer may begin (./admission.ts), the stream
// session receives it into a jail through the whole-stream check
// (./session.ts), commit verifies and renames it into place and applies
// retention (./commit.ts), and the trail records each end (./trail.ts). The
// table of transfers under way they share is ./pending.ts; the holder's side
// of a restore is ./restore-holder.ts. This class wires them and is what the
// peer server and the admin service call.

import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Btrfs } from '../btrfs/index.js';
import type { ChainReplica, WritableCopy } from '../domain/chain.js';
import { FerryError, toFerryError } from '../domain/errors.js';
import { assessPool, type HealthFinding } from '../domain/health.js';
import type { Replica } from '../domain/snapshot.js';
import type { HoldingsQuery, RestoreQuery, TransferReceipt, TransferRequest } from '../domain/transfer.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { Store } from '../store/index.js';
import { KeyedLock } from '../util/lock.js';
import { Admission, type SentSnapshots } from './admission.js';
import { ChainBook } from './chains.js';
import { discardJail } from './commit.js';
import { CopyMaker, type CopyRequest } from './copies.js';
import { DEFAULT_DEADLINE, DEFAULT_MAX_TRANSFERS_PER_PEER, type ReceiverOptions } from './limits.js';
import { replicaDir } from './paths.js';
import { PendingTransfers, type ActiveTransfer, type PendingTransfer } from './pending.js';
import { RestoreHolder } from './restore-holder.js';
import { RestoreInbox, type RestoreArrival, type RestoreExpectation, type RestoreSource } from './restores.js';
import { receiveStream, type SessionDeps } from './session.js';
import { findStaging, stagingTransfer } from './staging.js';
import { ReceiveTrail } from './trail.js';
import { validatePeerId } from './validate.js';

export type { SentSnapshots } from './admission.js';

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
  readonly #chains: ChainBook;
  readonly #copies: CopyMaker;
  readonly #shares = new KeyedLock();
  readonly #pending = new PendingTransfers();
  readonly #restores = new RestoreInbox();
  readonly #holder: RestoreHolder;
  readonly #trail: ReceiveTrail;
  readonly #admission: Admission;
  readonly #session: SessionDeps;

  constructor(deps: { btrfs: Btrfs; store: Store; logger?: Logger; clock?: () => Date; options?: ReceiverOptions; sentSnapshots?: SentSnapshots }) {
    this.#btrfs = deps.btrfs;
    this.#store = deps.store;
    this.#logger = deps.logger ?? silentLogger;
    this.#clock = deps.clock ?? (() => new Date());
    this.#openTimeoutMs = deps.options?.openTimeoutMs ?? 60_000;
    this.#chains = new ChainBook(this.#btrfs, this.#store, this.#logger, this.#clock);
    this.#copies = new CopyMaker(this.#btrfs, this.#store, this.#chains, this.#logger, this.#clock);
    this.#holder = new RestoreHolder(this.#btrfs, this.#store, this.#chains, this.#shares);
    this.#trail = new ReceiveTrail(this.#store, this.#logger, this.#clock);
    this.#admission = new Admission({
      btrfs: this.#btrfs,
      store: this.#store,
      logger: this.#logger,
      chains: this.#chains,
      shares: this.#shares,
      pending: this.#pending,
      restores: this.#restores,
      trail: this.#trail,
      sent: deps.sentSnapshots ?? (() => Promise.resolve(null)),
      maxTransfersPerPeer: deps.options?.maxTransfersPerPeer ?? DEFAULT_MAX_TRANSFERS_PER_PEER,
      expiry: (id) => this.#expiry(id),
      drop: (pending, reason) => this.#end(pending, reason, 0),
    });
    this.#session = {
      btrfs: this.#btrfs,
      store: this.#store,
      chains: this.#chains,
      pending: this.#pending,
      logger: this.#logger,
      clock: this.#clock,
      deadline: deps.options?.deadline ?? DEFAULT_DEADLINE,
      onProgress: (p, n) => {
        this.#trail.progress(p.request.attemptId, n);
        p.restore?.onProgress?.(n);
      },
    };
  }

  /** Transfers opened or streaming now. */
  get active(): ActiveTransfer[] {
    return this.#pending.active;
  }

  /** The committed replicas of a share from a peer, oldest first. */
  holdings(peer: string, query: HoldingsQuery): Promise<Replica[]> {
    return this.#admission.holdings(peer, query);
  }

  /** Findings about the health of a pool this peer may write into, as the sender's policy will weigh them. */
  async poolHealth(peer: string, pool: string): Promise<HealthFinding[]> {
    return assessPool('target', await this.#btrfs.poolHealth(this.#admission.poolFor(peer, pool).path));
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

  /** Admits a transfer (./admission.ts); its stream must come within the open timeout. */
  async open(peer: string, request: TransferRequest): Promise<{ transferId: string }> {
    validatePeerId(peer);
    const opened = request.restoreId !== undefined ? await this.#admission.openRestore(peer, request) : await this.#admission.open(peer, request);
    return { transferId: opened.id };
  }

  /** Drops an opened transfer whose stream does not come in time. */
  #expiry(id: string): NodeJS.Timeout {
    const expiry = setTimeout(() => {
      const pending = this.#pending.get(id);
      if (pending && !pending.streaming) this.#end(pending, new FerryError('ABORTED', 'the transfer was opened but no stream arrived in time'), 0);
    }, this.#openTimeoutMs);
    expiry.unref();
    return expiry;
  }

  /** Drops a transfer that was opened but will never stream; its trail entry says why. */
  abort(peer: string, transferId: string, reason: FerryError): void {
    const pending = this.#pending.get(transferId);
    if (!pending || pending.peer !== peer || pending.streaming) return;
    this.#end(pending, reason, 0);
  }

  /** Receives the stream of an opened transfer; resolves once the replica is committed. */
  async transfer(peer: string, transferId: string, stream: Readable, callerSignal: AbortSignal): Promise<TransferReceipt> {
    const pending = this.#pending.get(transferId);
    if (!pending || pending.peer !== peer) {
      throw new FerryError('TRANSFER_NOT_FOUND', `no open transfer '${transferId.slice(0, 64)}' for this peer`);
    }
    if (pending.streaming) throw new FerryError('SHARE_BUSY', `transfer '${transferId}' is already streaming`);
    pending.streaming = true;
    clearTimeout(pending.expiry);
    let bytes = 0;
    try {
      const receipt = await receiveStream(this.#session, pending, stream, callerSignal, (n) => (bytes = n));
      this.#end(pending, null, bytes, receipt);
      return receipt;
    } catch (thrown) {
      const err = toFerryError(thrown);
      this.#end(pending, err, bytes);
      throw err;
    }
  }

  /** A transfer's end, whatever it was: out of the table, its share let go, a restore told, the trail finished. */
  #end(pending: PendingTransfer, err: FerryError | null, bytes: number, receipt: TransferReceipt | null = null): void {
    this.#pending.close(pending);
    if (pending.restore) {
      const { restoreId } = pending.restore;
      if (err) this.#restores.interrupted(restoreId, err);
      else if (!receipt) this.#restores.fail(restoreId, new FerryError('INTERNAL', 'the restore ended without a snapshot'));
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
    this.#trail.finish(pending.request, err, bytes, receipt);
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
      await discardJail({ btrfs: this.#btrfs, logger: this.#logger }, staging);
      cleaned++;
    }
    return cleaned;
  }
}
