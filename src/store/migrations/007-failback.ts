import { sql, type Migration } from './step.js';

export const v7: Migration = {
  version: 7,
  name: "a failback is a kind of trail entry: the first transfer of a promoted share back to the appliance its replica came from",
  // Both trails are copied, in order, into tables whose kind may also be 'failback'.
  up: sql(`
      CREATE TABLE receive_trail_v7 (
        id           TEXT PRIMARY KEY NOT NULL,
        kind         TEXT NOT NULL DEFAULT 'replicate' CHECK (kind IN ('replicate', 'restore', 'promote', 'clone', 'failback')),
        task         TEXT NOT NULL,
        share        TEXT NOT NULL,
        snapshot     TEXT NOT NULL,
        parent       TEXT,
        mode         TEXT CHECK (mode IN ('full', 'incremental')),
        peer         TEXT NOT NULL,
        pool         TEXT NOT NULL,
        reason       TEXT,
        status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
        started_at   TEXT NOT NULL,
        ended_at     TEXT,
        bytes        INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
        error_code   TEXT,
        error        TEXT,
        replica_path TEXT,
        findings     TEXT,
        retention    TEXT,
        CHECK (CASE WHEN mode IS NULL THEN parent IS NULL ELSE (mode = 'full') = (parent IS NULL) END)
      ) STRICT;
      INSERT INTO receive_trail_v7 (id, kind, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, replica_path, findings, retention)
        SELECT id, kind, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, replica_path, findings, retention
          FROM receive_trail ORDER BY rowid;
      DROP TABLE receive_trail;
      ALTER TABLE receive_trail_v7 RENAME TO receive_trail;
      CREATE INDEX receive_trail_started ON receive_trail (started_at);
      CREATE INDEX receive_trail_peer ON receive_trail (peer, share, started_at);
      CREATE INDEX receive_trail_share ON receive_trail (share, started_at);
      CREATE INDEX receive_trail_status ON receive_trail (status, started_at);

      CREATE TABLE send_trail_v7 (
        id          TEXT PRIMARY KEY NOT NULL,
        kind        TEXT NOT NULL DEFAULT 'replicate' CHECK (kind IN ('replicate', 'restore', 'promote', 'clone', 'failback')),
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
      INSERT INTO send_trail_v7 (id, kind, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, findings, retention)
        SELECT id, kind, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, findings, retention
          FROM send_trail ORDER BY rowid;
      DROP TABLE send_trail;
      ALTER TABLE send_trail_v7 RENAME TO send_trail;
      CREATE INDEX send_trail_started ON send_trail (started_at);
      CREATE INDEX send_trail_task ON send_trail (task, started_at);
      CREATE INDEX send_trail_status ON send_trail (status, started_at);
    `),
};
