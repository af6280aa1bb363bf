// Small helpers the repositories share: input checks and SQLite error mapping.
import Database from 'better-sqlite3';
import { z } from 'zod';
import { FerryError } from '../domain/errors.js';

const isoDateTime = z.iso.datetime({ offset: true });

/**
 * An ISO 8601 date-time with a zone, in the one form the store keeps
 * (`Date#toISOString`: UTC, milliseconds), so that text order is time order.
 */
export function normalizeTimestamp(value: string, what: string): string {
  if (!isoDateTime.safeParse(value).success) {
    throw new FerryError('INVALID_INPUT', `${what} must be an ISO 8601 date-time with a zone, got ${JSON.stringify(value)}`);
  }
  return new Date(value).toISOString();
}

export function checkCount(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FerryError('INVALID_INPUT', `${what} must be a whole number of at least 0, got ${value}`);
  }
  return value;
}

/** True when `err` is SQLite refusing a duplicate primary key. */
export function isDuplicateKey(err: unknown): boolean {
  return (
    err instanceof Database.SqliteError &&
    (err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.code === 'SQLITE_CONSTRAINT_UNIQUE')
  );
}

/** A CHECK constraint failure as INVALID_INPUT; anything else unchanged. */
export function mapConstraint(err: unknown, what: string): unknown {
  if (err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_CHECK') {
    return new FerryError('INVALID_INPUT', `${what} was refused by the store: ${err.message}`, { cause: err });
  }
  return err;
}
