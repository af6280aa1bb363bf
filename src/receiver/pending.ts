// The transfers a receiver has opened and not yet ended, and the opens under
// way: what admission counts against a peer's budget, what a new open must
// not collide with (snapshot UUIDs on their way in), what retention must not
// delete (snapshots still streaming), and what the staging sweep leaves alone.

import type { PoolListing } from '../btrfs/index.js';
import type { TransferRequest } from '../domain/transfer.js';
import type { Pool } from '../store/index.js';
import type { RestoreExpectation } from './restores.js';

export interface PendingTransfer {
  readonly id: string;
  readonly peer: string;
  /** The share lock's key (./stream-checks.ts shareKey, or a restore's directory). */
  readonly key: string;
  readonly request: TransferRequest;
  readonly pool: Pool;
  /** Where the stream is received and committed: the replica directory, or for a restore the task's snapshot directory. */
  readonly dir: string;
  /** Set when the transfer brings back a restore this appliance asked for. */
  readonly restore: RestoreExpectation | null;
  /** Bytes this peer may still receive on the pool (its quota less what it holds); null for no quota. */
  readonly quotaLeft: number | null;
  /** Where the announced parent is (read-only, checked at the open); null for a full stream. */
  readonly parentPath: string | null;
  /** The pool as admission listed it: commit tells it of the new replica, retention reads the chain from it. Null for a restore. */
  readonly listing: PoolListing | null;
  readonly releaseShare: () => void;
  readonly expiry: NodeJS.Timeout;
  streaming: boolean;
}

/** A transfer as the status page and the metrics show it. */
export interface ActiveTransfer {
  readonly id: string;
  readonly peer: string;
  readonly share: string;
  readonly snapshot: string;
  readonly streaming: boolean;
}

export class PendingTransfers {
  readonly #byId = new Map<string, PendingTransfer>();
  /** Opens under way, per peer: each holds a place in its budget until it is pending or refused. */
  readonly #opening = new Map<string, number>();

  get(id: string): PendingTransfer | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  add(pending: PendingTransfer): void {
    this.#byId.set(pending.id, pending);
  }

  /** Drops a transfer from the table and lets go of its share; safe to call twice. */
  close(pending: PendingTransfer): void {
    clearTimeout(pending.expiry);
    if (this.#byId.get(pending.id) === pending) this.#byId.delete(pending.id);
    pending.releaseShare();
  }

  get active(): ActiveTransfer[] {
    return [...this.#byId.values()].map((t) => ({ id: t.id, peer: t.peer, share: t.request.share, snapshot: t.request.snapshot, streaming: t.streaming }));
  }

  /** Snapshot UUIDs of transfers opened and not yet committed, on any pool. */
  reserved(): Set<string> {
    return new Set([...this.#byId.values()].map((t) => t.request.snapshotUuid));
  }

  /** Snapshots of a share still on their way in: retention keeps their parents. */
  inFlight(key: string): string[] {
    return [...this.#byId.values()].filter((t) => t.key === key).map((t) => t.request.snapshot);
  }

  /** An open of this share by this peer that never streamed: a new open replaces it (./admission.ts). */
  stale(peer: string, key: string): PendingTransfer | undefined {
    return [...this.#byId.values()].find((t) => t.key === key && t.peer === peer && !t.streaming);
  }

  /** What a peer holds against its budget: transfers open or streaming (less one a new open of `key` would replace), and opens under way. */
  heldBy(peer: string, key: string): number {
    const open = [...this.#byId.values()].filter((p) => p.peer === peer && !(p.key === key && !p.streaming)).length;
    return open + (this.#opening.get(peer) ?? 0);
  }

  /** Holds a place in the peer's budget while `work` opens: opens at once must not all pass the check. */
  async opening<T>(peer: string, work: () => Promise<T>): Promise<T> {
    this.#opening.set(peer, (this.#opening.get(peer) ?? 0) + 1);
    try {
      return await work();
    } finally {
      const left = (this.#opening.get(peer) ?? 1) - 1;
      if (left > 0) this.#opening.set(peer, left);
      else this.#opening.delete(peer);
    }
  }
}
