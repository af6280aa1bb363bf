import { sql, type Migration } from './step.js';

export const v2: Migration = {
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
};
