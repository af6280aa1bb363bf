// The sending appliance's view of a paired receiver over HTTP: the same
// holdings/open/transfer the replication driver calls on an in-process receiver
// (src/replication/endpoints.ts ReceiverEndpoint, matched structurally: this
// layer may not import replication). Every request is signed, every answer's
// signature is checked against the peer's stored key and this request's nonce,
// and refusals come back as FerryErrors with the receiver's code.
//
// Over 300 lines because it has a method per peer route (holdings, restore,
// open, transfer, abort, ...), each signing its request and checking its
// answer the same way; the upload with its abort notice is the longest.

import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { DEFAULT_CHUNK_SIZE, encodeStreamHeader } from '../../proto/frame.js';
import { fromBase64url } from '../../proto/ids.js';
import {
  Hello,
  HoldingsResponse,
  OpenTransferResponse,
  PoolHealthResponse,
  Receipt,
  routes,
  type HealthFinding,
  RestorePlan,
  ConfigBackupResponse,
  UnpairResponse,
  type AbortReason,
  type HoldingsRequest,
  type OpenTransferRequest,
  type RestoreRequest,
} from '../../proto/messages.js';
import { bodyDigest } from '../../proto/signing.js';
import { createSealer, senderStreamKey, type Identity } from '../crypto/index.js';
import { FerryError } from '../domain/errors.js';
import type { Replica } from '../domain/snapshot.js';
import type { HoldingsQuery, RestorePlan as DomainRestorePlan, RestoreQuery, TransferRequest } from '../domain/transfer.js';
import { answer, defaultTimeouts, exchange, networkError, refusal, urlFor, type PeerTimeouts } from './http.js';
import type { PeerRecord } from './ports.js';
import { watchStall } from './upload.js';

export type { PeerTimeouts } from './http.js';

/** An admin's cancel (`ferry task cancel`), as the run's abort reason. */
function isCancel(reason: unknown): boolean {
  return reason instanceof FerryError && reason.code === 'CANCELLED';
}

/** How long a failed transfer waits for the peer to take note of its DELETE. */
const ABORT_NOTICE_MS = 5_000;

export interface PeerClientOptions {
  readonly identity: Identity;
  readonly peer: PeerRecord;
  /** Milliseconds since the epoch (Date.now). */
  readonly clock?: () => number;
  /** undici dispatcher (an Agent with its own connect timeout, a MockAgent in tests); default the global one. */
  readonly dispatcher?: Dispatcher;
  readonly timeouts?: PeerTimeouts;
  /** Plaintext bytes per sealed chunk; default proto's DEFAULT_CHUNK_SIZE (256 KiB). */
  readonly chunkSize?: number;
}

interface Opened {
  readonly salt: Uint8Array;
  readonly expiresAt: number;
  readonly attemptId: string;
  readonly snapshot: string;
}

export class PeerClient {
  readonly peer: PeerRecord;
  readonly #identity: Identity;
  readonly #clock: (() => number) | undefined;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #timeouts: Required<PeerTimeouts>;
  readonly #chunkSize: number;
  readonly #label: string;
  /** Transfers opened and not yet streamed: the salt the stream header must carry. */
  readonly #opened = new Map<string, Opened>();

  constructor(options: PeerClientOptions) {
    this.peer = options.peer;
    this.#identity = options.identity;
    this.#clock = options.clock;
    this.#dispatcher = options.dispatcher;
    this.#timeouts = { ...defaultTimeouts, ...options.timeouts };
    this.#chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.#label = `peer ${options.peer.name} (${options.peer.id})`;
  }

  /** The replicas the peer holds of a share from this appliance, oldest first. */
  async holdings(request: HoldingsQuery, signal?: AbortSignal): Promise<Replica[]> {
    const body: HoldingsRequest = { share: request.share, pool: request.pool, shareUuid: request.shareUuid, shareOrigin: request.shareOrigin };
    const answered = await this.#json('POST', routes.holdings.path, body, signal);
    const response = answer(answered, HoldingsResponse, 'holdings answer', this.#label);
    if (response.share !== request.share || response.pool !== request.pool) {
      throw new FerryError('INTERNAL', `${this.#label} answered holdings of another share or pool`);
    }
    return response.replicas.map((r) => ({ name: r.name, receivedUuid: r.receivedUuid }));
  }

  /** Asks the peer for a replica of what this appliance sent it; the peer then uploads it here as a transfer. */
  async restore(query: RestoreQuery, signal?: AbortSignal): Promise<DomainRestorePlan> {
    const body: RestoreRequest = { restoreId: query.restoreId, share: query.share, pool: query.pool, snapshot: query.snapshot, have: [...query.have] };
    const answered = await this.#json('POST', routes.restore.path, body, signal);
    const plan = answer(answered, RestorePlan, 'restore plan', this.#label);
    if (plan.restoreId !== query.restoreId) throw new FerryError('INTERNAL', `${this.#label} answered another restore`);
    return plan;
  }

  /** Leaves this appliance's sealed configuration export with the peer. */
  async keepConfig(sealed: string, signal?: AbortSignal): Promise<{ bytes: number; storedAt: string }> {
    const answered = await this.#json('POST', routes.configBackup.path, { sealed }, signal);
    return answer(answered, ConfigBackupResponse, 'config backup answer', this.#label);
  }

  /** Tells the peer this appliance's admin removed it: it forgets this appliance too. How many of its tasks it paused. */
  async unpair(signal?: AbortSignal): Promise<{ tasksPaused: number }> {
    const answered = await this.#json('POST', routes.unpair.path, {}, signal);
    return answer(answered, UnpairResponse, 'unpair answer', this.#label);
  }

  /** Findings about the health of a pool on the peer. */
  async poolHealth(request: { pool: string }, signal?: AbortSignal): Promise<HealthFinding[]> {
    const answered = await this.#json('POST', routes.poolHealth.path, { pool: request.pool }, signal);
    const response = answer(answered, PoolHealthResponse, 'pool health answer', this.#label);
    if (response.pool !== request.pool) throw new FerryError('INTERNAL', `${this.#label} answered the health of another pool`);
    return response.findings;
  }

  /** Opens a transfer on the peer; keeps its salt for transfer(). */
  async open(request: TransferRequest, signal?: AbortSignal): Promise<{ transferId: string }> {
    const body: OpenTransferRequest = {
      attemptId: request.attemptId,
      task: request.task,
      share: request.share,
      shareUuid: request.shareUuid,
      shareOrigin: request.shareOrigin,
      ...(request.restoreId === undefined ? {} : { restoreId: request.restoreId }),
      pool: request.pool,
      snapshot: request.snapshot,
      snapshotUuid: request.snapshotUuid,
      parent: request.parent === null ? null : { name: request.parent.name, uuid: request.parent.uuid },
      sizeEstimate: request.sizeEstimate,
      keepRemote: request.keepRemote,
    };
    const answered = await this.#json('POST', routes.openTransfer.path, body, signal);
    const response = answer(answered, OpenTransferResponse, 'open-transfer answer', this.#label);
    // Forget transfers never streamed whose upload window has long closed.
    const stale = Math.floor((this.#clock ?? Date.now)() / 1000) - 3600;
    for (const [id, opened] of this.#opened) if (opened.expiresAt < stale) this.#opened.delete(id);
    this.#opened.set(response.transferId, {
      salt: fromBase64url(response.salt) as Uint8Array,
      expiresAt: response.expiresAt,
      attemptId: request.attemptId,
      snapshot: request.snapshot,
    });
    return { transferId: response.transferId };
  }

  /**
   * Seals `stream` (the btrfs send stream) and uploads it with backpressure end
   * to end: memory stays at a few chunks whatever the size. Resolves with the
   * verified receipt once the peer committed the replica. Rejects with the
   * stream's own error if it fails (SEND_FAILED...), the peer's code if it
   * refuses, PEER_UNREACHABLE if the connection breaks or the peer stops reading.
   */
  async transfer(transferId: string, stream: Readable, signal?: AbortSignal): Promise<Receipt> {
    const opened = this.#opened.get(transferId);
    if (!opened) {
      stream.destroy();
      throw new FerryError('TRANSFER_NOT_FOUND', `transfer ${transferId} was not opened by this client`);
    }
    this.#opened.delete(transferId);
    const { key, ephemeralPublicKey } = senderStreamKey({
      senderBox: this.#identity.box,
      receiverBoxPublicKey: this.peer.boxPublicKey,
      salt: opened.salt,
      transferId,
    });
    const header = encodeStreamHeader({ chunkSize: this.#chunkSize, salt: opened.salt, ephemeralPublicKey, transferId });
    const sealer = createSealer(key, { header, chunkSize: this.#chunkSize });
    key.fill(0);

    // Our own watch: the peer leaving sealed bytes unread too long, or taking too long to answer after the last byte.
    const local = new AbortController();
    // An admin's cancel is told to the peer before the upload is cut, so its trail says cancelled, not a broken stream.
    // Once every sealed byte went out, the peer is committing: a cancel then changes nothing, and the answer
    // (a receipt, or the peer's refusal) is the one outcome both trails record.
    let allOut = false;
    const onOuterAbort = (): void => {
      if (allOut && isCancel(signal?.reason)) return;
      if (!isCancel(signal?.reason)) return local.abort(signal?.reason);
      void this.abort(transferId, AbortSignal.timeout(ABORT_NOTICE_MS), 'cancelled')
        .catch(() => undefined)
        .finally(() => local.abort(signal?.reason));
    };
    if (signal?.aborted) local.abort(signal.reason);
    else signal?.addEventListener('abort', onOuterAbort, { once: true });
    let sourceError: unknown = null;
    pipeline(stream, sealer, (err) => {
      if (err) sourceError ??= err;
    });
    let commitTimer: NodeJS.Timeout | null = null;
    sealer.once('end', () => {
      // Every sealed byte went out: from here the peer commits, under the commit timeout.
      allOut = true;
      stopWatch();
      commitTimer = setTimeout(
        () => local.abort(new FerryError('PEER_UNREACHABLE', `${this.#label} did not answer within ${Math.round(this.#timeouts.commitMs / 1000)} s of the last byte`)),
        this.#timeouts.commitMs,
      );
      commitTimer.unref();
    });
    const stopWatch = watchStall({
      timeoutMs: this.#timeouts.stallMs,
      progress: () => sealer.bytesOut - sealer.readableLength,
      // Idle only counts while sealed bytes wait for the network; a slow btrfs send is not the peer's stall.
      busy: () => sealer.readableLength === 0,
      onStall: () =>
        local.abort(new FerryError('PEER_UNREACHABLE', `${this.#label} stopped reading the upload for ${Math.round(this.#timeouts.stallMs / 1000)} s`)),
    });
    let answered: Awaited<ReturnType<typeof exchange>> | null = null;
    try {
      answered = await exchange({
        identity: this.#identity,
        responder: this.#responder(),
        address: this.peer.address,
        method: 'PUT',
        path: routes.uploadStream.path(transferId),
        stream: { body: sealer, digest: bodyDigest(header) },
        dispatcher: this.#dispatcher,
        signal: local.signal,
        clock: this.#clock,
        headersTimeout: 0,
        bodyTimeout: this.#timeouts.requestMs,
      });
      if (answered.status < 200 || answered.status > 299) throw refusal(answered, this.#label);
      const receipt = answer(answered, Receipt, 'receipt', this.#label);
      if (receipt.transferId !== transferId || receipt.attemptId !== opened.attemptId || receipt.snapshot !== opened.snapshot) {
        throw new FerryError('RECEIVED_MISMATCH', `${this.#label} sent a receipt for another transfer`);
      }
      if (receipt.bytes !== sealer.bytesIn) {
        throw new FerryError('RECEIVED_MISMATCH', `${this.#label} received ${receipt.bytes} bytes of the ${sealer.bytesIn} sent`);
      }
      return receipt;
    } catch (err) {
      // No answer came (our stream failed, the connection broke, we gave up): tell the peer to drop the
      // transfer now rather than hold the share lock until it expires. Best effort, briefly.
      if (answered === null) await this.abort(transferId, AbortSignal.timeout(ABORT_NOTICE_MS), isCancel(signal?.reason) ? 'cancelled' : undefined).catch(() => undefined);
      // The send stream's own failure explains more than the broken upload it caused.
      if (sourceError instanceof FerryError) throw sourceError;
      throw err;
    } finally {
      stopWatch();
      if (commitTimer) clearTimeout(commitTimer);
      signal?.removeEventListener('abort', onOuterAbort);
      if (!sealer.destroyed && !sealer.readableEnded) sealer.destroy();
    }
  }

  /** Asks the peer to drop a transfer (opened or streaming). */
  async abort(transferId: string, signal?: AbortSignal, reason?: AbortReason): Promise<void> {
    this.#opened.delete(transferId);
    const answered = await this.#exchange('DELETE', routes.abortTransfer.path(transferId, reason), undefined, signal);
    if (answered.status !== 204) throw refusal(answered, this.#label);
  }

  #responder(): { id: string; signingPublicKey: Uint8Array; label: string } {
    return { id: this.peer.id, signingPublicKey: this.peer.signingPublicKey, label: this.#label };
  }

  #json(method: 'POST', path: string, json: unknown, signal: AbortSignal | undefined): ReturnType<typeof exchange> {
    return this.#exchange(method, path, json, signal);
  }

  #exchange(method: 'POST' | 'DELETE', path: string, json: unknown, signal: AbortSignal | undefined): ReturnType<typeof exchange> {
    return exchange({
      identity: this.#identity,
      responder: this.#responder(),
      address: this.peer.address,
      method,
      path,
      ...(json === undefined ? {} : { json }),
      dispatcher: this.#dispatcher,
      signal,
      clock: this.#clock,
      headersTimeout: this.#timeouts.requestMs,
      bodyTimeout: this.#timeouts.requestMs,
    });
  }
}

/** Unsigned: who answers at `address` (for diagnostics and before pairing). */
export async function hello(address: string, options: { dispatcher?: Dispatcher; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Hello> {
  const { url } = urlFor(address, routes.hello.path);
  const timeout = options.timeoutMs ?? defaultTimeouts.requestMs;
  const label = `the appliance at ${address}`;
  try {
    const response = await undiciRequest(url, {
      method: 'GET',
      headersTimeout: timeout,
      bodyTimeout: timeout,
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new FerryError('PEER_UNREACHABLE', `${label} answered HTTP ${response.statusCode} to hello`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = Hello.safeParse(json);
    if (!parsed.success) throw new FerryError('PEER_UNREACHABLE', `${label} is not a Ferry appliance (no valid hello)`);
    return parsed.data;
  } catch (err) {
    throw networkError(err, { signal: options.signal, responder: { id: '', signingPublicKey: new Uint8Array(0), label }, address });
  }
}
