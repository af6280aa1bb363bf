// The receive trail: one entry per attempt a peer made to send a snapshot here.
import type { ReceiveTrailEntry } from '../domain/trail.js';
import type { Db } from './db.js';
import type { FinishRow, TrailFinish, TrailListOptions } from './trail-table.js';
import { TrailTable } from './trail-table.js';

export interface ReceiveTrailFilter extends TrailListOptions {
  readonly peer?: string;
  readonly share?: string;
}

export interface ReceiveTrailFinish extends TrailFinish {
  /** Where the replica landed; null when absent (a failed receive leaves none). */
  readonly replicaPath?: string | null;
}

interface ReceiveFinishRow extends FinishRow {
  replica_path: string | null;
}

export class ReceiveTrailRepo extends TrailTable<ReceiveTrailEntry> {
  private readonly finishStmt;

  constructor(db: Db) {
    super(db, 'receive_trail', ', replica_path AS replicaPath', ['peer', 'share', 'status'], ['peer', 'task']);
    this.finishStmt = db.prepare<[ReceiveFinishRow]>(
      'UPDATE receive_trail SET status = @status, ended_at = @ended_at, bytes = @bytes, error_code = @error_code, error = @error, retention = @retention, ' +
        'replica_path = @replica_path ' +
        "WHERE id = @id AND status = 'running'",
    );
  }

  /** Ends a running attempt; NOT_FOUND for an unknown id, INTERNAL when it had finished already. */
  finish(id: string, r: ReceiveTrailFinish): void {
    const row: ReceiveFinishRow = {
      ...this.finishRow(id, r),
      replica_path: r.replicaPath ?? null,
    };
    if (this.finishStmt.run(row).changes === 0) this.refuseFinish(id);
  }

  /** Newest first (startedAt, then insertion order); all entries unless `limit` is given. */
  list(filter: ReceiveTrailFilter = {}): ReceiveTrailEntry[] {
    return this.select({ peer: filter.peer, share: filter.share, status: filter.status }, filter);
  }
}
