// Opening the SQLite file: the pragmas every connection needs, and 0600 for a new file.
import { chmodSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { FerryError } from '../domain/errors.js';

export type Db = Database.Database;

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
export const busyTimeoutMs = 5000;

function isMemory(path: string): boolean {
  return path === ':memory:' || path === '';
}

/** Opens (creating if need be) the database at `path`, or in memory for ':memory:'. */
export function openDatabase(path: string): Db {
  const isNew = !isMemory(path) && !existsSync(path);
  let db: Db;
  try {
    db = new Database(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new FerryError('INTERNAL', `cannot open the database ${path}: ${why}`, { cause: err });
  }
  try {
    // Before the first write: SQLite gives the -wal and -shm files the main file's mode.
    if (isNew) chmodSync(path, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  } catch (err) {
    db.close();
    throw damaged(path, err) ?? err;
  }
  return db;
}

/**
 * SQLite's word for a file that is no database, or one whose pages do not
 * hold together, as the admin needs it: which file, and the way out.
 */
export function damaged(path: string, err: unknown): FerryError | null {
  const code = (err as { code?: string } | null)?.code;
  if (code !== 'SQLITE_CORRUPT' && code !== 'SQLITE_NOTADB') return null;
  const why = err instanceof Error ? err.message : String(err);
  return new FerryError(
    'DATABASE_DAMAGED',
    `the database ${path} is damaged (${why}): stop ferry, move the file aside, and bring this appliance back with 'ferry config import FILE' from its export (the replicas on the pools are not in the database and stay)`,
    { cause: err },
  );
}
