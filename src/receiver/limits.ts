// What one receiver allows a peer at once and over time: transfers held open,
// how long an opened transfer waits for its stream, how long a stream may take.

export interface ReceiverOptions {
  /** How long an opened transfer may wait for its stream before it is dropped. */
  readonly openTimeoutMs?: number;
  /** Transfers one peer may hold open (opened or streaming) at once; more are refused PEER_BUSY. */
  readonly maxTransfersPerPeer?: number;
  /** How long a stream may take for its announced size; see DEFAULT_DEADLINE. */
  readonly deadline?: TransferDeadline;
}

/**
 * A streaming transfer holds a `btrfs receive`, a jail and a share lock; the
 * rate floor (src/peer) cuts a trickle, this bounds the whole: a grace, plus
 * twice the announced size (estimates run low) at the slowest average rate a
 * usable offsite link has. A transfer announced without a size has only the
 * rate floor.
 */
export interface TransferDeadline {
  readonly graceMs: number;
  readonly bytesPerSecond: number;
}

export const DEFAULT_DEADLINE: TransferDeadline = { graceMs: 15 * 60_000, bytesPerSecond: 16 * 1024 };

/** The deadline of a stream announced at `size` bytes, in ms; null for none. */
export function deadlineMs(size: number | null, deadline: TransferDeadline): number | null {
  return size === null ? null : deadline.graceMs + Math.ceil(((2 * size) / deadline.bytesPerSecond) * 1000);
}

/**
 * A peer's transfers at once: each is a `btrfs receive` process, a share lock
 * and a stream; a paired peer that opened dozens would hold them all. Four
 * covers a sender's concurrent tasks (its scheduler runs two at a time).
 */
export const DEFAULT_MAX_TRANSFERS_PER_PEER = 4;
