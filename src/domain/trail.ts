// Trail entries: the durable record of every attempt, on both sides. The
// fields follow the trail entry of CLI.md; the attempt id is the same on the
// sender and the receiver so the two trails can be reconciled.

/** How an attempt ended: 'interrupted' by a stop or a crash, 'cancelled' by an admin (`ferry task cancel`). */
export const endStatuses = ['succeeded', 'failed', 'interrupted', 'cancelled'] as const;
export type EndStatus = (typeof endStatuses)[number];

/**
 * How an attempt that ended with this error code reads in a trail (null: it
 * succeeded): cancelled by an admin, interrupted by a stop or an abort, or
 * failed. The one mapping, for both trails and both directions.
 */
export function endStatusOf(code: string | null): EndStatus {
  if (code === null) return 'succeeded';
  if (code === 'CANCELLED') return 'cancelled';
  if (code === 'ABORTED' || code === 'INTERRUPTED') return 'interrupted';
  return 'failed';
}

export const trailStatuses = ['running', ...endStatuses] as const;
export type TrailStatus = (typeof trailStatuses)[number];

export const sendModes = ['full', 'incremental'] as const;
export type SendMode = (typeof sendModes)[number];

/**
 * What an entry records: a replication; a restore (a replica sent back); a
 * writable copy made of a replica (promote, clone); or a failback: a transfer
 * of a promoted share back to the appliance its replica came from, on that
 * appliance's own snapshot.
 */
export const trailKinds = ['replicate', 'restore', 'promote', 'clone', 'failback'] as const;
export type TrailKind = (typeof trailKinds)[number];

export interface TrailEntry {
  /** The attempt id, shared by both sides. */
  readonly id: string;
  readonly kind: TrailKind;
  readonly task: string;
  readonly share: string;
  /** Null for an attempt that failed before a snapshot was planned for it (send trail only). */
  readonly snapshot: string | null;
  /** Parent snapshot name; null for a full send, and for an attempt that never planned. */
  readonly parent: string | null;
  /** Null for an attempt that failed before it planned (send trail only): its `reason` says why. */
  readonly mode: SendMode | null;
  readonly status: TrailStatus;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly bytes: number;
  readonly errorCode: string | null;
  readonly error: string | null;
  /** Why the planner chose this mode (for a full send: why no parent could be used). */
  readonly reason: string | null;
  /** Pool health findings seen before the attempt, in words; null when all was well. */
  readonly findings: string | null;
  /** What the receiver's retention kept and deleted after the commit, and why; null when it deleted nothing. */
  readonly retention: string | null;
}

/** A send trail entry also names the peer and pool it went to. */
export interface SendTrailEntry extends TrailEntry {
  readonly peer: string;
  readonly pool: string;
}

/** A receive trail entry names the peer it came from and where the replica landed. It always has a snapshot: a receiver only hears of planned attempts. */
export interface ReceiveTrailEntry extends TrailEntry {
  readonly snapshot: string;
  readonly peer: string;
  readonly pool: string;
  readonly replicaPath: string | null;
}
