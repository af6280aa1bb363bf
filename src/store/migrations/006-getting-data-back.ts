import { sql, type Migration } from './step.js';

export const v6: Migration = {
  version: 6,
  name: 'getting data back: kinds of trail entry (replicate, restore, promote, clone), writable copies made from replicas',
  // The receive trail is copied, in order, into a table whose mode may be
  // NULL (a promote or a clone moves no stream); both trails get a kind.
  // copies: every writable subvolume made from a replica on this appliance
  // (promote, clone, or a restore's share), with the identity of the replica
  // it came from: the common ground of a failback, and what discard may delete.
  up: sql(`
      CREATE TABLE receive_trail_v6 (
        id           TEXT PRIMARY KEY NOT NULL,
        kind         TEXT NOT NULL DEFAULT 'replicate' CHECK (kind IN ('replicate', 'restore', 'promote', 'clone')),
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
      INSERT INTO receive_trail_v6 (id, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, replica_path, findings, retention)
        SELECT id, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, replica_path, findings, retention
          FROM receive_trail ORDER BY rowid;
      DROP TABLE receive_trail;
      ALTER TABLE receive_trail_v6 RENAME TO receive_trail;
      CREATE INDEX receive_trail_started ON receive_trail (started_at);
      CREATE INDEX receive_trail_peer ON receive_trail (peer, share, started_at);
      CREATE INDEX receive_trail_share ON receive_trail (share, started_at);
      CREATE INDEX receive_trail_status ON receive_trail (status, started_at);

      ALTER TABLE send_trail ADD COLUMN kind TEXT NOT NULL DEFAULT 'replicate' CHECK (kind IN ('replicate', 'restore', 'promote', 'clone'));

      CREATE TABLE copies (
        path         TEXT PRIMARY KEY NOT NULL,
        uuid         TEXT NOT NULL UNIQUE,
        kind         TEXT NOT NULL CHECK (kind IN ('promote', 'clone', 'restore')),
        peer         TEXT NOT NULL,
        pool         TEXT NOT NULL,
        share        TEXT NOT NULL,
        snapshot     TEXT NOT NULL,
        base_path    TEXT NOT NULL,
        base_identity TEXT NOT NULL,
        created_at   TEXT NOT NULL
      ) STRICT;
    `),
};
