// Signed requests and responses (proto/signing.ts), with this appliance's keys.
// signRequest is also the building block for forging requests in tests: every
// field can be overridden.

import { randomBytes } from 'node:crypto';
import { toBase64url, NONCE_BYTES } from '../../proto/ids.js';
import {
  bodyDigest,
  EMPTY_BODY_DIGEST,
  HEADERS,
  requestSigningString,
  responseSigningString,
  type SignedRequestHeaders,
} from '../../proto/signing.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';
import { applianceId, sign, verify, type Identity } from '../crypto/index.js';
import { FerryError } from '../domain/errors.js';

const ids = new WeakMap<Identity, string>();

/** The appliance id of an identity (cached: it is a hash of the signing key). */
export function idOf(identity: Identity): string {
  let id = ids.get(identity);
  if (id === undefined) {
    id = applianceId(identity.signing.publicKey);
    ids.set(identity, id);
  }
  return id;
}

export function unixNow(clock: () => number = Date.now): number {
  return Math.floor(clock() / 1000);
}

export function newNonce(): string {
  return toBase64url(randomBytes(NONCE_BYTES));
}

export interface SignRequestInput {
  readonly identity: Identity;
  /** Uppercase HTTP method. */
  readonly method: string;
  /** Path and query exactly as they go on the request line. */
  readonly target: string;
  /** The receiving appliance's id. */
  readonly audience: string;
  /** The body, to digest; none means empty. Ignored when `digest` is given. */
  readonly body?: Uint8Array | string;
  /** The digest line itself (a stream upload signs the digest of its stream header). */
  readonly digest?: string;
  /** Unix seconds; default now. */
  readonly time?: number;
  /** Default: 16 fresh random bytes. */
  readonly nonce?: string;
  /** Default: the identity's own id. Tests override it to forge. */
  readonly sender?: string;
  /** Default PROTOCOL_VERSION; it goes both in the header and in the signed string. */
  readonly version?: number;
}

/** The `ferry-*` headers of a signed request (lowercase names). */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const version = input.version ?? PROTOCOL_VERSION;
  const sender = input.sender ?? idOf(input.identity);
  const time = input.time ?? unixNow();
  const nonce = input.nonce ?? newNonce();
  const digest = input.digest ?? (input.body === undefined ? EMPTY_BODY_DIGEST : bodyDigest(input.body));
  const text = requestSigningString({ version, method: input.method, target: input.target, audience: input.audience, sender, time, nonce, digest });
  return {
    [HEADERS.version]: String(version),
    [HEADERS.sender]: sender,
    [HEADERS.audience]: input.audience,
    [HEADERS.time]: String(time),
    [HEADERS.nonce]: nonce,
    [HEADERS.digest]: digest,
    [HEADERS.signature]: sign(text, input.identity.signing.secretKey),
  };
}

/** Whether a request's signature verifies with `signingPublicKey`; false for anything malformed. */
export function verifyRequestSignature(
  signed: SignedRequestHeaders,
  request: { method: string; target: string },
  signingPublicKey: Uint8Array,
): boolean {
  let text: string;
  try {
    text = requestSigningString({
      version: signed.version,
      method: request.method,
      target: request.target,
      audience: signed.audience,
      sender: signed.sender,
      time: signed.time,
      nonce: signed.nonce,
      digest: signed.digest,
    });
  } catch {
    return false;
  }
  return verify(text, signed.signature, signingPublicKey);
}

/** The `ferry-digest` and `ferry-signature` headers of a response to a signed request. */
export function signResponse(input: {
  identity: Identity;
  /** The requester's id. */
  audience: string;
  requestNonce: string;
  status: number;
  body: Uint8Array | string;
}): Record<string, string> {
  const digest = bodyDigest(input.body);
  const text = responseSigningString({
    responder: idOf(input.identity),
    audience: input.audience,
    requestNonce: input.requestNonce,
    status: input.status,
    digest,
  });
  return { [HEADERS.digest]: digest, [HEADERS.signature]: sign(text, input.identity.signing.secretKey) };
}

/**
 * Checks that a response comes from `responder`, answers the request with
 * `requestNonce`, and carries exactly `body`. Throws BAD_SIGNATURE otherwise.
 */
export function verifyResponse(input: {
  responder: { id: string; signingPublicKey: Uint8Array };
  /** This appliance's id. */
  self: string;
  requestNonce: string;
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Uint8Array;
}): void {
  const digest = input.headers[HEADERS.digest];
  const signature = input.headers[HEADERS.signature];
  const what = `the response (HTTP ${input.status}) from ${input.responder.id}`;
  if (typeof digest !== 'string' || typeof signature !== 'string') {
    throw new FerryError('BAD_SIGNATURE', `${what} is not signed`);
  }
  if (digest !== bodyDigest(input.body)) throw new FerryError('BAD_SIGNATURE', `${what} does not match its signed digest`);
  let text: string;
  try {
    text = responseSigningString({ responder: input.responder.id, audience: input.self, requestNonce: input.requestNonce, status: input.status, digest });
  } catch (cause) {
    throw new FerryError('BAD_SIGNATURE', `${what} cannot be checked`, { cause });
  }
  if (!verify(text, signature, input.responder.signingPublicKey)) {
    throw new FerryError('BAD_SIGNATURE', `${what} has a signature that does not verify with the peer's key`);
  }
}
