// The peer server's door: every request but `hello` is checked in an
// onRequest hook, in the order of proto/README.md and before any body byte is
// read: version, header syntax, audience, time, paired sender, nonce,
// signature. Then the body must match the signed digest (a JSON body in a
// bounded content-type parser here; the stream upload by its stream header,
// in server-upload.ts). Only the answer to a request whose signature verified
// is signed: signing a refusal of an unverified one would hand a man in the
// middle a signed answer to any nonce it names. (A verified request whose body
// then fails its digest is answered signed: its sender and nonce are
// authentic, and the sender learns from an answer it can trust that its body
// was changed in transit.)

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProtocolError } from '../../proto/errors.js';
import { APPLIANCE_ID_PATTERN, NONCE_PATTERN } from '../../proto/ids.js';
import { routes } from '../../proto/messages.js';
import { bodyDigest, checkRequestHeaders, EMPTY_BODY_DIGEST, HEADERS, type SignedRequestHeaders } from '../../proto/signing.js';
import { API_PREFIX } from '../../proto/version.js';
import type { Identity } from '../crypto/index.js';
import { FerryError } from '../domain/errors.js';
import type { ConnectionGuard } from '../util/connection-guard.js';
import type { ListenerBudget } from '../util/listener-budgets.js';
import { nonceExpiry } from './pairing.js';
import type { NonceCache, PeerDirectory, PeerRecord } from './ports.js';
import { signResponse, unixNow, verifyRequestSignature } from './signing.js';

export const UPLOAD_ROUTE = `${API_PREFIX}/transfers/:transferId/stream`;

type Auth = 'none' | 'pairing' | 'peer';

/** What the hooks learned of a request, for the routes and the answer's signature. */
export interface RequestState {
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


export interface AuthOptions {
  readonly identity: Identity;
  /** This appliance's id: the audience every request must name. */
  readonly self: string;
  readonly peers: PeerDirectory;
  readonly nonces: NonceCache;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  readonly budget: ListenerBudget;
  /** Largest JSON body, in bytes. */
  readonly bodyLimit: number;
  /** A connection on which a request verified is trusted (no stranger's budget any more). */
  readonly connections: ConnectionGuard;
}

/** What the routes learn of a request from the door. */
export interface RequestAuth {
  /** The hooks' record of a request; undefined for `hello` (and a request the door never saw). */
  readonly stateOf: (request: FastifyRequest) => RequestState | undefined;
  /** The verified signer and its signed headers; INTERNAL on a route the door did not verify. */
  readonly verifiedPeer: (request: FastifyRequest) => { peer: PeerRecord; signed: SignedRequestHeaders };
}

/** Installs the checks on `app`: the onRequest verification, the JSON body's digest, the empty body's digest, the answer's signature. */
export function installAuth(app: FastifyInstance, options: AuthOptions): RequestAuth {
  const { identity, self, peers, nonces, clock, budget, bodyLimit, connections } = options;
  const states = new WeakMap<FastifyRequest, RequestState>();

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

  // ---- answers: signed to the verified sender ---------------------------------------

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

  return {
    stateOf: (request) => states.get(request),
    verifiedPeer: (request) => {
      const state = states.get(request);
      if (!state?.peer || !state.signed) throw new FerryError('INTERNAL', 'request not verified');
      return { peer: state.peer, signed: state.signed };
    },
  };
}
