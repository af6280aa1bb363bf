// One signed exchange with a peer over undici: sign the request, send it, read
// the answer (bounded), verify the answer's signature and that it answers this
// request's nonce, and turn an ErrorBody into a FerryError of the same code.

import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { ErrorBody } from '../../proto/messages.js';
import { HEADERS } from '../../proto/signing.js';
import type { Identity } from '../crypto/index.js';
import { FerryError } from '../domain/errors.js';
import { fromErrorBody } from './errors.js';
import { idOf, signRequest, unixNow, verifyResponse } from './signing.js';

export interface PeerTimeouts {
  /** A JSON request: time to the answer's headers, and between its body's bytes. Default 30 s. */
  readonly requestMs?: number;
  /** A stream upload: how long the peer may leave sealed bytes unread before it counts as gone. Default 120 s. */
  readonly stallMs?: number;
  /** A stream upload: how long the peer may take to commit and answer after the last byte. Default 10 min. */
  readonly commitMs?: number;
}

export const defaultTimeouts = { requestMs: 30_000, stallMs: 120_000, commitMs: 600_000 } as const;

/** Answers larger than this are refused (a holdings list of 100 000 replicas is ~10 MB). */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export interface Responder {
  readonly id: string;
  readonly signingPublicKey: Uint8Array;
  /** For messages. */
  readonly label: string;
}

export interface ExchangeOptions {
  readonly identity: Identity;
  readonly responder: Responder;
  readonly address: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  /** A JSON body (serialized here) or a stream with the digest to sign for it. */
  readonly json?: unknown;
  readonly stream?: { readonly body: Readable; readonly digest: string };
  readonly dispatcher?: Dispatcher | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly clock?: (() => number) | undefined;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
}

export interface Exchanged {
  readonly status: number;
  readonly body: Buffer;
  /**
   * False for an unsigned refusal: a peer does not sign its answer to a
   * request it could not verify (ours, if it no longer knows our key, or one
   * a man in the middle changed), so such a refusal is reported, marked as
   * not proven to come from the peer. An unsigned success is never taken.
   */
  readonly signed: boolean;
}

/** Base URL + route path, and the request target exactly as it goes on the request line. */
export function urlFor(address: string, path: string): { url: string; target: string } {
  let base: URL;
  try {
    base = new URL(address);
  } catch (cause) {
    throw new FerryError('INVALID_INPUT', `peer address ${JSON.stringify(address.slice(0, 200))} is not a URL`, { cause });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new FerryError('INVALID_INPUT', `peer address ${address} is not http(s)`);
  const target = base.pathname.replace(/\/+$/, '') + path;
  return { url: base.origin + target, target };
}

/** Sends one signed request; resolves with the verified answer, whatever its status. */
export async function exchange(options: ExchangeOptions): Promise<Exchanged> {
  const { url, target } = urlFor(options.address, options.path);
  const payload = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json), 'utf8');
  const signed = signRequest({
    identity: options.identity,
    method: options.method,
    target,
    audience: options.responder.id,
    time: unixNow(options.clock),
    ...(payload === undefined ? {} : { body: payload }),
    ...(options.stream === undefined ? {} : { digest: options.stream.digest }),
  });
  const nonce = signed[HEADERS.nonce] as string;
  const headers: Record<string, string> = { ...signed };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (options.stream !== undefined) headers['content-type'] = 'application/octet-stream';

  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: options.method,
      headers,
      body: options.stream?.body ?? payload ?? null,
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      headersTimeout: options.headersTimeout,
      bodyTimeout: options.bodyTimeout,
    });
  } catch (err) {
    throw networkError(err, options);
  }
  let body: Buffer;
  try {
    body = await readBody(response.body, options.responder.label);
  } catch (err) {
    throw err instanceof FerryError ? err : networkError(err, options);
  }
  if (response.statusCode >= 400 && response.headers[HEADERS.signature] === undefined && response.headers[HEADERS.digest] === undefined) {
    return { status: response.statusCode, body, signed: false };
  }
  verifyResponse({
    responder: options.responder,
    self: idOf(options.identity),
    requestNonce: nonce,
    status: response.statusCode,
    headers: response.headers,
    body,
  });
  return { status: response.statusCode, body, signed: true };
}

/** A verified answer as `schema`'s value when 2xx, else the FerryError its ErrorBody names. */
export function answer<T extends z.ZodType>(exchanged: Exchanged, schema: T, what: string, from: string): z.infer<T> {
  if (exchanged.status < 200 || exchanged.status > 299) throw refusal(exchanged, from);
  const parsed = schema.safeParse(parseJson(exchanged.body));
  if (!parsed.success) throw new FerryError('INTERNAL', `${from} answered a malformed ${what}: ${parsed.error.message.slice(0, 500)}`);
  return parsed.data;
}

export function refusal(exchanged: Exchanged, from: string): FerryError {
  if (!exchanged.signed) from = `${from} (in an unsigned answer, which may not come from it)`;
  const parsed = ErrorBody.safeParse(parseJson(exchanged.body));
  if (parsed.success) return fromErrorBody(parsed.data, from);
  // A signed answer whose code is not one we know, or no ErrorBody at all.
  const loose = parseJson(exchanged.body) as { code?: unknown; message?: unknown } | undefined;
  if (loose && typeof loose.code === 'string' && typeof loose.message === 'string') {
    return fromErrorBody({ code: loose.code, message: loose.message }, from);
  }
  return new FerryError('INTERNAL', `${from} answered HTTP ${exchanged.status} without an error body`);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

async function readBody(body: Dispatcher.ResponseData['body'], label: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const part = chunk as Buffer;
    size += part.length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      throw new FerryError('INTERNAL', `${label} answered more than ${MAX_RESPONSE_BYTES} bytes`);
    }
    parts.push(part);
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
}

/** A failure to talk to the peer: aborted by us, a FerryError from our own body stream, or the network. */
export function networkError(err: unknown, options: { signal?: AbortSignal | undefined; responder: Responder; address: string }): FerryError {
  if (err instanceof FerryError) return err;
  if (options.signal?.aborted) {
    const reason: unknown = options.signal.reason;
    if (reason instanceof FerryError) return reason;
    return new FerryError('ABORTED', 'the request to the peer was aborted', { cause: err });
  }
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? `${e.code}: ` : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  return new FerryError('PEER_UNREACHABLE', `${options.responder.label} at ${options.address} cannot be reached: ${code}${message}`, { cause: err });
}
