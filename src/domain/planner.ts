// The send planner: full or incremental, and from which parent. Pure, so that
// every case a run can meet is a table row in a test rather than a btrfs setup.

import type { LocalSnapshot, Replica } from './snapshot.js';

export type Plan =
  | { readonly mode: 'full'; readonly parent: null; readonly reason: string }
  | { readonly mode: 'incremental'; readonly parent: LocalSnapshot; readonly reason: string };

export interface PlanInput {
  /** This task's snapshots of the share on the sender. */
  readonly local: readonly LocalSnapshot[];
  /** What the receiver said it holds for the share, asked in this run. */
  readonly remote: readonly Replica[];
}

// btrfs prints '-' for "no received UUID"; an empty string is what a parser
// leaves for a missing field. Neither names a snapshot, and matching them
// against a local UUID would announce a parent the receiver does not have.
function isRealUuid(uuid: string): boolean {
  return uuid !== '' && uuid !== '-';
}

// btrfs prints UUIDs in lower case, but a UUID typed or copied by hand may not
// be, and the two spellings name the same subvolume.
const uuidKey = (uuid: string): string => uuid.toLowerCase();

/** Compares names as code units, which for snapshot names is time order; localeCompare is not. */
export function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The newest local snapshot whose UUID the receiver holds as a received UUID,
 * with the replica that holds it, or null when the two sides share none. This
 * is the parent of the next incremental send, so retention must never delete it.
 */
export function newestCommon(
  local: readonly LocalSnapshot[],
  remote: readonly Replica[],
): { snapshot: LocalSnapshot; replica: Replica } | null {
  const held = new Map<string, Replica>();
  for (const replica of [...remote].sort(byName)) {
    // Sorted oldest first, so the newest replica of a UUID wins: a replica
    // received twice (after a restore) is reported under its current name.
    if (isRealUuid(replica.receivedUuid)) held.set(uuidKey(replica.receivedUuid), replica);
  }
  const newestFirst = [...local].sort((a, b) => byName(b, a));
  for (const snapshot of newestFirst) {
    if (!isRealUuid(snapshot.uuid)) continue;
    const replica = held.get(uuidKey(snapshot.uuid));
    if (replica !== undefined) return { snapshot, replica };
  }
  return null;
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * Plans the next send of a share. Called before the run's new snapshot is
 * taken, so `local` holds only earlier snapshots. The reason is written to
 * the trail, so it speaks to an admin who wonders why a run sent everything.
 */
export function planSend(input: PlanInput): Plan {
  const common = newestCommon(input.local, input.remote);
  if (common !== null) {
    const { snapshot, replica } = common;
    const name = JSON.stringify(snapshot.name);
    const via = replica.name === snapshot.name ? '' : ` (as replica ${JSON.stringify(replica.name)})`;
    return {
      mode: 'incremental',
      parent: snapshot,
      reason: `incremental from ${name}, the newest snapshot the receiver also holds${via}`,
    };
  }
  const replicas = input.remote.length;
  if (input.local.length === 0) {
    const held =
      replicas === 0
        ? ''
        : `; the receiver's ${plural(replicas, 'replica', 'replicas')} of this share cannot serve as a parent without a matching snapshot here`;
    return {
      mode: 'full',
      parent: null,
      reason: `full send: this task has no snapshot of the share yet (first run)${held}`,
    };
  }
  if (replicas === 0) {
    return {
      mode: 'full',
      parent: null,
      reason:
        'full send: the receiver holds no replica of this share (first send to this target, or its replicas were deleted there)',
    };
  }
  return {
    mode: 'full',
    parent: null,
    reason:
      `full send: the receiver holds ${plural(replicas, 'replica', 'replicas')} of this share, ` +
      `but none was received from ${input.local.length === 1 ? 'the one snapshot' : `any of the ${input.local.length} snapshots`} kept here ` +
      '(the parent was deleted on the target, or the matching snapshots were pruned here)',
  };
}
