// What a signature covers. Every request between appliances carries the headers
// below; the Ed25519 signature (detached, 64 bytes, base64url) is over the UTF-8
// bytes of the signing string built from them. Every response to a signed
// request is signed too, over a string that includes the request nonce, so a
// response cannot be replayed onto another request.
//
// REQUEST SIGNING STRING: these lines joined by "\n", no trailing newline
//   ferry-request-v1
//   <protocol version, decimal>
//   <method, uppercase>
//   <request target: path and query exactly as on the request line>
//   <audience: the receiver's appliance id>
//   <sender: the signer's appliance id>
//   <time: unix seconds, decimal>
//   <nonce: 16 random bytes, base64url>
//   <digest: sha256 of the body, base64url; for a stream upload, of the stream header>
//
// RESPONSE SIGNING STRING
//   ferry-response-v1
//   <protocol version>
//   <responder: the responding appliance id>
//   <audience: the requesting appliance id>
//   <the request's nonce>
//   <HTTP status, decimal>
//   <digest: sha256 of the response body, base64url>
//
// ORDER OF CHECKS on the receiver (cheap first, and all before any body byte is
// read or any process spawned): version, header syntax, audience, time window,
// sender is paired, nonce unseen, signature; then the body digest as it arrives;
// the nonce is remembered only once the signature verified, so forged requests
// cannot use up nonces.

import { createHash } from 'node:crypto';
import { PROTOCOL_VERSION } from './version.js';
import { ProtocolError } from './errors.js';
import { APPLIANCE_ID_PATTERN, DIGEST_PATTERN, NONCE_PATTERN } from './ids.js';

export const REQUEST_SIGNING_PREFIX = 'ferry-request-v1';
export const RESPONSE_SIGNING_PREFIX = 'ferry-response-v1';

/** A signed time may be this far from the receiver's clock, either way. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
/** A receiver remembers nonces at least this long: any older request fails the time check instead. */
export const NONCE_RETENTION_SECONDS = 2 * MAX_CLOCK_SKEW_SECONDS;

/** Header names (HTTP header names are case-insensitive; these are the lowercase forms). */
export const HEADERS = {
  version: 'ferry-version',
  sender: 'ferry-sender',
  audience: 'ferry-audience',
  time: 'ferry-time',
  nonce: 'ferry-nonce',
  digest: 'ferry-digest',
  signature: 'ferry-signature',
} as const;

export const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{86}$/;
const METHOD_PATTERN = /^[A-Z]{1,16}$/;
// Visible ASCII only, starting with "/": no space or newline can smuggle a line into the string.
const TARGET_PATTERN = /^\/[\x21-\x7e]{0,2047}$/;

export interface RequestSigningInput {
  readonly version?: number;
  readonly method: string;
  readonly target: string;
  readonly audience: string;
  readonly sender: string;
  readonly time: number;
  readonly nonce: string;
  readonly digest: string;
}

export interface ResponseSigningInput {
  readonly version?: number;
  readonly responder: string;
  readonly audience: string;
  readonly requestNonce: string;
  readonly status: number;
  readonly digest: string;
}

/** sha256 of `body`, base64url: the digest line of both signing strings. */
export function bodyDigest(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('base64url');
}

export const EMPTY_BODY_DIGEST = bodyDigest(new Uint8Array(0));

export function requestSigningString(input: RequestSigningInput): string {
  const version = input.version ?? PROTOCOL_VERSION;
  need(Number.isInteger(version) && version > 0, 'version');
  need(METHOD_PATTERN.test(input.method), 'method');
  need(TARGET_PATTERN.test(input.target), 'request target');
  need(APPLIANCE_ID_PATTERN.test(input.audience), 'audience');
  need(APPLIANCE_ID_PATTERN.test(input.sender), 'sender');
  need(Number.isSafeInteger(input.time) && input.time >= 0, 'time');
  need(NONCE_PATTERN.test(input.nonce), 'nonce');
  need(DIGEST_PATTERN.test(input.digest), 'digest');
  return [
    REQUEST_SIGNING_PREFIX,
    String(version),
    input.method,
    input.target,
    input.audience,
    input.sender,
    String(input.time),
    input.nonce,
    input.digest,
  ].join('\n');
}

export function responseSigningString(input: ResponseSigningInput): string {
  const version = input.version ?? PROTOCOL_VERSION;
  need(Number.isInteger(version) && version > 0, 'version');
  need(APPLIANCE_ID_PATTERN.test(input.responder), 'responder');
  need(APPLIANCE_ID_PATTERN.test(input.audience), 'audience');
  need(NONCE_PATTERN.test(input.requestNonce), 'request nonce');
  need(Number.isInteger(input.status) && input.status >= 100 && input.status <= 599, 'status');
  need(DIGEST_PATTERN.test(input.digest), 'digest');
  return [
    RESPONSE_SIGNING_PREFIX,
    String(version),
    input.responder,
    input.audience,
    input.requestNonce,
    String(input.status),
    input.digest,
  ].join('\n');
}

/** The signed headers of a request, parsed; the signature is still to be verified. */
export interface SignedRequestHeaders {
  readonly version: number;
  readonly sender: string;
  readonly audience: string;
  readonly time: number;
  readonly nonce: string;
  readonly digest: string;
  readonly signature: string;
}

/**
 * The stateless checks, in the documented order: version, syntax, audience, time.
 * `headers` maps lowercase header names to values. Throws ProtocolError with the
 * code to answer; the caller goes on with pairing, nonce and signature.
 */
export function checkRequestHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  expect: { readonly self: string; readonly now: number },
): SignedRequestHeaders {
  const get = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? undefined : value;
  };
  const versionText = get(HEADERS.version);
  if (versionText !== String(PROTOCOL_VERSION)) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `protocol version ${versionText ?? '(none)'} is not ${PROTOCOL_VERSION}`);
  }
  const sender = get(HEADERS.sender) ?? '';
  const audience = get(HEADERS.audience) ?? '';
  const timeText = get(HEADERS.time) ?? '';
  const nonce = get(HEADERS.nonce) ?? '';
  const digest = get(HEADERS.digest) ?? '';
  const signature = get(HEADERS.signature) ?? '';
  const bad = (what: string): never => {
    throw new ProtocolError('INVALID_INPUT', `header ${what} is missing or malformed`);
  };
  if (!APPLIANCE_ID_PATTERN.test(sender)) bad(HEADERS.sender);
  if (!APPLIANCE_ID_PATTERN.test(audience)) bad(HEADERS.audience);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(timeText)) bad(HEADERS.time);
  if (!NONCE_PATTERN.test(nonce)) bad(HEADERS.nonce);
  if (!DIGEST_PATTERN.test(digest)) bad(HEADERS.digest);
  if (!SIGNATURE_PATTERN.test(signature)) bad(HEADERS.signature);
  if (audience !== expect.self) throw new ProtocolError('WRONG_AUDIENCE', `request was signed for ${audience}, not ${expect.self}`);
  const time = Number(timeText);
  if (Math.abs(time - expect.now) > MAX_CLOCK_SKEW_SECONDS) {
    throw new ProtocolError('STALE_TIME', `signed time ${time} is more than ${MAX_CLOCK_SKEW_SECONDS}s from ${expect.now}`);
  }
  return { version: PROTOCOL_VERSION, sender, audience, time, nonce, digest, signature };
}

function need(ok: boolean, what: string): void {
  if (!ok) throw new ProtocolError('INVALID_INPUT', `cannot sign: ${what} is malformed`);
}
