// What the send and the receive trail share: one table each, the same life
// cycle (start running, progress, finish once) and the same listing order.
import { FerryError } from '../domain/errors.js';
import { endStatuses, type EndStatus, type SendMode, type TrailEntry, type TrailKind, type TrailStatus } from '../domain/trail.js';
import { clipText } from './clip.js';
import type { Db } from './db.js';
import { checkCount, isDuplicateKey, mapConstraint, normalizeTimestamp } from './sql.js';

/** What an attempt knows when it starts. */
export interface TrailStart {
  readonly id: string;
  /** Default 'replicate'. */
  readonly kind?: TrailKind;
  readonly task: string;
  readonly share: string;
  /** Null for an attempt that failed before a snapshot was planned. */
  readonly snapshot: string | null;
  readonly parent: string | null;
  /** Null for an attempt that failed before it planned. */
  readonly mode: SendMode | null;
  readonly peer: string;
  readonly pool: string;
  readonly reason: string | null;
  readonly startedAt: string;
  /** Pool health findings seen before the attempt, in words (domain/health describeFindings). */
  readonly findings?: string | null;
}

/** How an attempt ended. `error` is clipped to `errorTextLimit` bytes. */
export interface TrailFinish {
  readonly status: EndStatus;
  readonly endedAt: string;
  readonly bytes: number;
  readonly errorCode: string | null;
  readonly error: string | null;
  /** What the receiver's retention deleted after this attempt committed, and why. */
  readonly retention?: string | null;
}

/** How much of a trail maintenance keeps: entries of the last `keepDays`, and at most `keepPerTask` per task. */
export interface TrailLimits {
  readonly keepDays: number;
  readonly keepPerTask: number;
}

export interface TrailListOptions {
  readonly limit?: number;
  readonly status?: TrailStatus;
  /** Attempts started at or after this time (ISO 8601). */
  readonly since?: string;
  /** Attempts started before this time. */
  readonly until?: string;
  /** The next page: attempts listed after this one, in the same order (keyset paging: as fast on page 2,000 as on page 1). */
  readonly before?: string;
}

interface StartRow {
  id: string;
  kind: string;
  task: string;
  share: string;
  snapshot: string | null;
  parent: string | null;
  mode: string | null;
  peer: string;
  pool: string;
  reason: string | null;
  findings: string | null;
  started_at: string;
}

export interface FinishRow {
  id: string;
  status: string;
  ended_at: string;
  bytes: number;
  error_code: string | null;
  error: string | null;
  retention: string | null;
}

type ListParams = Record<string, string | number>;

const finished: readonly string[] = endStatuses;

// Newest first; the rowid breaks ties between attempts started in the same millisecond.
const newestFirst = 'ORDER BY started_at DESC, rowid DESC';

export abstract class TrailTable<E extends TrailEntry> {
  private readonly insertStmt;
  private readonly progressStmt;
  private readonly getStmt;
  private readonly lastSucceededStmt;
  private readonly interruptStmt;
  private readonly beyondStmt;
  private readonly pruneStmt;
  readonly #db: Db;
  /** One statement per combination of filters, prepared when first asked for. */
  private readonly listStmts = new Map<string, ReturnType<Db['prepare']>>();
  /** The SELECT of a listing, before its WHERE. */
  readonly #listSelect: string;
  /** `send trail`, `receive trail`. */
  readonly #label: string;

  protected constructor(
    db: Db,
    protected readonly table: string,
    extraSelect: string,
    private readonly filterColumns: readonly string[],
    /** The columns one task's entries share: the limit per task counts within them. */
    groupColumns: readonly string[],
  ) {
    this.#db = db;
    // Messages name the trail as the admin knows it (`ferry trail send`), not the table.
    this.#label = table.replace(/_/g, ' ');
    const select =
      'SELECT id, kind, task, share, snapshot, parent, mode, status, started_at AS startedAt, ended_at AS endedAt, bytes, ' +
      `error_code AS errorCode, error, reason, findings, retention, peer, pool${extraSelect} FROM ${table}`;
    this.insertStmt = db.prepare<[StartRow]>(
      `INSERT INTO ${table} (id, kind, task, share, snapshot, parent, mode, peer, pool, reason, findings, status, started_at) ` +
        "VALUES (@id, @kind, @task, @share, @snapshot, @parent, @mode, @peer, @pool, @reason, @findings, 'running', @started_at)",
    );
    this.progressStmt = db.prepare<[number, string]>(`UPDATE ${table} SET bytes = ? WHERE id = ? AND status = 'running'`);
    this.getStmt = db.prepare<[string], E>(`${select} WHERE id = ?`);
    this.lastSucceededStmt = db.prepare<[string], E>(`${select} WHERE task = ? AND status = 'succeeded' ${newestFirst} LIMIT 1`);
    this.interruptStmt = db.prepare<[string, string]>(
      `UPDATE ${table} SET status = 'interrupted', ended_at = ?, error_code = 'INTERRUPTED', error = ? WHERE status = 'running'`,
    );
    // Finished entries older than the cutoff, or beyond the newest N of their task. Running ones are never pruned.
    const beyond =
      `SELECT id FROM (SELECT id, status, started_at, ROW_NUMBER() OVER (PARTITION BY ${groupColumns.join(', ')} ORDER BY started_at DESC, rowid DESC) AS n FROM ${table}) ` +
      "WHERE status <> 'running' AND (started_at < @cutoff OR n > @keep)";
    this.beyondStmt = db.prepare<[{ cutoff: string; keep: number }], { n: number }>(`SELECT count(*) AS n FROM (${beyond})`);
    this.pruneStmt = db.prepare<[{ cutoff: string; keep: number }]>(`DELETE FROM ${table} WHERE id IN (${beyond})`);
    this.#listSelect = select;
  }

  /** Records a new attempt as running with 0 bytes; an id already in the trail is refused with ALREADY_EXISTS. */
  start(e: TrailStart): void {
    if (e.mode === null ? e.parent !== null : (e.mode === 'full') !== (e.parent === null)) {
      const what = e.mode === null ? 'an attempt that never planned has no' : `a ${e.mode} send ${e.mode === 'full' ? 'has no' : 'needs a'}`;
      throw new FerryError('INVALID_INPUT', `trail entry ${e.id}: ${what} parent`);
    }
    const row: StartRow = {
      id: e.id,
      kind: e.kind ?? 'replicate',
      task: e.task,
      share: e.share,
      snapshot: e.snapshot,
      parent: e.parent,
      mode: e.mode,
      peer: e.peer,
      pool: e.pool,
      reason: e.reason,
      findings: e.findings ?? null,
      started_at: normalizeTimestamp(e.startedAt, 'startedAt'),
    };
    try {
      this.insertStmt.run(row);
    } catch (err) {
      if (isDuplicateKey(err)) {
        throw new FerryError('ALREADY_EXISTS', `the ${this.#label} holds attempt ${e.id} already`, { cause: err });
      }
      throw mapConstraint(err, `trail entry ${e.id}`);
    }
  }

  /**
   * Sets the bytes moved so far. NOT_FOUND for an unknown id; a late call for
   * an attempt that has finished already changes nothing.
   */
  progress(id: string, bytes: number): void {
    if (this.progressStmt.run(checkCount(bytes, 'bytes'), id).changes === 0) this.mustExist(id);
  }

  get(id: string): E | undefined {
    return this.getStmt.get(id);
  }

  /** The newest succeeded attempt of the task. */
  lastSucceeded(task: string): E | undefined {
    return this.lastSucceededStmt.get(task);
  }

  /** How many entries are past the limits at `now`. */
  beyond(limits: TrailLimits, now: Date): number {
    return this.beyondStmt.get(this.#limitParams(limits, now))?.n ?? 0;
  }

  /** Deletes the entries past the limits at `now`; returns how many. Writes nothing when there are none. */
  prune(limits: TrailLimits, now: Date): number {
    const params = this.#limitParams(limits, now);
    if ((this.beyondStmt.get(params)?.n ?? 0) === 0) return 0;
    return this.pruneStmt.run(params).changes;
  }

  #limitParams(limits: TrailLimits, now: Date): { cutoff: string; keep: number } {
    const days = checkCount(limits.keepDays, 'keepDays');
    return { cutoff: new Date(now.getTime() - days * 86_400_000).toISOString(), keep: checkCount(limits.keepPerTask, 'keepPerTask') };
  }

  /** Ends every running attempt as interrupted (after a crash); returns how many. */
  interruptRunning(endedAt: string): number {
    const at = normalizeTimestamp(endedAt, 'endedAt');
    return this.interruptStmt.run(at, 'Ferry stopped while the attempt was running').changes;
  }

  protected finishRow(id: string, r: TrailFinish): FinishRow {
    if (!finished.includes(r.status)) {
      throw new FerryError('INVALID_INPUT', `trail entry ${id}: cannot finish with status ${JSON.stringify(r.status)}`);
    }
    return {
      id,
      status: r.status,
      ended_at: normalizeTimestamp(r.endedAt, 'endedAt'),
      bytes: checkCount(r.bytes, 'bytes'),
      error_code: r.errorCode,
      error: r.error === null ? null : clipText(r.error),
      retention: r.retention === undefined || r.retention === null ? null : clipText(r.retention),
    };
  }

  /** After a finish that changed no row: NOT_FOUND, or the attempt had finished already. */
  protected refuseFinish(id: string): never {
    const existing = this.mustExist(id);
    throw new FerryError(
      'INTERNAL',
      `attempt ${id} in the ${this.#label} has finished already (${existing.status}); a trail entry is finished once`,
    );
  }

  protected select(filters: Readonly<Record<string, string | undefined>>, options: TrailListOptions): E[] {
    const params: ListParams = { limit: options.limit === undefined ? -1 : checkCount(options.limit, 'limit') };
    const where: string[] = [];
    for (const c of this.filterColumns) {
      const value = filters[c];
      if (value === undefined) continue;
      where.push(`${c} = @${c}`);
      params[c] = value;
    }
    if (options.since !== undefined) {
      where.push('started_at >= @since');
      params.since = normalizeTimestamp(options.since, 'since');
    }
    if (options.until !== undefined) {
      where.push('started_at < @until');
      params.until = normalizeTimestamp(options.until, 'until');
    }
    if (options.before !== undefined) {
      this.mustExist(options.before);
      // Strictly after the cursor in the listing order, which the indexes on (…, started_at) serve directly.
      where.push(`(started_at, rowid) < (SELECT started_at, rowid FROM ${this.table} WHERE id = @before)`);
      params.before = options.before;
    }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')} `;
    let stmt = this.listStmts.get(clause);
    if (stmt === undefined) {
      stmt = this.#db.prepare(`${this.#listSelect} ${clause}${newestFirst} LIMIT @limit`);
      this.listStmts.set(clause, stmt);
    }
    return stmt.all(params) as E[];
  }

  private mustExist(id: string): E {
    const existing = this.getStmt.get(id);
    if (existing === undefined) throw new FerryError('NOT_FOUND', `the ${this.#label} has no attempt ${id}`);
    return existing;
  }
}
