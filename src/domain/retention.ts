// Retention rules for both sides. Snapshots belong to a task (one chain per
// target), so callers pass one task's snapshots only: several tasks can then
// replicate one share to different peers without deleting each other's
// parents (syncoid #57, #225). Deleting is the caller's job; these functions
// only decide, so every decision can be checked without btrfs.

import { FerryError } from './errors.js';
import { newestCommon } from './planner.js';
import type { LocalSnapshot, Replica } from './snapshot.js';

export interface RetentionDecision {
  /** Names to keep, sorted by name. */
  readonly keep: string[];
  /** Names to delete, sorted by name; never also in `keep`. */
  readonly remove: string[];
}

export const maxKeep = 10_000;

/** `n` when it is a valid retention count (a whole number from 1 to 10000); otherwise throws INVALID_INPUT. */
export function validateKeep(n: number): number {
  // Zero would let retention delete the parent of the next run whenever the
  // receiver reports nothing in common; at least one is always kept.
  if (!Number.isInteger(n) || n < 1 || n > maxKeep) {
    throw new FerryError('INVALID_INPUT', `keep must be a whole number from 1 to ${maxKeep}, not ${String(n)}`);
  }
  return n;
}

/** Splits `names` into the protected ones and the rest, both sorted, without duplicates. */
function decide(names: readonly string[], keepNewest: number, protectedNames: ReadonlySet<string>): RetentionDecision {
  const sorted = [...new Set(names)].sort();
  const newest = new Set(sorted.slice(Math.max(0, sorted.length - keepNewest)));
  const keep: string[] = [];
  const remove: string[] = [];
  for (const name of sorted) {
    (newest.has(name) || protectedNames.has(name) ? keep : remove).push(name);
  }
  return { keep, remove };
}

export interface SenderRetentionInput {
  /** This task's snapshots on the sender. */
  readonly local: readonly LocalSnapshot[];
  /**
   * What the receiver said it holds, asked in this run. When the receiver
   * could not be asked, do not call this: an empty list means "holds
   * nothing" and would release the parent (btrbk #598, #114).
   */
  readonly remote: readonly Replica[];
  readonly keep: number;
  /** Snapshots a transfer is reading right now. */
  readonly inFlight: readonly string[];
}

/**
 * Sender retention: keep the newest `keep` snapshots, the newest common one
 * (the next run's parent, however old: losing it forces a full send), and
 * anything in flight; remove the rest.
 */
export function senderRetention(input: SenderRetentionInput): RetentionDecision {
  const keep = validateKeep(input.keep);
  const protectedNames = new Set(input.inFlight);
  const common = newestCommon(input.local, input.remote);
  if (common !== null) protectedNames.add(common.snapshot.name);
  return decide(
    input.local.map((s) => s.name),
    keep,
    protectedNames,
  );
}

export interface ReceiverRetentionInput {
  /** The replicas of one share from one peer, under `<pool>/<peer-id>/<share>/`. */
  readonly replicas: readonly Replica[];
  readonly keep: number;
  /** Replicas being received or used as a parent right now. */
  readonly inFlight: readonly string[];
}

/**
 * Receiver retention: keep the newest `keep` replicas by name, and anything in
 * flight; remove the rest. The newest replica is always among those kept
 * (keep is at least 1): from the receiver's side it is the newest common pair,
 * since the receiver cannot see which snapshots the sender still has.
 */
export function receiverRetention(input: ReceiverRetentionInput): RetentionDecision {
  const keep = validateKeep(input.keep);
  return decide(
    input.replicas.map((r) => r.name),
    keep,
    new Set(input.inFlight),
  );
}
