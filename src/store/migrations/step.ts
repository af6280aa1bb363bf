// What a migration is, and the helpers the steps share. Each step is a file
// of its own in this folder, named for its version and what it brings;
// ../migrations.ts lists them in order and applies them.

import type { Db } from '../db.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: (db: Db) => void;
}

export const sql =
  (text: string) =>
  (db: Db): void => {
    db.exec(text);
  };

export function trailTable(name: string, extraColumns: string): string {
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
