// Request nonces seen from each peer, kept until their expiry (unix seconds) so
// that a replayed signed request is refused. The receiver keeps a nonce for at
// least twice the allowed clock skew; anything older fails the time check.
import type { Db } from './db.js';

export class NonceRepo {
  private readonly insertStmt;
  private readonly hasStmt;
  private readonly purgeStmt;
  private readonly expiredStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[string, string, number]>(
      'INSERT INTO nonces (sender, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT (sender, nonce) DO NOTHING',
    );
    this.hasStmt = db.prepare<[string, string], number>('SELECT 1 FROM nonces WHERE sender = ? AND nonce = ?').pluck();
    this.purgeStmt = db.prepare<[number]>('DELETE FROM nonces WHERE expires_at <= ?');
    this.expiredStmt = db.prepare<[number], { n: number }>('SELECT 1 AS n FROM nonces WHERE expires_at <= ? LIMIT 1');
  }

  /** Remembers the nonce; false (and nothing changed) when it was there already. Atomic. */
  remember(sender: string, nonce: string, expiresAt: number): boolean {
    return this.insertStmt.run(sender, nonce, expiresAt).changes === 1;
  }

  /** Whether the nonce is remembered (expired ones count until purged). */
  has(sender: string, nonce: string): boolean {
    return this.hasStmt.get(sender, nonce) !== undefined;
  }

  /** Forgets nonces expired at `now` (unix seconds); returns how many. */
  purge(now: number): number {
    if (this.expiredStmt.get(now) === undefined) return 0;
    return this.purgeStmt.run(now).changes;
  }
}
