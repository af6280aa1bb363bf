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

/** The receiving admin's floor for a pool (or one peer on it): kept whatever the sender asks. */
export interface RetentionFloor {
  /** At least this many newest replicas of each chain; null for no floor. */
  readonly keepAtLeast: number | null;
  /** Every replica committed within this many days; null for no floor. */
  readonly keepDays: number | null;
}

export const noFloor: RetentionFloor = { keepAtLeast: null, keepDays: null };

export interface ReceiverRetentionInput {
  /** The replicas of one chain (one share from one peer), with when the receiver committed each. */
  readonly replicas: readonly (Replica & { readonly committedAt?: string })[];
  /** The sender's keep-remote: a request. */
  readonly keep: number;
  /** Replicas being received or used as a parent right now. */
  readonly inFlight: readonly string[];
  readonly floor?: RetentionFloor;
  /** For the floor's days; required when it has any. */
  readonly now?: Date;
}

export interface ReceiverRetentionDecision extends RetentionDecision {
  /** What was kept and deleted and why, for both trails; null when nothing was deleted and the floor kept nothing extra. */
  readonly summary: string | null;
}

const DAY_MS = 86_400_000;

/**
 * Receiver retention: keep the newest `keep` replicas by name (the sender's
 * request), raised to the floor's count, every replica committed within the
 * floor's days, and anything in flight; remove the rest. The newest replica
 * is always among those kept (keep is at least 1): from the receiver's side it
 * is the newest common pair, since the receiver cannot see which snapshots the
 * sender still has.
 */
export function receiverRetention(input: ReceiverRetentionInput): ReceiverRetentionDecision {
  const requested = validateKeep(input.keep);
  const floor = input.floor ?? noFloor;
  const keepNewest = Math.max(requested, floor.keepAtLeast ?? 0);
  const protectedNames = new Set(input.inFlight);
  if (floor.keepDays !== null) {
    if (!input.now) throw new FerryError('INTERNAL', 'receiver retention with a floor in days needs the time');
    const since = input.now.getTime() - floor.keepDays * DAY_MS;
    for (const r of input.replicas) if (r.committedAt !== undefined && Date.parse(r.committedAt) >= since) protectedNames.add(r.name);
  }
  const decision = decide(
    input.replicas.map((r) => r.name),
    keepNewest,
    protectedNames,
  );
  const byRequest = decide(
    input.replicas.map((r) => r.name),
    requested,
    new Set(input.inFlight),
  );
  const floorKept = decision.keep.length - byRequest.keep.length;
  const parts: string[] = [];
  if (floorKept > 0) {
    const rules = [
      ...(floor.keepAtLeast !== null ? [`at least ${floor.keepAtLeast}`] : []),
      ...(floor.keepDays !== null ? [`every replica of the last ${floor.keepDays} ${floor.keepDays === 1 ? 'day' : 'days'}`] : []),
    ];
    parts.push(`kept ${decision.keep.length} replicas where the sender asked for ${requested}: this receiver's floor keeps ${rules.join(' and ')}`);
  }
  if (decision.remove.length > 0) {
    parts.push(`deleted ${decision.remove.length} older ${decision.remove.length === 1 ? 'replica' : 'replicas'} (${decision.remove.join(', ')}), keeping the newest ${keepNewest}`);
  }
  return { ...decision, summary: parts.length > 0 ? parts.join('; ') : null };
}
