// Before a stream reaches `btrfs receive`: the UUIDs it will carry or name,
// resolved against the whole receiving filesystem the way btrfs resolves them
// (src/domain/chain.ts). The incoming snapshot's UUID becomes the replica's
// received UUID, so it must name nothing yet: a decoy carrying another
// replica's UUID would later be found in its place as a parent or clone
// source. The announced parent must resolve to this chain's own replica.

import type { SubvolumeListing } from '../btrfs/index.js';
import { resolutionProblem, uuidHolders, type ChainReplica } from '../domain/chain.js';
import { FerryError } from '../domain/errors.js';
import type { TransferRequest } from '../domain/transfer.js';

export function checkIdentities(
  /** Every subvolume of the receiving filesystem (the admission's listing). */
  subvolumes: readonly SubvolumeListing[],
  request: TransferRequest,
  parent: ChainReplica | null,
  /** Snapshot UUIDs of transfers opened and not yet committed, on any pool. */
  reserved: ReadonlySet<string>,
): void {
  const holders = uuidHolders(subvolumes, request.snapshotUuid);
  if (holders.length > 0 || reserved.has(request.snapshotUuid)) {
    // Never where: the holder may be another peer's replica, and its path would name that peer and share.
    const where = holders.length > 0 ? 'another subvolume' : 'a transfer under way';
    throw new FerryError(
      'UUID_CONFLICT',
      `the incoming snapshot's UUID ${request.snapshotUuid} already names ${where} on this pool; a second subvolume carrying it could be taken for the first as a parent or clone source`,
    );
  }
  if (request.parent && parent) {
    const problem = resolutionProblem(subvolumes, request.parent.uuid, parent);
    if (problem !== null) throw new FerryError('UUID_CONFLICT', `the announced parent cannot be used safely: ${problem}`);
  }
}
