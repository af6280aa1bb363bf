import { sql, type Migration } from './step.js';

export const v5: Migration = {
  version: 5,
  name: 'send attempts that never planned have no mode and no snapshot; retries per task',
  // SQLite cannot change a CHECK in place: the send trail is copied into a
  // table whose mode and snapshot may be NULL (an attempt that failed before
  // planning, such as one whose receiver could not be asked), in the same
  // order. Attempts recorded before as 'full' with an empty snapshot and a
  // "not planned" reason become what they were.
  up: sql(`
      CREATE TABLE send_trail_v5 (
        id          TEXT PRIMARY KEY NOT NULL,
        task        TEXT NOT NULL,
        share       TEXT NOT NULL,
        snapshot    TEXT CHECK (snapshot <> ''),
        parent      TEXT,
        mode        TEXT CHECK (mode IN ('full', 'incremental')),
        peer        TEXT NOT NULL,
        pool        TEXT NOT NULL,
        reason      TEXT,
        status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        bytes       INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
        error_code  TEXT,
        error       TEXT,
        findings    TEXT,
        retention   TEXT,
        CHECK (CASE WHEN mode IS NULL THEN parent IS NULL ELSE (mode = 'full') = (parent IS NULL) END)
      ) STRICT;
      INSERT INTO send_trail_v5 (id, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, findings, retention)
        SELECT id, task, share,
               NULLIF(snapshot, ''),
               parent,
               CASE WHEN snapshot = '' AND parent IS NULL AND reason LIKE 'not planned:%' THEN NULL ELSE mode END,
               peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, findings, retention
          FROM send_trail ORDER BY rowid;
      DROP TABLE send_trail;
      ALTER TABLE send_trail_v5 RENAME TO send_trail;
      CREATE INDEX send_trail_started ON send_trail (started_at);
      CREATE INDEX send_trail_task ON send_trail (task, started_at);
      CREATE INDEX send_trail_status ON send_trail (status, started_at);

      ALTER TABLE tasks ADD COLUMN retries INTEGER CHECK (retries BETWEEN 0 AND 20);
      ALTER TABLE tasks ADD COLUMN retry_backoff_ms INTEGER CHECK (retry_backoff_ms BETWEEN 100 AND 3600000);
    `),
};
