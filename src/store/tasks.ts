// Tasks: one row each, the schedule as JSON checked with zod on the way in and out.
import { z } from 'zod';
import { FerryError } from '../domain/errors.js';
import { defaultHealthPolicy, type DegradedChoice } from '../domain/health.js';
import type { Schedule, Task } from '../domain/task.js';
import type { Db } from './db.js';
import { checkCount, isDuplicateKey, mapConstraint, normalizeTimestamp } from './sql.js';

const scheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('every'), seconds: z.number().int().positive() }),
  z.object({ kind: z.literal('cron'), expr: z.string().min(1) }),
]);

interface TaskRow {
  name: string;
  share_path: string;
  share: string;
  peer: string;
  pool: string;
  schedule: string;
  keep_local: number;
  keep_remote: number;
  paused: number;
  created_at: string;
  on_degraded_source: string;
  on_degraded_target: string;
  share_uuid: string | null;
  retries: number | null;
  retry_backoff_ms: number | null;
}

const columns =
  'name, share_path, share, peer, pool, schedule, keep_local, keep_remote, paused, created_at, on_degraded_source, on_degraded_target, share_uuid, retries, retry_backoff_ms';

function parseSchedule(row: TaskRow): Schedule {
  const where = `tasks row ${JSON.stringify(row.name)}, column schedule`;
  let json: unknown;
  try {
    json = JSON.parse(row.schedule);
  } catch (err) {
    throw new FerryError('INTERNAL', `${where} is not JSON: ${JSON.stringify(row.schedule)}`, { cause: err });
  }
  const parsed = scheduleSchema.safeParse(json);
  if (!parsed.success) {
    throw new FerryError('INTERNAL', `${where} is not a valid schedule: ${z.prettifyError(parsed.error)}`, {
      detail: row.schedule,
    });
  }
  return parsed.data;
}

function fromRow(row: TaskRow): Task {
  return {
    name: row.name,
    sharePath: row.share_path,
    share: row.share,
    peer: row.peer,
    pool: row.pool,
    schedule: parseSchedule(row),
    keepLocal: row.keep_local,
    keepRemote: row.keep_remote,
    paused: row.paused !== 0,
    createdAt: row.created_at,
    healthPolicy: { onDegradedSource: choice(row.on_degraded_source), onDegradedTarget: choice(row.on_degraded_target) },
    ...(row.share_uuid === null ? {} : { shareUuid: row.share_uuid }),
    ...(row.retries === null ? {} : { retries: row.retries }),
    ...(row.retry_backoff_ms === null ? {} : { retryBackoffMs: row.retry_backoff_ms }),
  };
}

export class TaskRepo {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly removeStmt;
  private readonly pauseStmt;
  private readonly getSlotStmt;
  private readonly setSlotStmt;
  private readonly setShareUuidStmt;
  private readonly updateStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[TaskRow]>(
      `INSERT INTO tasks (${columns}) VALUES (@name, @share_path, @share, @peer, @pool, @schedule, @keep_local, @keep_remote, @paused, @created_at, @on_degraded_source, @on_degraded_target, @share_uuid, @retries, @retry_backoff_ms)`,
    );
    this.getStmt = db.prepare<[string], TaskRow>(`SELECT ${columns} FROM tasks WHERE name = ?`);
    this.listStmt = db.prepare<[], TaskRow>(`SELECT ${columns} FROM tasks ORDER BY name`);
    this.removeStmt = db.prepare<[string]>('DELETE FROM tasks WHERE name = ?');
    this.pauseStmt = db.prepare<[number, string]>('UPDATE tasks SET paused = ? WHERE name = ?');
    this.getSlotStmt = db.prepare<[string], { last_slot: string | null }>('SELECT last_slot FROM tasks WHERE name = ?');
    this.setSlotStmt = db.prepare<[string, string]>('UPDATE tasks SET last_slot = ? WHERE name = ?');
    this.setShareUuidStmt = db.prepare<[string, string]>('UPDATE tasks SET share_uuid = ? WHERE name = ?');
    this.updateStmt = db.prepare<[Pick<TaskRow, 'name' | 'schedule' | 'keep_local' | 'keep_remote' | 'on_degraded_source' | 'on_degraded_target' | 'retries' | 'retry_backoff_ms'>]>(
      'UPDATE tasks SET schedule = @schedule, keep_local = @keep_local, keep_remote = @keep_remote, on_degraded_source = @on_degraded_source, ' +
        'on_degraded_target = @on_degraded_target, retries = @retries, retry_backoff_ms = @retry_backoff_ms WHERE name = @name',
    );
  }

  /**
   * Saves what an admin may change of a task: schedule, retention, health
   * policy and retries. Its share, peer and pool stay: they are the chain's
   * identity (another target is another task). False when there is none.
   */
  update(task: Task): boolean {
    const schedule = scheduleSchema.safeParse(task.schedule);
    if (!schedule.success) throw new FerryError('INVALID_INPUT', `task ${JSON.stringify(task.name)}: invalid schedule: ${z.prettifyError(schedule.error)}`);
    const policy = task.healthPolicy ?? defaultHealthPolicy;
    return (
      this.updateStmt.run({
        name: task.name,
        schedule: JSON.stringify(schedule.data),
        keep_local: checkCount(task.keepLocal, 'keepLocal'),
        keep_remote: checkCount(task.keepRemote, 'keepRemote'),
        on_degraded_source: policy.onDegradedSource,
        on_degraded_target: policy.onDegradedTarget,
        retries: task.retries ?? null,
        retry_backoff_ms: task.retryBackoffMs ?? null,
      }).changes > 0
    );
  }

  /** Adds a task; a task of the same name is refused with ALREADY_EXISTS. */
  add(task: Task): void {
    const schedule = scheduleSchema.safeParse(task.schedule);
    if (!schedule.success) {
      throw new FerryError('INVALID_INPUT', `task ${JSON.stringify(task.name)}: invalid schedule: ${z.prettifyError(schedule.error)}`);
    }
    const row: TaskRow = {
      name: task.name,
      share_path: task.sharePath,
      share: task.share,
      peer: task.peer,
      pool: task.pool,
      schedule: JSON.stringify(schedule.data),
      keep_local: checkCount(task.keepLocal, 'keepLocal'),
      keep_remote: checkCount(task.keepRemote, 'keepRemote'),
      paused: task.paused ? 1 : 0,
      created_at: normalizeTimestamp(task.createdAt, 'createdAt'),
      on_degraded_source: (task.healthPolicy ?? defaultHealthPolicy).onDegradedSource,
      on_degraded_target: (task.healthPolicy ?? defaultHealthPolicy).onDegradedTarget,
      share_uuid: task.shareUuid ?? null,
      retries: task.retries ?? null,
      retry_backoff_ms: task.retryBackoffMs ?? null,
    };
    try {
      this.insertStmt.run(row);
    } catch (err) {
      if (isDuplicateKey(err)) {
        throw new FerryError('ALREADY_EXISTS', `a task named ${JSON.stringify(task.name)} exists already`, { cause: err });
      }
      throw mapConstraint(err, `task ${JSON.stringify(task.name)}`);
    }
  }

  get(name: string): Task | undefined {
    const row = this.getStmt.get(name);
    return row === undefined ? undefined : fromRow(row);
  }

  /** All tasks, by name. */
  list(): Task[] {
    return this.listStmt.all().map(fromRow);
  }

  /** The share was restored in place: a new subvolume at the task's share path. */
  setShareUuid(name: string, uuid: string): void {
    this.setShareUuidStmt.run(uuid, name);
  }

  /** Removes the task; false when there was none of that name. */
  remove(name: string): boolean {
    return this.removeStmt.run(name).changes > 0;
  }

  /** The schedule slot the task last ran for (the scheduler's memory across restarts). */
  lastSlot(name: string): Date | null {
    const slot = this.getSlotStmt.get(name)?.last_slot;
    return slot ? new Date(slot) : null;
  }

  setLastSlot(name: string, slot: Date): void {
    this.setSlotStmt.run(slot.toISOString(), name);
  }

  /** Pauses or resumes the task; false when there is none of that name. */
  setPaused(name: string, paused: boolean): boolean {
    return this.pauseStmt.run(paused ? 1 : 0, name).changes > 0;
  }
}

function choice(value: string): DegradedChoice {
  return value === 'hold' ? 'hold' : 'replicate';
}
