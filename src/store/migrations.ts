// Schema migrations: numbered from 1, applied in order, each in its own
// transaction together with the bump of PRAGMA user_version, so a failed
// migration leaves the database at the last version that succeeded.
import { FerryError } from '../domain/errors.js';
import type { Db } from './db.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: (db: Db) => void;
}

const sql =
  (text: string) =>
  (db: Db): void => {
    db.exec(text);
  };

function trailTable(name: string, extraColumns: string): string {
  return `
    CREATE TABLE ${name} (
      id          TEXT PRIMARY KEY NOT NULL,
      task        TEXT NOT NULL,
      share       TEXT NOT NULL,
      snapshot    TEXT NOT NULL,
      parent      TEXT,
      mode        TEXT NOT NULL CHECK (mode IN ('full', 'incremental')),
      peer        TEXT NOT NULL,
      pool        TEXT NOT NULL,
      reason      TEXT,
      status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
      started_at  TEXT NOT NULL,
      ended_at    TEXT,
      bytes       INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
      error_code  TEXT,
      error       TEXT${extraColumns},
      CHECK ((mode = 'full') = (parent IS NULL))
    ) STRICT;`;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'tasks, pools, settings, send and receive trails',
    up: sql(`
      CREATE TABLE tasks (
        name         TEXT PRIMARY KEY NOT NULL,
        share_path   TEXT NOT NULL,
        share        TEXT NOT NULL,
        peer         TEXT NOT NULL,
        pool         TEXT NOT NULL,
        schedule     TEXT NOT NULL,
        keep_local   INTEGER NOT NULL CHECK (keep_local >= 0),
        keep_remote  INTEGER NOT NULL CHECK (keep_remote >= 0),
        paused       INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
        created_at   TEXT NOT NULL
      ) STRICT;

      CREATE TABLE pools (
        name        TEXT PRIMARY KEY NOT NULL,
        path        TEXT NOT NULL,
        created_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE settings (
        key    TEXT PRIMARY KEY NOT NULL,
        value  TEXT NOT NULL
      ) STRICT;

      ${trailTable('send_trail', '')}
      CREATE INDEX send_trail_started ON send_trail (started_at);
      CREATE INDEX send_trail_task ON send_trail (task, started_at);
      CREATE INDEX send_trail_status ON send_trail (status, started_at);

      ${trailTable('receive_trail', ',\n      replica_path TEXT')}
      CREATE INDEX receive_trail_started ON receive_trail (started_at);
      CREATE INDEX receive_trail_peer ON receive_trail (peer, share, started_at);
      CREATE INDEX receive_trail_share ON receive_trail (share, started_at);
      CREATE INDEX receive_trail_status ON receive_trail (status, started_at);
    `),
  },
  {
    version: 2,
    name: 'peers, pairing invites and request nonces',
    // Keys are base64url text (32 bytes each). Invite and nonce expiries are unix
    // seconds, as on the wire. An invite's secret is set to NULL the moment the
    // invite is used, burned by wrong proofs, or found expired: it is the HMAC key
    // of the pairing proof and must not outlive its one use.
    up: sql(`
      CREATE TABLE peers (
        id                  TEXT PRIMARY KEY NOT NULL,
        name                TEXT NOT NULL UNIQUE,
        address             TEXT NOT NULL,
        signing_public_key  TEXT NOT NULL,
        box_public_key      TEXT NOT NULL,
        paired_at           TEXT NOT NULL
      ) STRICT;

      CREATE TABLE invites (
        invite_id   TEXT PRIMARY KEY NOT NULL,
        secret      TEXT,
        created_at  TEXT NOT NULL,
        expires_at  INTEGER NOT NULL CHECK (expires_at >= 0),
        used_at     TEXT,
        failures    INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0)
      ) STRICT;

      CREATE TABLE nonces (
        sender      TEXT NOT NULL,
        nonce       TEXT NOT NULL,
        expires_at  INTEGER NOT NULL,
        PRIMARY KEY (sender, nonce)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX nonces_expiry ON nonces (expires_at);
    `),
  },
  {
    version: 3,
    name: 'per-task pool health policy, scheduler slots, health findings in the trails',
    // Defaults follow the boot-degraded choice of seed 003: keep replicating
    // from a degraded source (a fresh copy matters most then), hold writes to
    // a degraded target. last_slot is the schedule slot a task last ran for,
    // written only when a run starts, so an idle daemon writes nothing.
    up: sql(`
      ALTER TABLE tasks ADD COLUMN on_degraded_source TEXT NOT NULL DEFAULT 'replicate' CHECK (on_degraded_source IN ('replicate', 'hold'));
      ALTER TABLE tasks ADD COLUMN on_degraded_target TEXT NOT NULL DEFAULT 'hold' CHECK (on_degraded_target IN ('replicate', 'hold'));
      ALTER TABLE tasks ADD COLUMN last_slot TEXT;
      ALTER TABLE send_trail ADD COLUMN findings TEXT;
      ALTER TABLE receive_trail ADD COLUMN findings TEXT;
    `),
  },
  {
    version: 4,
    name: "the receiver's authority: pool grants, retention floors and quotas, replica chains; share identity of tasks; retention in the trails",
    // A pool without grants takes every paired peer; one with grants only
    // those. A policy row with peer '' is the pool's own, one with a peer id
    // overrides it for that peer, field by field (NULL = not set there).
    // chains/chain_replicas record which source share (its subvolume UUID)
    // each replica directory belongs to, and each replica as it was committed.
    up: sql(`
      CREATE TABLE pool_grants (
        pool        TEXT NOT NULL REFERENCES pools(name) ON DELETE CASCADE,
        peer        TEXT NOT NULL,
        granted_at  TEXT NOT NULL,
        PRIMARY KEY (pool, peer)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX pool_grants_peer ON pool_grants (peer);

      CREATE TABLE pool_policies (
        pool           TEXT NOT NULL REFERENCES pools(name) ON DELETE CASCADE,
        peer           TEXT NOT NULL DEFAULT '',
        keep_at_least  INTEGER CHECK (keep_at_least BETWEEN 1 AND 10000),
        keep_days      INTEGER CHECK (keep_days BETWEEN 1 AND 36500),
        quota_bytes    INTEGER CHECK (quota_bytes >= 0),
        PRIMARY KEY (pool, peer)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE chains (
        id           INTEGER PRIMARY KEY,
        peer         TEXT NOT NULL,
        pool         TEXT NOT NULL,
        share        TEXT NOT NULL,
        source_uuid  TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        UNIQUE (peer, pool, share)
      ) STRICT;

      CREATE TABLE chain_replicas (
        chain          INTEGER NOT NULL REFERENCES chains(id) ON DELETE CASCADE,
        name           TEXT NOT NULL,
        uuid           TEXT NOT NULL UNIQUE,
        received_uuid  TEXT NOT NULL,
        parent         TEXT,
        bytes          INTEGER NOT NULL CHECK (bytes >= 0),
        committed_at   TEXT NOT NULL,
        PRIMARY KEY (chain, name)
      ) STRICT;

      ALTER TABLE tasks ADD COLUMN share_uuid TEXT;
      ALTER TABLE invites ADD COLUMN grant_pool TEXT;
      ALTER TABLE send_trail ADD COLUMN retention TEXT;
      ALTER TABLE receive_trail ADD COLUMN retention TEXT;
    `),
  },
  {
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
  },
  {
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
  },
  {
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
  },
  {
    version: 8,
    name: "an attempt an admin cancelled ends 'cancelled' in both trails (ferry task cancel)",
    // Both trails are copied, in order, into tables whose status may also be 'cancelled'.
    up: sql(`
      CREATE TABLE receive_trail_v8 (
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
        status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'cancelled')),
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
      INSERT INTO receive_trail_v8 (id, kind, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, replica_path, findings, retention)
        SELECT id, kind, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, replica_path, findings, retention
          FROM receive_trail ORDER BY rowid;
      DROP TABLE receive_trail;
      ALTER TABLE receive_trail_v8 RENAME TO receive_trail;
      CREATE INDEX receive_trail_started ON receive_trail (started_at);
      CREATE INDEX receive_trail_peer ON receive_trail (peer, share, started_at);
      CREATE INDEX receive_trail_share ON receive_trail (share, started_at);
      CREATE INDEX receive_trail_status ON receive_trail (status, started_at);

      CREATE TABLE send_trail_v8 (
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
        status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'cancelled')),
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        bytes       INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
        error_code  TEXT,
        error       TEXT,
        findings    TEXT,
        retention   TEXT,
        CHECK (CASE WHEN mode IS NULL THEN parent IS NULL ELSE (mode = 'full') = (parent IS NULL) END)
      ) STRICT;
      INSERT INTO send_trail_v8 (id, kind, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, findings, retention)
        SELECT id, kind, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at, ended_at, bytes, error_code, error, findings, retention
          FROM send_trail ORDER BY rowid;
      DROP TABLE send_trail;
      ALTER TABLE send_trail_v8 RENAME TO send_trail;
      CREATE INDEX send_trail_started ON send_trail (started_at);
      CREATE INDEX send_trail_task ON send_trail (task, started_at);
      CREATE INDEX send_trail_status ON send_trail (status, started_at);
    `),
  },
  {
    version: 9,
    name: 'a pool (or one peer on it) sets how many transfers a peer may hold at once',
    up: sql(`
      ALTER TABLE pool_policies ADD COLUMN max_transfers INTEGER CHECK (max_transfers BETWEEN 1 AND 64);
    `),
  },
];

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
