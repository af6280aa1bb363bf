// The send trail: one entry per attempt this appliance made to send a snapshot.
import type { SendTrailEntry } from '../domain/trail.js';
import type { Db } from './db.js';
import type { FinishRow, TrailFinish, TrailListOptions } from './trail-table.js';
import { TrailTable } from './trail-table.js';

export interface SendTrailFilter extends TrailListOptions {
  readonly task?: string;
}

export class SendTrailRepo extends TrailTable<SendTrailEntry> {
  private readonly finishStmt;
  private readonly reconcileStmt;

  constructor(db: Db) {
    super(db, 'send_trail', '', ['task', 'status'], ['task']);
    this.finishStmt = db.prepare<[FinishRow]>(
      'UPDATE send_trail SET status = @status, ended_at = @ended_at, bytes = @bytes, error_code = @error_code, error = @error, retention = @retention ' +
        "WHERE id = @id AND status = 'running'",
    );
    this.reconcileStmt = db.prepare<[{ id: string; note: string }]>(
      "UPDATE send_trail SET status = 'succeeded', error_code = NULL, reason = trim(coalesce(reason, '') || '; ' || @note, '; ') " +
        "WHERE id = @id AND status IN ('failed', 'interrupted', 'cancelled')",
    );
  }

  /**
   * The one change a finished entry may see: an attempt recorded failed or
   * interrupted whose replica the receiver turns out to hold (its receipt was
   * lost) becomes succeeded, with a note saying so. The error text stays as
   * the record of what was seen at the time. False when nothing changed.
   */
  reconcile(id: string, note: string): boolean {
    return this.reconcileStmt.run({ id, note }).changes > 0;
  }

  /** Ends a running attempt; NOT_FOUND for an unknown id, INTERNAL when it had finished already. */
  finish(id: string, r: TrailFinish): void {
    if (this.finishStmt.run(this.finishRow(id, r)).changes === 0) this.refuseFinish(id);
  }

  /** Newest first (startedAt, then insertion order); all entries unless `limit` is given. */
  list(filter: SendTrailFilter = {}): SendTrailEntry[] {
    return this.select({ task: filter.task, status: filter.status }, filter);
  }
}
