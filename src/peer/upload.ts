// The receiving half of a stream upload, below the route: reading the stream
// header off the request body, watching for a stalled sender, joining the rest of
// the body to the opener without ever destroying the request (its socket must
// stay up to carry the answer), and draining what a refused upload still sends.

import type { IncomingMessage } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { decodeStreamHeader, MAX_HEADER_LENGTH, type StreamHeader } from '../../proto/frame.js';
import { FerryError } from '../domain/errors.js';
import { abortReason } from '../util/backoff.js';

export interface ReadHeader {
  readonly header: StreamHeader;
  /** The header's bytes exactly as they came (the signed digest is over them). */
  readonly bytes: Uint8Array;
  /** Whatever arrived after the header in the same read: the start of chunk 0. */
  readonly rest: Buffer;
}

/**
 * Reads just enough of `body` to decode the stream header (62 + L bytes).
 * `onBytes` reports progress for the stall watch. Throws BAD_STREAM or
 * UNSUPPORTED_VERSION (ProtocolError) as soon as the bytes cannot be a header.
 */
export async function readStreamHeader(body: Readable, signal: AbortSignal, onBytes: (n: number) => void): Promise<ReadHeader> {
  const parts: Buffer[] = [];
  let have = 0;
  for (;;) {
    if (signal.aborted) throw abortReason(signal);
    const chunk = body.read() as Buffer | null;
    if (chunk === null) {
      if (body.readableEnded || body.destroyed) throw new FerryError('BAD_STREAM', 'sealed stream: the body ended inside the stream header');
      await readable(body, signal);
      continue;
    }
    onBytes(chunk.length);
    parts.push(chunk);
    have += chunk.length;
    const joined = parts.length === 1 ? chunk : Buffer.concat(parts, have);
    const decoded = decodeStreamHeader(joined);
    if (decoded) {
      return { header: decoded.header, bytes: joined.subarray(0, decoded.length), rest: joined.subarray(decoded.length) };
    }
    if (have >= MAX_HEADER_LENGTH) throw new FerryError('BAD_STREAM', 'sealed stream: no stream header in the first bytes');
    parts.length = 0;
    parts.push(joined);
  }
}

/** Resolves when `body` has data, ended, closed or failed; rejects when `signal` aborts. */
function readable(body: Readable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      body.off('readable', done);
      body.off('end', done);
      body.off('close', done);
      body.off('error', failed);
      signal.removeEventListener('abort', aborted);
    };
    const ok = (): void => {
      done();
      resolve();
    };
    const failed = (err: Error): void => {
      done();
      reject(err);
    };
    const aborted = (): void => {
      done();
      reject(abortReason(signal));
    };
    body.once('readable', ok);
    body.once('end', ok);
    body.once('close', ok);
    body.once('error', failed);
    signal.addEventListener('abort', aborted, { once: true });
  });
}

/** The least an upload must move over a window: a trickle (a byte now and then) holds a `btrfs receive` and a share lock as long as it likes. */
export interface RateFloor {
  readonly bytesPerSecond: number;
  readonly windowMs: number;
}

/**
 * Calls `onStall` once, with the reason, when `progress()` has not moved for
 * `timeoutMs`, or (with a `floor`) has moved less than the floor over its
 * window, while `busy()` said nothing was waiting on our side: time the body
 * spends held back by our own backpressure (a slow disk under btrfs receive)
 * is not the sender's stall, and killing healthy transfers is a failure
 * TrueNAS shipped.
 */
export function watchStall(options: { timeoutMs: number; floor?: RateFloor; progress: () => number; busy: () => boolean; onStall: (reason: string) => void }): () => void {
  const { floor } = options;
  let last = options.progress();
  let since = Date.now();
  // Samples of the last window (and the one just before it, the window's start).
  const samples: { at: number; progress: number; busy: boolean }[] = [{ at: since, progress: last, busy: false }];
  const every = Math.max(10, Math.min(1000, Math.floor(Math.min(options.timeoutMs, floor?.windowMs ?? Infinity) / 4)));
  const stall = (reason: string): void => {
    clearInterval(timer);
    options.onStall(reason);
  };
  const timer = setInterval(() => {
    const now = Date.now();
    const progress = options.progress();
    const busy = options.busy();
    if (floor) {
      samples.push({ at: now, progress, busy });
      while (samples.length > 2 && (samples[1] as { at: number }).at <= now - floor.windowMs) samples.shift();
      const start = samples[0] as { at: number; progress: number };
      if (now - start.at >= floor.windowMs && !samples.slice(1).some((s) => s.busy)) {
        const moved = progress - start.progress;
        const seconds = (now - start.at) / 1000;
        if (moved < floor.bytesPerSecond * seconds) {
          stall(`the upload moved ${moved} bytes in ${Math.round(seconds)} s, under the floor of ${floor.bytesPerSecond} bytes a second`);
          return;
        }
      }
    }
    if (progress !== last || busy) {
      last = progress;
      since = now;
      return;
    }
    if (now - since >= options.timeoutMs) stall(`the upload stalled: no bytes for ${Math.round(options.timeoutMs / 1000)} s`);
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Feeds the rest of the request body into `into` with backpressure (pipe, which
 * never destroys its source), forwarding a body failure as `onError`. Returns
 * the function that detaches the body again.
 */
export function feed(body: Readable, into: Writable, rest: Buffer, onError: (err: Error) => void): () => void {
  const failed = (err: Error): void => onError(err);
  body.on('error', failed);
  if (rest.length > 0) into.write(rest);
  body.pipe(into);
  return () => {
    body.unpipe(into);
    body.off('error', failed);
  };
}

/**
 * After a refused or failed upload, reads and discards what the sender still
 * sends, so that the answer reaches it before the connection closes (closing
 * with unread bytes would reset the connection and could lose the answer).
 * A sender that keeps sending for longer than `graceMs` is cut off.
 */
const draining = new WeakSet<IncomingMessage>();

export function drain(body: IncomingMessage, graceMs: number): void {
  if (body.readableEnded || body.destroyed || draining.has(body)) return;
  draining.add(body);
  const cut = setTimeout(() => body.socket.destroy(), graceMs);
  cut.unref();
  const stop = (): void => clearTimeout(cut);
  body.once('end', stop);
  body.once('close', stop);
  body.on('error', () => undefined);
  body.resume();
}
