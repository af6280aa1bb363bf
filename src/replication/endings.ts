// How an attempt ends, decided in one place: cancelled by an admin,
// interrupted by a stop, or failed; which error says why; and the errors of
// a pipeline that only report that the other end went away.

import { FerryError, toFerryError } from '../domain/errors.js';

/** How an attempt that threw ended: cancelled by an admin, interrupted by a stop, or failed. */
export function endedBy(signal: AbortSignal): 'failed' | 'interrupted' | 'cancelled' {
  if (!signal.aborted) return 'failed';
  return signal.reason instanceof FerryError && signal.reason.code === 'CANCELLED' ? 'cancelled' : 'interrupted';
}

/** How long a cancelled stream keeps flowing while the peer is told of the cancel, at most. */
const CANCEL_NOTICE_MS = 3_000;

/**
 * The signal the stream itself stops on: at once for a stop or a failure, but
 * a moment later for an admin's cancel, so the receiver hears "cancelled"
 * (and ends the upload itself) before it sees a cut stream and records an
 * interruption.
 */
export function streamSignal(signal: AbortSignal): AbortSignal {
  const stream = new AbortController();
  const follow = (): void => {
    if (endedBy(signal) !== 'cancelled') stream.abort(signal.reason);
    else setTimeout(() => stream.abort(signal.reason), CANCEL_NOTICE_MS).unref();
  };
  if (signal.aborted) follow();
  else signal.addEventListener('abort', follow, { once: true });
  return stream.signal;
}

/** What an attempt failed of: the admin's cancel itself when it was cancelled (whatever broke on the way), else what was thrown. */
export function errorOf(thrown: unknown, signal: AbortSignal): FerryError {
  return endedBy(signal) === 'cancelled' ? (signal.reason as FerryError) : toFerryError(thrown);
}

/**
 * A pipeline error that only reports that the other end went away. The
 * network's own errors count too: when the connection to the peer breaks, the
 * HTTP client destroys the upload body with the socket's error (ECONNRESET,
 * undici's UND_ERR_SOCKET...) and the pipeline passes it back to this side's
 * streams; reported first, that raw error became an INTERNAL (permanent)
 * failure instead of the receiver's PEER_UNREACHABLE (transient, retried).
 */
export function isConsequence(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return (
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'EPIPE' ||
    code === 'ERR_STREAM_DESTROYED' ||
    code === 'ECONNRESET' ||
    code === 'ECONNABORTED' ||
    code === 'ETIMEDOUT' ||
    (typeof code === 'string' && code.startsWith('UND_ERR_'))
  );
}
