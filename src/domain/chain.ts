// A replica chain on a receiver: the replicas of one source share (its
// subvolume UUID, which each of its snapshots carries as parent UUID) from one
// peer, in one directory `<pool>/<peer>/<share>/`. The receiver records the
// chain when it starts and each replica as it commits, so that another
// subvolume never lands in the chain, whatever its folder name, and another
// task never prunes it.
//
// btrfs itself knows nothing of chains: `btrfs receive` finds a snapshot's
// parent and a clone's source through the filesystem-wide UUID tree, received
// UUID first, then UUID. So before a stream reaches it, the receiver resolves
// each UUID the stream may name the way btrfs will, and accepts the transfer
// only when that lands on this chain's own replica. The rules are pure and
// live here, over a listing of the pool's subvolumes.

import type { CopyKind } from './vocabulary.js';

export interface Chain {
  readonly id: number;
  readonly peer: string;
  readonly pool: string;
  readonly share: string;
  /** The source share's subvolume UUID on the sender. */
  readonly sourceUuid: string;
  readonly createdAt: string;
}

export interface ChainReplica {
  readonly name: string;
  /** The replica's own UUID on the receiver. */
  readonly uuid: string;
  /** The sent snapshot's identity: what the sender names as a parent. */
  readonly receivedUuid: string;
  /** The replica it was received on top of; null for a full send. */
  readonly parent: string | null;
  /** Bytes of the send stream that made it (what the per-peer quota counts). */
  readonly bytes: number;
  readonly committedAt: string;
}

/** A subvolume of the receiving filesystem, by its UUIDs (btrfs subvolume list). */
export interface SubvolumeIds {
  readonly uuid: string;
  readonly parentUuid: string | null;
  readonly receivedUuid: string | null;
  readonly path: string;
}

/**
 * The subvolumes `btrfs receive` may pick for `uuid`: those with that received
 * UUID if there are any, else those with that UUID. (btrfs-progs 6.2 falls
 * back to the UUID for a snapshot's parent; newer versions for clone sources
 * too. Treating both alike is the stricter reading.)
 */
export function resolveAsBtrfs(subvolumes: readonly SubvolumeIds[], uuid: string): SubvolumeIds[] {
  const received = subvolumes.filter((s) => s.receivedUuid === uuid);
  return received.length > 0 ? received : subvolumes.filter((s) => s.uuid === uuid);
}

/**
 * Why `uuid`, named in a stream as a parent or clone source, would not land on
 * `replica` (this chain's own, by its receiver-side UUID), or null when it
 * does. A read-only snapshot of a replica keeps its received UUID, so an admin's
 * local snapshot of the replica resolves alike; it holds the same bytes and is
 * accepted. Anything else among the candidates could be another share's or
 * another peer's data.
 */
export function resolutionProblem(subvolumes: readonly SubvolumeIds[], uuid: string, replica: { readonly uuid: string; readonly name: string }): string | null {
  const candidates = resolveAsBtrfs(subvolumes, uuid);
  if (!candidates.some((s) => s.uuid === replica.uuid)) {
    return `UUID ${uuid} does not resolve to replica '${replica.name}' on this pool${candidates.length > 0 ? ` but to ${describe(candidates)}` : ''}`;
  }
  const strangers = candidates.filter((s) => s.uuid !== replica.uuid && s.parentUuid !== replica.uuid);
  if (strangers.length > 0) return `UUID ${uuid} also resolves to ${describe(strangers)}, so btrfs receive could pick it instead of replica '${replica.name}'`;
  return null;
}

/** The subvolumes that already carry `uuid` as their UUID or received UUID: an incoming snapshot must not. */
export function uuidHolders(subvolumes: readonly SubvolumeIds[], uuid: string): SubvolumeIds[] {
  return subvolumes.filter((s) => s.uuid === uuid || s.receivedUuid === uuid);
}

/**
 * Other subvolumes, as a peer may be told of them: how many, never where
 * (their paths name other peers and their shares). The receiving admin finds
 * them with `btrfs subvolume list -u -R` and the UUID the message gives.
 */
function describe(list: readonly SubvolumeIds[]): string {
  return list.length === 1 ? 'another subvolume' : `${list.length} other subvolumes`;
}

/** A writable subvolume made from a replica here: a promoted share, a test-failover clone, or a restored share. */
export interface WritableCopy {
  readonly path: string;
  /** Its own UUID (what its snapshots carry as parent UUID). */
  readonly uuid: string;
  readonly kind: CopyKind;
  /** The chain it came from. */
  readonly peer: string;
  readonly pool: string;
  readonly share: string;
  readonly snapshot: string;
  /** The replica (or restored snapshot) it was made from, and that one's identity (received UUID): common ground with the peer. */
  readonly basePath: string;
  readonly baseIdentity: string;
  readonly createdAt: string;
}
