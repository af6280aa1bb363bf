// Between FerryError (the appliance's codes) and the wire's ErrorBody codes
// (proto/errors.ts). The server answers every failure with a wire code and its
// HTTP status; the client turns a wire code back into a FerryError of the same
// code, so the replication driver decides retries exactly as for a local receiver.

import { isWireErrorCode, ProtocolError, wireErrors, type WireErrorCode } from '../../proto/errors.js';
import type { ErrorBody } from '../../proto/messages.js';
import { FerryError, isErrorCode, type ErrorCode } from '../domain/errors.js';

const MESSAGE_LIMIT = 4096;

/** Domain codes that have no wire code of the same name, and what they go out as. */
const domainToWire: Partial<Record<ErrorCode, WireErrorCode>> = {
  INVALID_NAME: 'INVALID_INPUT',
  INTERRUPTED: 'ABORTED',
  BTRFS_COMMAND_FAILED: 'RECEIVE_FAILED',
  NOT_BTRFS: 'INTERNAL',
  NOT_A_SUBVOLUME: 'INTERNAL',
  BAD_KEY: 'BAD_STREAM',
};

export interface WireError {
  readonly status: number;
  readonly body: ErrorBody;
}

export function wireError(code: WireErrorCode, message: string): WireError {
  return { status: wireErrors[code].status, body: { code, message: clip(message) } };
}

/**
 * Any thrown value as the answer to send. `context` refines codes that mean
 * something more precise on a route: the receiver's NOT_FOUND for a transfer is
 * the wire's TRANSFER_NOT_FOUND.
 */
export function toWireError(err: unknown, context: { transfer?: boolean } = {}): WireError {
  if (err instanceof ProtocolError) return wireError(err.code, err.message);
  if (err instanceof FerryError) {
    if (context.transfer && err.code === 'NOT_FOUND') return wireError('TRANSFER_NOT_FOUND', err.message);
    const mapped = domainToWire[err.code] ?? (isWireErrorCode(err.code) ? err.code : 'INTERNAL');
    return wireError(mapped, err.message);
  }
  if (err instanceof Error && err.name === 'AbortError') return wireError('ABORTED', err.message);
  return wireError('INTERNAL', err instanceof Error ? err.message : String(err));
}

/** A wire code from a peer as a FerryError; a code this side does not know is INTERNAL. */
export function fromErrorBody(body: { code: string; message: string }, from: string): FerryError {
  const code: ErrorCode = isErrorCode(body.code) ? body.code : 'INTERNAL';
  const unknown = code === body.code ? '' : ` (unknown code ${JSON.stringify(body.code.slice(0, 64))})`;
  return new FerryError(code, `${from} refused: ${clip(body.message)}${unknown}`);
}

/** A ProtocolError (from proto/) as the FerryError of the same code. */
export function fromProtocolError(err: ProtocolError): FerryError {
  return new FerryError(err.code, err.message, { cause: err });
}

function clip(text: string): string {
  return text.length <= MESSAGE_LIMIT ? text : `${text.slice(0, MESSAGE_LIMIT - 1)}…`;
}
