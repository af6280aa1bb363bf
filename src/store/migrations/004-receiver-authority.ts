import { sql, type Migration } from './step.js';

export const v4: Migration = {
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
};
