import { sql, trailTable, type Migration } from './step.js';

export const v1: Migration = {
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
};
