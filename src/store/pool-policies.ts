// What the receiving admin decides per pool, and optionally per peer on it:
// a retention floor (at least N replicas of each chain, every replica of the
// last D days, whatever the sender asks), a quota of bytes, and how many
// transfers a peer may hold at once. A peer's row overrides the pool's field
// by field.
import type { RetentionFloor } from '../domain/retention.js';
import type { Db } from './db.js';
import { mapConstraint } from './sql.js';

export interface PoolPolicy extends RetentionFloor {
  /** Bytes of send streams a peer's replicas on the pool may hold; null for no quota. */
  readonly quotaBytes: number | null;
  /** Transfers a peer may hold open at once on this appliance when it opens one into the pool; null for the default. */
  readonly maxTransfers: number | null;
}

/** One stored row: `peer` null for the pool's own policy. */
export interface PoolPolicyRow extends PoolPolicy {
  readonly pool: string;
  readonly peer: string | null;
}

/** A change: a number sets a field, null clears it, undefined leaves it. */
export interface PoolPolicyChange {
  readonly keepAtLeast?: number | null;
  readonly keepDays?: number | null;
  readonly quotaBytes?: number | null;
  readonly maxTransfers?: number | null;
}

interface Row {
  pool: string;
  peer: string;
  keepAtLeast: number | null;
  keepDays: number | null;
  quotaBytes: number | null;
  maxTransfers: number | null;
}

const POOL_ROW = '';
const none: PoolPolicy = { keepAtLeast: null, keepDays: null, quotaBytes: null, maxTransfers: null };

function policyOf(row: Row): PoolPolicy {
  return { keepAtLeast: row.keepAtLeast, keepDays: row.keepDays, quotaBytes: row.quotaBytes, maxTransfers: row.maxTransfers };
}

export class PoolPolicyRepo {
  private readonly getStmt;
  private readonly listStmt;
  private readonly upsertStmt;
  private readonly deleteStmt;
  private readonly removePeerStmt;

  constructor(db: Db) {
    const select = 'SELECT pool, peer, keep_at_least AS keepAtLeast, keep_days AS keepDays, quota_bytes AS quotaBytes, max_transfers AS maxTransfers FROM pool_policies';
    this.getStmt = db.prepare<[string, string], Row>(`${select} WHERE pool = ? AND peer = ?`);
    this.listStmt = db.prepare<[string], Row>(`${select} WHERE pool = ? ORDER BY peer`);
    this.upsertStmt = db.prepare<[Row]>(
      'INSERT INTO pool_policies (pool, peer, keep_at_least, keep_days, quota_bytes, max_transfers) VALUES (@pool, @peer, @keepAtLeast, @keepDays, @quotaBytes, @maxTransfers) ' +
        'ON CONFLICT (pool, peer) DO UPDATE SET keep_at_least = excluded.keep_at_least, keep_days = excluded.keep_days, quota_bytes = excluded.quota_bytes, max_transfers = excluded.max_transfers',
    );
    this.deleteStmt = db.prepare<[string, string]>('DELETE FROM pool_policies WHERE pool = ? AND peer = ?');
    this.removePeerStmt = db.prepare<[string]>('DELETE FROM pool_policies WHERE peer = ?');
  }

  /** The stored policy of the pool (peer null) or of one peer on it; every field null when none is set. */
  get(pool: string, peer: string | null): PoolPolicy {
    const row = this.getStmt.get(pool, peer ?? POOL_ROW);
    return row ? policyOf(row) : none;
  }

  /** What applies to a peer on the pool: its own fields where set, else the pool's. */
  effective(pool: string, peer: string): PoolPolicy {
    const own = this.get(pool, peer);
    const base = this.get(pool, null);
    return {
      keepAtLeast: own.keepAtLeast ?? base.keepAtLeast,
      keepDays: own.keepDays ?? base.keepDays,
      quotaBytes: own.quotaBytes ?? base.quotaBytes,
      maxTransfers: own.maxTransfers ?? base.maxTransfers,
    };
  }

  /** Every row of the pool, its own first. */
  list(pool: string): PoolPolicyRow[] {
    return this.listStmt.all(pool).map((r) => ({ pool: r.pool, peer: r.peer === POOL_ROW ? null : r.peer, ...policyOf(r) }));
  }

  /** Applies a change and returns the stored result; a row left with nothing set is dropped. */
  set(pool: string, peer: string | null, change: PoolPolicyChange): PoolPolicy {
    const current = this.get(pool, peer);
    const next: PoolPolicy = {
      keepAtLeast: change.keepAtLeast === undefined ? current.keepAtLeast : change.keepAtLeast,
      keepDays: change.keepDays === undefined ? current.keepDays : change.keepDays,
      quotaBytes: change.quotaBytes === undefined ? current.quotaBytes : change.quotaBytes,
      maxTransfers: change.maxTransfers === undefined ? current.maxTransfers : change.maxTransfers,
    };
    const key = peer ?? POOL_ROW;
    if (Object.values(next).every((v) => v === null)) {
      this.deleteStmt.run(pool, key);
      return next;
    }
    try {
      this.upsertStmt.run({ pool, peer: key, ...next });
    } catch (err) {
      throw mapConstraint(err, `the policy of pool ${JSON.stringify(pool)}`);
    }
    return next;
  }

  /** Drops every per-peer row of a peer (it was unpaired). */
  removePeer(peer: string): number {
    return this.removePeerStmt.run(peer).changes;
  }
}
