// Pairing invites this appliance printed. The secret is the HMAC key of the
// accepter's proof, so it is kept only while the invite can still be used: it is
// set to NULL when the invite is used, burned (too many wrong proofs) or found
// expired, and the row itself goes once it is past its expiry (purgeExpired).
// Expiries are unix seconds, as in the invite line.
import { FerryError } from '../domain/errors.js';
import type { Db } from './db.js';
import { isDuplicateKey } from './sql.js';

/** Wrong proofs an invite survives: the next one burns it. */
export const MAX_INVITE_FAILURES = 5;

export type InviteState = 'open' | 'used' | 'burned' | 'expired';

export interface StoredInvite {
  readonly inviteId: string;
  /** base64url of the 32-byte secret; null once the invite can no longer be used. */
  readonly secret: string | null;
  /** ISO 8601, UTC. */
  readonly createdAt: string;
  /** Unix seconds. */
  readonly expiresAt: number;
  /** ISO 8601 when it was used, else null. */
  readonly usedAt: string | null;
  /** Wrong proofs so far. */
  readonly failures: number;
  readonly state: InviteState;
  /** A pool granted to whoever accepts the invite; null for none. */
  readonly grantPool: string | null;
}

interface InviteRow {
  invite_id: string;
  secret: string | null;
  created_at: string;
  expires_at: number;
  used_at: string | null;
  failures: number;
  grant_pool: string | null;
}

const columns = 'invite_id, secret, created_at, expires_at, used_at, failures, grant_pool';
const INVITE_ID_PATTERN = /^[A-Za-z0-9_-]{8,32}$/;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function stateOf(row: InviteRow, now: number): InviteState {
  if (row.used_at !== null) return 'used';
  if (row.failures >= MAX_INVITE_FAILURES) return 'burned';
  if (row.expires_at <= now || row.secret === null) return 'expired';
  return 'open';
}

export class InviteRepo {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly useStmt;
  private readonly failStmt;
  private readonly forgetExpiredSecretsStmt;
  private readonly purgeStmt;
  private readonly anyExpiredStmt;
  private readonly removeStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[InviteRow]>(
      `INSERT INTO invites (${columns}) VALUES (@invite_id, @secret, @created_at, @expires_at, @used_at, @failures, @grant_pool)`,
    );
    this.getStmt = db.prepare<[string], InviteRow>(`SELECT ${columns} FROM invites WHERE invite_id = ?`);
    this.listStmt = db.prepare<[], InviteRow>(`SELECT ${columns} FROM invites ORDER BY created_at, invite_id`);
    // One statement, so that two accepts racing on one invite cannot both win.
    this.useStmt = db.prepare<[string, string, number]>(
      `UPDATE invites SET used_at = ?, secret = NULL
         WHERE invite_id = ? AND used_at IS NULL AND secret IS NOT NULL
           AND failures < ${MAX_INVITE_FAILURES} AND expires_at > ?`,
    );
    this.failStmt = db.prepare<[string], { failures: number }>(
      `UPDATE invites SET failures = failures + 1,
              secret = CASE WHEN failures + 1 >= ${MAX_INVITE_FAILURES} THEN NULL ELSE secret END
         WHERE invite_id = ? AND used_at IS NULL AND secret IS NOT NULL
         RETURNING failures`,
    );
    this.forgetExpiredSecretsStmt = db.prepare<[number]>('UPDATE invites SET secret = NULL WHERE secret IS NOT NULL AND expires_at <= ?');
    this.purgeStmt = db.prepare<[number]>('DELETE FROM invites WHERE expires_at <= ?');
    this.anyExpiredStmt = db.prepare<[number], { n: number }>('SELECT 1 AS n FROM invites WHERE expires_at <= ? LIMIT 1');
    this.removeStmt = db.prepare<[string]>('DELETE FROM invites WHERE invite_id = ?');
  }

  /** Records a new invite. `secret` is the 32-byte secret, raw or as base64url. */
  create(invite: { inviteId: string; secret: Uint8Array | string; expiresAt: number; createdAt?: string; grantPool?: string | null }): StoredInvite {
    if (!INVITE_ID_PATTERN.test(invite.inviteId)) throw new FerryError('INVALID_INPUT', 'an invite id is 8 to 32 base64url characters');
    const secret =
      typeof invite.secret === 'string' ? invite.secret : Buffer.from(invite.secret.buffer, invite.secret.byteOffset, invite.secret.length).toString('base64url');
    if (!SECRET_PATTERN.test(secret)) throw new FerryError('INVALID_INPUT', 'an invite secret is 32 bytes');
    if (!Number.isSafeInteger(invite.expiresAt) || invite.expiresAt < 0) throw new FerryError('INVALID_INPUT', 'expiresAt must be unix seconds');
    const row: InviteRow = {
      invite_id: invite.inviteId,
      secret,
      created_at: invite.createdAt ?? new Date().toISOString(),
      expires_at: invite.expiresAt,
      used_at: null,
      failures: 0,
      grant_pool: invite.grantPool ?? null,
    };
    try {
      this.insertStmt.run(row);
    } catch (err) {
      if (isDuplicateKey(err)) throw new FerryError('ALREADY_EXISTS', `an invite with id ${invite.inviteId} exists already`, { cause: err });
      throw err;
    }
    return this.#toInvite(row, nowSeconds());
  }

  /** The invite as stored, its state judged at `now` (unix seconds). The secret is null unless the invite is open. */
  get(inviteId: string, now: number = nowSeconds()): StoredInvite | undefined {
    const row = this.getStmt.get(inviteId);
    return row === undefined ? undefined : this.#toInvite(row, now);
  }

  /** The secret of an invite that can still be used at `now`, else undefined. */
  secretOf(inviteId: string, now: number = nowSeconds()): string | undefined {
    const invite = this.get(inviteId, now);
    return invite?.state === 'open' && invite.secret !== null ? invite.secret : undefined;
  }

  list(now: number = nowSeconds()): StoredInvite[] {
    return this.listStmt.all().map((row) => this.#toInvite(row, now));
  }

  /**
   * Uses the invite up, atomically, and forgets its secret. False when it was
   * used already, burned, expired at `now`, or unknown: then nothing changed.
   */
  markUsed(inviteId: string, now: number = nowSeconds(), at: Date = new Date()): boolean {
    return this.useStmt.run(at.toISOString(), inviteId, now).changes === 1;
  }

  /**
   * Counts a wrong proof. The MAX_INVITE_FAILURES-th burns the invite (its secret
   * is forgotten). Returns the failures so far and whether the invite is burned;
   * an invite already used, burned or unknown is left alone.
   */
  recordFailure(inviteId: string): { failures: number; burned: boolean } {
    const row = this.failStmt.get(inviteId);
    if (row === undefined) {
      const known = this.getStmt.get(inviteId);
      return { failures: known?.failures ?? 0, burned: known ? known.failures >= MAX_INVITE_FAILURES : false };
    }
    return { failures: row.failures, burned: row.failures >= MAX_INVITE_FAILURES };
  }

  /** Forgets the secrets of invites expired at `now` and deletes those rows; returns how many rows went. */
  purgeExpired(now: number = nowSeconds()): number {
    // Nothing expired, nothing written.
    if (this.anyExpiredStmt.get(now) === undefined) return 0;
    this.forgetExpiredSecretsStmt.run(now);
    return this.purgeStmt.run(now).changes;
  }

  /** Revokes an invite; false when there was none with that id. */
  remove(inviteId: string): boolean {
    return this.removeStmt.run(inviteId).changes > 0;
  }

  #toInvite(row: InviteRow, now: number): StoredInvite {
    const state = stateOf(row, now);
    return {
      inviteId: row.invite_id,
      secret: state === 'open' ? row.secret : null,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      usedAt: row.used_at,
      failures: row.failures,
      state,
      grantPool: row.grant_pool,
    };
  }
}
