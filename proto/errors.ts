// The stable codes a receiver answers in an error body ({code, message}). A
// second implementation keys on the code, never on the message, so codes are
// never renamed or reused. `status` is the HTTP status that carries the code and
// `retry` says whether the sender should retry the attempt later.

export const wireErrors = {
  // Refused before the signature is checked (cheap checks first).
  UNSUPPORTED_VERSION: { status: 400, retry: false, summary: 'the protocol version is not spoken here' },
  INVALID_INPUT: { status: 400, retry: false, summary: 'a header or the body failed validation' },
  NOT_PAIRED: { status: 403, retry: false, summary: 'the sender is not a paired peer of this appliance' },
  WRONG_AUDIENCE: { status: 403, retry: false, summary: 'the request was signed for another appliance' },
  STALE_TIME: { status: 401, retry: false, summary: 'the signed time is too far from the receiver clock' },
  REPLAYED_NONCE: { status: 401, retry: true, summary: 'the nonce was seen already' },
  BAD_SIGNATURE: { status: 401, retry: false, summary: 'the signature does not verify with the peer key' },
  DIGEST_MISMATCH: { status: 400, retry: true, summary: 'the body (or stream header) does not match the signed digest' },
  // Pairing.
  INVITE_INVALID: { status: 403, retry: false, summary: 'the invite is unknown, used, expired, or its proof is wrong' },
  // Opening a transfer.
  POOL_NOT_GRANTED: { status: 403, retry: false, summary: 'the pool is not granted to this peer' },
  SHARE_MISMATCH: { status: 409, retry: false, summary: 'the replica chain of this share name belongs to another source subvolume' },
  UUID_CONFLICT: { status: 409, retry: false, summary: 'a UUID of the transfer names another subvolume on the receiving pool' },
  QUOTA_EXCEEDED: { status: 507, retry: false, summary: "the transfer would pass the peer's quota on the pool" },
  PARENT_MISSING: { status: 409, retry: false, summary: 'the receiver does not hold the announced parent' },
  SHARE_BUSY: { status: 409, retry: true, summary: 'another transfer of this share is running' },
  PEER_BUSY: { status: 429, retry: true, summary: 'the sender has as many transfers open on this receiver as it may' },
  NO_SPACE: { status: 507, retry: false, summary: 'the target pool has not enough free space' },
  SERVICE_DISABLED: { status: 503, retry: false, summary: 'the replication service is disabled on the receiver' },
  ALREADY_EXISTS: { status: 409, retry: false, summary: 'a replica of this snapshot exists already' },
  // Streaming and committing.
  TRANSFER_NOT_FOUND: { status: 404, retry: false, summary: 'no open transfer has this id' },
  BAD_STREAM: { status: 400, retry: true, summary: 'the sealed stream failed to open (tampered, truncated or reordered)' },
  RECEIVE_FAILED: { status: 500, retry: true, summary: 'btrfs receive failed' },
  RECEIVED_MISMATCH: { status: 500, retry: false, summary: 'the received subvolume is not the announced snapshot' },
  STREAM_REFUSED: { status: 422, retry: false, summary: "the send stream breaks the receiver's rules (clone source, path, commands, attributes)" },
  ABORTED: { status: 409, retry: true, summary: 'the transfer was aborted' },
  TRANSFER_DEADLINE: { status: 408, retry: true, summary: 'the transfer ran past the deadline the receiver set from its announced size' },
  CANCELLED: { status: 409, retry: false, summary: "the sender's admin cancelled the transfer" },
  NOT_FOUND: { status: 404, retry: false, summary: 'no such route or resource' },
  INTERNAL: { status: 500, retry: true, summary: 'an unexpected error on the receiver' },
} as const satisfies Record<string, { status: number; retry: boolean; summary: string }>;

export type WireErrorCode = keyof typeof wireErrors;

export const WIRE_ERROR_CODES = Object.keys(wireErrors) as [WireErrorCode, ...WireErrorCode[]];

export function isWireErrorCode(value: string): value is WireErrorCode {
  return Object.hasOwn(wireErrors, value);
}

/**
 * A violation of the wire contract found by proto/ itself (a malformed frame
 * header, a field that cannot go into a signing string). proto/ may import only
 * zod and node built-ins, so it cannot throw the domain's FerryError; callers map
 * `code` onto theirs.
 */
export class ProtocolError extends Error {
  readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}
