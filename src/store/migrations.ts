// Schema migrations: numbered from 1, applied in order, each in its own
// transaction together with the bump of PRAGMA user_version, so a failed
// migration leaves the database at the last version that succeeded.
import { FerryError } from '../domain/errors.js';
import type { Db } from './db.js';
import { v1 } from './migrations/001-tasks-pools-trails.js';
import { v2 } from './migrations/002-peers-pairing.js';
import { v3 } from './migrations/003-health-policy.js';
import { v4 } from './migrations/004-receiver-authority.js';
import { v5 } from './migrations/005-attempts-without-plan.js';
import { v6 } from './migrations/006-getting-data-back.js';
import { v7 } from './migrations/007-failback.js';
import { v8 } from './migrations/008-cancelled.js';
import { v9 } from './migrations/009-transfers-per-peer.js';
import type { Migration } from './migrations/step.js';

export type { Migration } from './migrations/step.js';

/** Every step, in order: each in ./migrations/, a file per version and what it brings. */
export const migrations: readonly Migration[] = [v1, v2, v3, v4, v5, v6, v7, v8, v9];

function userVersion(db: Db): number {
  const v = db.pragma('user_version', { simple: true });
  if (typeof v !== 'number') throw new FerryError('INTERNAL', `unexpected PRAGMA user_version: ${String(v)}`);
  return v;
}

function checkNumbering(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new FerryError('INTERNAL', `migration "${m.name}" has version ${m.version}; expected ${i + 1}`);
    }
  });
}

/**
 * Brings the schema up to the newest version in `list`. Refuses a database
 * whose version is newer than the code knows (written by a newer Ferry).
 */
export function migrate(db: Db, list: readonly Migration[] = migrations): { from: number; to: number } {
  checkNumbering(list);
  const latest = list.length;
  const from = userVersion(db);
  if (from > latest) {
    throw new FerryError(
      'INTERNAL',
      `the database ${db.name} has schema version ${from}, but this Ferry knows versions up to ${latest} only; ` +
        'it was written by a newer Ferry: upgrade Ferry (downgrading the database is not supported)',
    );
  }
  for (const m of list.slice(from)) {
    // IMMEDIATE takes the write lock first, so two processes cannot apply the same step.
    db.transaction(() => {
      const now = userVersion(db);
      if (now >= m.version) return; // another connection applied it meanwhile
      try {
        m.up(db);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new FerryError('INTERNAL', `migration ${m.version} (${m.name}) failed: ${why}`, { cause: err });
      }
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return { from, to: userVersion(db) };
}
