// The peer API server: fastify, the routes of proto/messages.ts, in three
// parts: the door (server-auth.ts: every request but `hello` verified before
// any body byte is read, answers signed), the stream upload
// (server-upload.ts), and here the JSON routes, the abort, and the refusals:
// every one an ErrorBody with the status of proto/errors.ts, logged with its
// code.
//
// Connections have budgets (util/listener-budgets.ts): headers and JSON
// bodies must arrive in time, and until a request on it verifies, a
// connection may live only so long, and only so many may be held per address
// and in total (util/connection-guard.ts).
//
// Over 300 lines because every JSON route of proto/messages.ts is registered
// here, a few lines each, beside the one mapping of refusals to statuses.

import { randomBytes } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ProtocolError } from '../../proto/errors.js';
import { TRANSFER_ID_PATTERN } from '../../proto/frame.js';
import { toBase64url } from '../../proto/ids.js';
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
} from '../../proto/messages.js';
import { API_PREFIX, PROTOCOL_VERSION } from '../../proto/version.js';
import type { Identity } from '../crypto/index.js';
import { FerryError } from '../domain/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { serverLogging } from '../log/server-logging.js';
import { ConnectionGuard, type CutReason } from '../util/connection-guard.js';
import { peerBudget, serverSettings, type ListenerBudget } from '../util/listener-budgets.js';
import { toWireError, wireError, type WireError } from './errors.js';
import { pairAcceptResponse, verifyAcceptRequest } from './pairing.js';
import type { NonceCache, PairingPort, PeerDirectory, ReceiverPort } from './ports.js';
import { installAuth, UPLOAD_ROUTE, type RequestState } from './server-auth.js';
import { transferIdParam, uploadHandler } from './server-upload.js';
import { idOf, unixNow } from './signing.js';
import { TransferTable, type IssuedTransfer } from './transfers.js';
import { drain, type RateFloor } from './upload.js';

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

const ABORT_ROUTE = `${API_PREFIX}/transfers/:transferId`;

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

  const auth = installAuth(app, { identity, self, peers, nonces, clock, budget, bodyLimit, connections });
  const { verifiedPeer } = auth;
  const stateOf = (request: FastifyRequest): RequestState => {
    const state = auth.stateOf(request);
    if (!state) throw new FerryError('INTERNAL', 'request state missing');
    return state;
  };

  const refuse = (request: FastifyRequest, reply: FastifyReply, wire: WireError, err: unknown): FastifyReply => {
    const state = auth.stateOf(request);
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

  app.setErrorHandler((err: FastifyError | Error, request, reply) => refuse(request, reply, classify(err, bodyLimit, auth.stateOf(request)), err));
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
    scope.put(UPLOAD_ROUTE, uploadHandler({ identity, receiver, auth, table, clock, stallTimeoutMs, rateFloor, logger, dropIssued }));
    done();
  });

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

