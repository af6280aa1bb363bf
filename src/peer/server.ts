// The peer API server: fastify, routes of proto/messages.ts. Every request but
// `hello` is checked in an onRequest hook, in the order of proto/README.md and
// before any body byte is read or the receiver is called: version, header
// syntax, audience, time, paired sender, nonce, signature. Then the body must
// match the signed digest (JSON bodies in a bounded content-type parser; the
// stream upload by its stream header). Every refusal is an ErrorBody with the
// status of proto/errors.ts, logged with its code. Only the answer to a
// request whose signature verified is signed: signing a refusal of an
// unverified one would hand a man in the middle a signed answer to any nonce
// it names. (A verified request whose body then fails its digest is answered
// signed: its sender and nonce are authentic, and the sender learns from an
// answer it can trust that its body was changed in transit.)
//
// Connections have budgets (util/listener-budgets.ts): headers and JSON
// bodies must arrive in time, and until a request on it verifies, a
// connection may live only so long, and only so many may be held per address
// and in total (util/connection-guard.ts).

import { randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ProtocolError } from '../../proto/errors.js';
import { TRANSFER_ID_PATTERN } from '../../proto/frame.js';
import { APPLIANCE_ID_PATTERN, NONCE_PATTERN, toBase64url } from '../../proto/ids.js';
import {
  HoldingsRequest,
  OpenTransferRequest,
  PoolHealthRequest,
  type PoolHealthResponse,
  PairAcceptRequest,
  RestoreRequest,
  AbortQuery,
  CONFIG_BACKUP_LIMIT,
  ConfigBackupRequest,
  type ConfigBackupResponse,
  UnpairRequest,
  type UnpairResponse,
  routes,
  type RestorePlan,
  type Hello,
  type HoldingsResponse,
  type OpenTransferResponse,
  type PairAcceptResponse,
  type Receipt,
} from '../../proto/messages.js';
import { bodyDigest, checkRequestHeaders, EMPTY_BODY_DIGEST, HEADERS, type SignedRequestHeaders } from '../../proto/signing.js';
import { API_PREFIX, PROTOCOL_VERSION } from '../../proto/version.js';
import { createOpener, receiverStreamKey, type Identity } from '../crypto/index.js';
import { FerryError, toFerryError } from '../domain/errors.js';
import type { TransferReceipt } from '../domain/transfer.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { serverLogging } from '../log/server-logging.js';
import { abortReason } from '../util/backoff.js';
import { ConnectionGuard, type CutReason } from '../util/connection-guard.js';
import { peerBudget, serverSettings, type ListenerBudget } from '../util/listener-budgets.js';
import { fromProtocolError, toWireError, wireError, type WireError } from './errors.js';
import { nonceExpiry, pairAcceptResponse, verifyAcceptRequest } from './pairing.js';
import type { NonceCache, PairingPort, PeerDirectory, PeerRecord, ReceiverPort } from './ports.js';
import { idOf, signResponse, unixNow, verifyRequestSignature } from './signing.js';
import { TransferTable, type IssuedTransfer } from './transfers.js';
import { drain, feed, readStreamHeader, watchStall, type RateFloor } from './upload.js';

export interface PeerServerLimits {
  /** Largest JSON request body, in bytes. Default 64 KiB. */
  readonly bodyLimit?: number;
  /** An upload with no bytes for this long (and none held back by us) is aborted. Default 60 s. */
  readonly stallTimeoutMs?: number;
  /** An upload that moves less than this over the window (none held back by us) is aborted. Default 1 KiB/s over 5 minutes. */
  readonly rateFloor?: RateFloor;
  /** How long an opened transfer waits for its upload (the OpenTransferResponse's expiresAt). Default 60 s. */
  readonly openTimeoutMs?: number;
  /** After a failed upload, how long the rest of its body is read and discarded before the connection is cut. Default 10 s. */
  readonly drainMs?: number;
}

export interface PeerServerOptions {
  readonly identity: Identity;
  /** This appliance's name, for `hello` and pairing answers; a function to follow renames. */
  readonly name: string | (() => string);
  readonly peers: PeerDirectory;
  readonly nonces: NonceCache;
  readonly receiver: ReceiverPort;
  readonly pairing: PairingPort;
  readonly logger?: Logger;
  /** Milliseconds since the epoch (Date.now). */
  readonly clock?: () => number;
  readonly limits?: PeerServerLimits;
  /** The connection budget; default peerBudget. */
  readonly budget?: ListenerBudget;
  /** Told of every connection the budget cut before a request on it verified. */
  readonly onConnectionCut?: (address: string, reason: CutReason) => void;
}

export interface PeerServerControls {
  /**
   * Aborts every upload of `peerId` now and drops its opened transfers: for an
   * unpairing mid-transfer (removal from the PeerDirectory already refuses its
   * next request). Returns how many uploads were aborted.
   */
  abortPeer(peerId: string): number;
}

export type PeerServer = FastifyInstance & PeerServerControls & { readonly connections: ConnectionGuard };

export const DEFAULT_STALL_TIMEOUT_MS = 60_000;
/** Far below any real link (8 kbit/s), far above a trickle. */
export const DEFAULT_RATE_FLOOR: RateFloor = { bytesPerSecond: 1024, windowMs: 300_000 };
export const DEFAULT_OPEN_TIMEOUT_MS = 60_000;
export const DEFAULT_DRAIN_MS = 10_000;

const UPLOAD_ROUTE = `${API_PREFIX}/transfers/:transferId/stream`;
const ABORT_ROUTE = `${API_PREFIX}/transfers/:transferId`;

type Auth = 'none' | 'pairing' | 'peer';

/** What the hooks learned of a request, for the routes and the answer's signature. */
interface RequestState {
  /** Set as soon as the sender and nonce headers are well-formed: the answer is signed to them. */
  replyTo?: { audience: string; nonce: string };
  signed?: SignedRequestHeaders;
  /** The verified sender (absent on the pairing route, whose key is in the body). */
  peer?: PeerRecord;
  /** The signature verified (with a paired peer's key, or on the pairing route the key in the body). */
  verified: boolean;
  bodyChecked: boolean;
  upload: boolean;
}

function authOf(route: string | undefined): Auth {
  if (route === routes.hello.path) return 'none';
  if (route === routes.pairAccept.path) return 'pairing';
  return 'peer';
}

export function createPeerServer(options: PeerServerOptions): PeerServer {
  const { identity, peers, nonces, receiver, pairing } = options;
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? Date.now;
  const nameOf = typeof options.name === 'function' ? options.name : () => options.name as string;
  const self = idOf(identity);
  const budget = options.budget ?? peerBudget;
  const bodyLimit = options.limits?.bodyLimit ?? budget.bodyBytes;
  const stallTimeoutMs = options.limits?.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const rateFloor = options.limits?.rateFloor ?? DEFAULT_RATE_FLOOR;
  const openTimeoutMs = options.limits?.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
  const drainMs = options.limits?.drainMs ?? DEFAULT_DRAIN_MS;
  const states = new WeakMap<FastifyRequest, RequestState>();

  const dropIssued = (issued: IssuedTransfer, reason: FerryError): void => {
    Promise.resolve()
      .then(() => receiver.abort?.(issued.peer, issued.transferId, reason))
      .catch((err: unknown) => logger.warn('could not drop a transfer', { peer: issued.peer, transferId: issued.transferId, error: String(err) }));
  };
  const table = new TransferTable((issued) => {
    logger.info('opened transfer expired before its upload', { peer: issued.peer, transferId: issued.transferId });
    dropIssued(issued, new FerryError('ABORTED', 'the transfer was opened but its upload did not start in time'));
  });

  const { loggerInstance: pinoInstance, ...logging } = serverLogging(logger, 'peer');
  // Typed as fastify's base logger, so the instance keeps fastify's default logger type.
  const loggerInstance: FastifyBaseLogger | undefined = pinoInstance;
  const app = Fastify({
    ...logging,
    logController: new LogController({ disableRequestLogging: true }),
    ...(loggerInstance ? { loggerInstance } : {}),
    // No deadline on a whole request: uploads take as long as they take, the stall watch judges them; JSON bodies have their own below.
    ...serverSettings(budget),
    bodyLimit,
    return503OnClosing: true,
    // close() must not wait for uploads: they are aborted first (preClose), then their connections cut.
    forceCloseConnections: true,
  });
  app.server.maxConnections = budget.maxConnections;
  const connections = new ConnectionGuard(budget.untrusted, options.onConnectionCut);
  connections.attach(app.server);

  const stateOf = (request: FastifyRequest): RequestState => {
    const state = states.get(request);
    if (!state) throw new FerryError('INTERNAL', 'request state missing');
    return state;
  };
  const verifiedPeer = (request: FastifyRequest): { peer: PeerRecord; signed: SignedRequestHeaders } => {
    const state = stateOf(request);
    if (!state.peer || !state.signed) throw new FerryError('INTERNAL', 'request not verified');
    return { peer: state.peer, signed: state.signed };
  };

  // ---- verification, before any body byte ------------------------------------------

  const verify = (request: FastifyRequest): void => {
    const route = request.routeOptions.url;
    const auth = authOf(route);
    if (auth === 'none') return;
    const state: RequestState = { verified: false, bodyChecked: false, upload: route === UPLOAD_ROUTE };
    states.set(request, state);
    const sender = request.headers[HEADERS.sender];
    const nonce = request.headers[HEADERS.nonce];
    if (typeof sender === 'string' && APPLIANCE_ID_PATTERN.test(sender) && typeof nonce === 'string' && NONCE_PATTERN.test(nonce)) {
      state.replyTo = { audience: sender, nonce };
    }
    const now = unixNow(clock);
    const signed = checkRequestHeaders(request.headers, { self, now });
    state.signed = signed;
    if (auth === 'pairing') return; // the signer's key is in the body: verifyAcceptRequest
    const peer = peers.get(signed.sender);
    if (!peer) throw new ProtocolError('NOT_PAIRED', `${signed.sender} is not a paired peer of this appliance`);
    if (nonces.has(signed.sender, signed.nonce)) throw new ProtocolError('REPLAYED_NONCE', 'the request nonce was seen already');
    const target = { method: request.raw.method ?? '', target: request.raw.url ?? '' };
    if (!verifyRequestSignature(signed, target, peer.signingPublicKey)) {
      throw new ProtocolError('BAD_SIGNATURE', `the signature does not verify with the key of peer ${peer.id}`);
    }
    state.verified = true;
    connections.trust(request.raw.socket);
    if (!nonces.remember(signed.sender, signed.nonce, nonceExpiry(now, signed.time))) {
      throw new ProtocolError('REPLAYED_NONCE', 'the request nonce was seen already');
    }
    state.peer = peer;
  };
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      verify(request);
      bodyDeadline(request);
      done();
    } catch (err) {
      done(err as Error);
    }
  });

  /**
   * A JSON body must arrive within the budget's time, whoever sends it: a
   * request still unread then is cut. (An upload's body is judged by the
   * stall watch instead, and a stranger's connection by the guard.)
   */
  const bodyDeadline = (request: FastifyRequest): void => {
    if (request.raw.complete || states.get(request)?.upload) return;
    const timer = setTimeout(() => {
      if (request.raw.complete) return;
      request.log.warn({ remote: request.ip, path: (request.raw.url ?? '').slice(0, 200), ms: budget.bodyMs }, 'peer request body too slow: connection cut');
      request.raw.socket.destroy();
    }, budget.bodyMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    request.raw.once('end', clear);
    request.raw.once('close', clear);
  };

  // JSON bodies: bounded, digest first, then parsed. Validation is per route (zod).
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    const state = states.get(request);
    const raw = body as Buffer;
    if (state?.signed) {
      if (bodyDigest(raw) !== state.signed.digest) {
        done(new ProtocolError('DIGEST_MISMATCH', 'the body does not match the signed digest'), undefined);
        return;
      }
      state.bodyChecked = true;
    }
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch (err) {
      done(new ProtocolError('INVALID_INPUT', `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`), undefined);
    }
  });

  // A request without a body must have signed the empty body's digest.
  app.addHook('preValidation', (request, _reply, done) => {
    const state = states.get(request);
    if (state?.signed && !state.bodyChecked && !state.upload && state.signed.digest !== EMPTY_BODY_DIGEST) {
      done(new ProtocolError('DIGEST_MISMATCH', 'the request has no body, but its signed digest is not that of an empty body'));
      return;
    }
    done();
  });

  // ---- answers ----------------------------------------------------------------------

  app.addHook('onSend', (request, reply, payload, done) => {
    const state = states.get(request);
    let body: string | Buffer | null = null;
    if (payload === null || payload === undefined) body = '';
    else if (typeof payload === 'string' || Buffer.isBuffer(payload)) body = payload;
    // (A stream payload is never signed: no route answers one.) Nor is the answer to a request that did not verify.
    if (state?.replyTo && state.verified && body !== null) {
      void reply.headers(signResponse({ identity, audience: state.replyTo.audience, requestNonce: state.replyTo.nonce, status: reply.statusCode, body }));
    }
    done(null, payload);
  });

  const refuse = (request: FastifyRequest, reply: FastifyReply, wire: WireError, err: unknown): FastifyReply => {
    const state = states.get(request);
    const fields = {
      code: wire.body.code,
      status: wire.status,
      method: request.raw.method,
      path: (request.raw.url ?? '').slice(0, 200),
      sender: state?.signed?.sender ?? state?.replyTo?.audience ?? null,
      remote: request.ip,
      error: wire.body.message,
    };
    // A body left unread (refused before it was read) is discarded, for a bounded time, so the answer arrives.
    if (!request.raw.complete) drain(request.raw, drainMs);
    if (wire.body.code === 'INTERNAL') request.log.error({ ...fields, stack: err instanceof Error ? err.stack : undefined }, 'peer request failed');
    else request.log.warn(fields, 'peer request refused');
    return reply.code(wire.status).type('application/json').send(wire.body);
  };

  app.setErrorHandler((err: FastifyError | Error, request, reply) => refuse(request, reply, classify(err, bodyLimit, states.get(request)), err));
  app.setNotFoundHandler((request, reply) => refuse(request, reply, wireError('NOT_FOUND', `no route ${request.method} ${(request.raw.url ?? '').slice(0, 200)}`), null));

  // ---- routes -----------------------------------------------------------------------

  app.get(routes.hello.path, (): Hello => ({ protocol: PROTOCOL_VERSION, applianceId: self, name: nameOf() }));

  // Read before any key is trusted: small.
  app.post(routes.pairAccept.path, { bodyLimit: budget.anonymousBodyBytes }, (request): PairAcceptResponse => {
    const state = stateOf(request);
    if (!state.signed) throw new FerryError('INTERNAL', 'request not checked');
    const body = parse(PairAcceptRequest, request.body);
    const record = verifyAcceptRequest({
      onSignatureVerified: () => {
        state.verified = true;
        connections.trust(request.raw.socket);
      },
      self,
      signed: state.signed,
      request: { method: request.raw.method ?? '', target: request.raw.url ?? '' },
      body,
      nonces,
      pairing,
      now: unixNow(clock),
    });
    logger.info('peer paired', { peer: record.id, name: record.name, address: record.address });
    return pairAcceptResponse(identity, nameOf());
  });

  app.post(routes.holdings.path, async (request): Promise<HoldingsResponse> => {
    const { peer } = verifiedPeer(request);
    const body = parse(HoldingsRequest, request.body);
    const replicas = await receiver.holdings(peer.id, body);
    return { share: body.share, pool: body.pool, replicas: replicas.map((r) => ({ name: r.name, receivedUuid: r.receivedUuid })) };
  });

  app.post(routes.restore.path, async (request): Promise<RestorePlan> => {
    const { peer } = verifiedPeer(request);
    const body = parse(RestoreRequest, request.body);
    if (!receiver.restore) throw new FerryError('NOT_FOUND', 'this appliance does not serve restores');
    return receiver.restore(peer.id, body);
  });

  app.post(routes.configBackup.path, { bodyLimit: CONFIG_BACKUP_LIMIT }, async (request): Promise<ConfigBackupResponse> => {
    const { peer } = verifiedPeer(request);
    const body = parse(ConfigBackupRequest, request.body);
    if (!receiver.keepConfig) throw new FerryError('NOT_FOUND', 'this appliance keeps no configuration backups');
    return receiver.keepConfig(peer.id, body.sealed);
  });

  app.post(routes.unpair.path, (request): UnpairResponse => {
    const { peer } = verifiedPeer(request);
    parse(UnpairRequest, request.body);
    const ended = pairing.unpaired?.(peer.id) ?? { tasksPaused: 0 };
    logger.warn('the peer removed this appliance: the pairing ended here too', { peer: peer.id, name: peer.name, tasksPaused: ended.tasksPaused });
    return ended;
  });

  app.post(routes.poolHealth.path, async (request): Promise<PoolHealthResponse> => {
    const { peer } = verifiedPeer(request);
    const body = parse(PoolHealthRequest, request.body);
    const findings = (await receiver.poolHealth?.(peer.id, body)) ?? [];
    return { pool: body.pool, findings: findings.map((f) => ({ severity: f.severity, code: f.code, message: f.message })) };
  });

  app.post(routes.openTransfer.path, async (request): Promise<OpenTransferResponse> => {
    const { peer } = verifiedPeer(request);
    const body = parse(OpenTransferRequest, request.body);
    const { transferId } = await receiver.open(peer.id, body);
    if (!TRANSFER_ID_PATTERN.test(transferId)) {
      dropIssued({ peer: peer.id, transferId, salt: new Uint8Array(0), expiresAt: 0 }, new FerryError('INTERNAL', 'bad transfer id'));
      throw new FerryError('INTERNAL', 'the receiver issued a transfer id the protocol cannot carry');
    }
    const salt = new Uint8Array(randomBytes(16));
    const expiresAt = unixNow(clock) + Math.ceil(openTimeoutMs / 1000);
    table.issue({ peer: peer.id, transferId, salt, expiresAt }, openTimeoutMs);
    return { transferId, salt: toBase64url(salt), expiresAt };
  });

  app.delete(ABORT_ROUTE, (request, reply) => {
    const { peer } = verifiedPeer(request);
    const transferId = transferIdParam(request);
    const { reason: why } = parse(AbortQuery, request.query);
    const reason =
      why === 'cancelled'
        ? new FerryError('CANCELLED', "the sender's admin cancelled the transfer")
        : why === 'replica-changed'
          ? new FerryError('REPLICA_CHANGED', 'the holder refused to send: its replica was no longer the subvolume it planned for this restore (nothing was sent)')
          : new FerryError('ABORTED', 'the sender aborted the transfer');
    if (!table.abortUpload(peer.id, transferId, reason)) {
      const issued = table.take(peer.id, transferId);
      if (!issued) throw new FerryError('TRANSFER_NOT_FOUND', `no open transfer ${transferId} of this peer`);
      dropIssued(issued, reason);
    }
    return reply.code(204).send();
  });

  // The upload, in its own scope: its body is the raw request stream, unread until the route reads it.
  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/octet-stream', (_request, payload, parsed) => parsed(null, payload));
    scope.put(UPLOAD_ROUTE, (request, reply): Promise<Receipt> => upload(request, reply));
    done();
  });

  async function upload(request: FastifyRequest, reply: FastifyReply): Promise<Receipt> {
    const { peer, signed } = verifiedPeer(request);
    const transferId = transferIdParam(request);
    const raw = request.raw;
    // The body is ours from here (no parser reads it): a sender that goes away must not become an uncaught error.
    raw.on('error', () => undefined);
    const issued = table.take(peer.id, transferId);
    if (!issued) {
      throw new FerryError('TRANSFER_NOT_FOUND', `no open transfer ${transferId} of this peer (unknown, expired, or uploaded already)`);
    }
    const controller = new AbortController();
    const { signal } = controller;
    const untrack = table.startUpload(peer.id, transferId, controller);
    const abort = (message: string): void => {
      if (!signal.aborted) controller.abort(new FerryError('ABORTED', message));
    };
    const onClose = (): void => {
      if (!reply.raw.writableFinished) abort('the sender disconnected');
    };
    reply.raw.on('close', onClose);

    let received = 0;
    let opener: ReturnType<typeof createOpener> | null = null;
    const stopWatch = watchStall({
      timeoutMs: stallTimeoutMs,
      floor: rateFloor,
      progress: () => received + (opener?.bytesIn ?? 0),
      busy: () => raw.readableLength > 0 || (opener !== null && (opener.writableNeedDrain || opener.writableLength > 0)),
      onStall: abort,
    });
    let detach: (() => void) | null = null;
    let handedOver = false;
    try {
      if (issued.expiresAt < unixNow(clock)) throw new FerryError('TRANSFER_NOT_FOUND', `transfer ${transferId} expired before its upload`);
      const { header, bytes, rest } = await readStreamHeader(raw, signal, (n) => (received += n));
      if (bodyDigest(bytes) !== signed.digest) throw new ProtocolError('DIGEST_MISMATCH', 'the stream header does not match the signed digest');
      if (header.transferId !== transferId) throw new FerryError('BAD_STREAM', 'the stream header names another transfer');
      if (header.salt.length !== issued.salt.length || !timingSafeEqual(header.salt, issued.salt)) {
        throw new FerryError('BAD_STREAM', 'the stream header carries another salt than the one issued');
      }
      let key: Uint8Array;
      try {
        key = receiverStreamKey({
          receiverBox: identity.box,
          senderBoxPublicKey: peer.boxPublicKey,
          ephemeralPublicKey: header.ephemeralPublicKey,
          salt: header.salt,
          transferId,
        });
      } catch (cause) {
        throw new FerryError('BAD_STREAM', 'the stream header carries an unusable ephemeral key', { cause });
      }
      const plaintext = createOpener(key, { header: bytes, chunkSize: header.chunkSize, headerIncluded: false });
      key.fill(0);
      opener = plaintext;
      plaintext.on('error', () => detach?.());
      // Whatever the receiver does with the signal, the stream it reads ends with the abort.
      const stop = (): void => {
        plaintext.destroy(toFerryError(abortReason(signal)));
      };
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
      detach = feed(raw, plaintext, rest, (err) => {
        abort('the sender disconnected');
        plaintext.destroy(new FerryError('ABORTED', `the upload broke off: ${err.message}`));
      });
      handedOver = true;
      const receipt = await receiver.transfer(peer.id, transferId, plaintext, signal);
      logger.info('transfer received', { peer: peer.id, transferId, attemptId: receipt.attemptId, bytes: receipt.bytes });
      return { transferId, ...pick(receipt) };
    } catch (thrown) {
      // An abort (stall, unpairing, disconnect) explains the failure better than what it caused downstream.
      const err = signal.aborted ? toFerryError(abortReason(signal)) : thrown;
      if (!handedOver) dropIssued(issued, err instanceof ProtocolError ? fromProtocolError(err) : toFerryError(err));
      detach?.();
      throw err;
    } finally {
      stopWatch();
      untrack();
      reply.raw.off('close', onClose);
    }
  }

  app.addHook('preClose', (done) => {
    table.close(new FerryError('ABORTED', 'the receiving appliance is shutting down'));
    done();
  });

  const abortPeer = (peerId: string): number => {
    const reason = new FerryError('ABORTED', `peer ${peerId} was unpaired`);
    const { uploads, issued } = table.abortPeer(peerId, reason);
    for (const transfer of issued) dropIssued(transfer, reason);
    if (uploads > 0 || issued.length > 0) logger.info('transfers of an unpaired peer aborted', { peer: peerId, uploads, opened: issued.length });
    return uploads;
  };
  app.decorate('abortPeer', abortPeer);
  return Object.assign(app as unknown as PeerServer, { connections });
}

/** Any error as the answer: ours keep their codes, fastify's own 4xx become INVALID_INPUT. */
function classify(err: FastifyError | Error, bodyLimit: number, state: RequestState | undefined): WireError {
  if (err instanceof ProtocolError || err instanceof FerryError) return toWireError(err, { transfer: state?.upload ?? false });
  const code = (err as FastifyError).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return wireError('INVALID_INPUT', `the JSON body exceeds the limit of ${bodyLimit} bytes`);
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return wireError('INVALID_INPUT', 'unsupported content-type: JSON bodies are application/json, stream uploads application/octet-stream');
  }
  const status = (err as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return wireError('INVALID_INPUT', err.message);
  return toWireError(err);
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new ProtocolError('INVALID_INPUT', `the body failed validation: ${issues.join('; ')}`);
  }
  return parsed.data;
}

function transferIdParam(request: FastifyRequest): string {
  const id = (request.params as { transferId?: unknown }).transferId;
  if (typeof id !== 'string' || !TRANSFER_ID_PATTERN.test(id)) throw new ProtocolError('INVALID_INPUT', 'the transfer id in the path is malformed');
  return id;
}

function pick(receipt: TransferReceipt): Omit<Receipt, 'transferId'> {
  return {
    attemptId: receipt.attemptId,
    snapshot: receipt.snapshot,
    receivedUuid: receipt.receivedUuid,
    bytes: receipt.bytes,
    replicaPath: receipt.replicaPath,
    retention: receipt.retention === null ? null : receipt.retention.slice(0, 4096),
  };
}
