// Pool grants: which peers may write into a pool. A pool without any grant
// takes every paired peer (each in its own directory), as before grants
// existed; once a pool has one, it takes only its granted peers.
import type { Db } from './db.js';

export class GrantRepo {
  private readonly grantStmt;
  private readonly revokeStmt;
  private readonly forPoolStmt;
  private readonly forPeerStmt;
  private readonly isGrantedStmt;
  private readonly anyStmt;
  private readonly removePeerStmt;

  constructor(db: Db) {
    this.grantStmt = db.prepare<[string, string, string]>('INSERT OR IGNORE INTO pool_grants (pool, peer, granted_at) VALUES (?, ?, ?)');
    this.revokeStmt = db.prepare<[string, string]>('DELETE FROM pool_grants WHERE pool = ? AND peer = ?');
    this.forPoolStmt = db.prepare<[string], { peer: string }>('SELECT peer FROM pool_grants WHERE pool = ? ORDER BY peer');
    this.forPeerStmt = db.prepare<[string], { pool: string }>('SELECT pool FROM pool_grants WHERE peer = ? ORDER BY pool');
    this.isGrantedStmt = db.prepare<[string, string], { n: number }>('SELECT 1 AS n FROM pool_grants WHERE pool = ? AND peer = ?');
    this.anyStmt = db.prepare<[string], { n: number }>('SELECT 1 AS n FROM pool_grants WHERE pool = ? LIMIT 1');
    this.removePeerStmt = db.prepare<[string]>('DELETE FROM pool_grants WHERE peer = ?');
  }

  /** Grants the pool to the peer; false when it was granted already. The pool must exist. */
  grant(pool: string, peer: string, at: Date = new Date()): boolean {
    return this.grantStmt.run(pool, peer, at.toISOString()).changes > 0;
  }

  /** False when the peer had no grant on the pool. */
  revoke(pool: string, peer: string): boolean {
    return this.revokeStmt.run(pool, peer).changes > 0;
  }

  /** Peer ids granted on the pool, sorted. */
  peersOf(pool: string): string[] {
    return this.forPoolStmt.all(pool).map((r) => r.peer);
  }

  /** Pools granted to the peer, sorted. */
  poolsOf(peer: string): string[] {
    return this.forPeerStmt.all(peer).map((r) => r.pool);
  }

  /** Whether the peer may write into the pool: granted, or the pool has no grants at all. */
  admits(pool: string, peer: string): boolean {
    return this.isGrantedStmt.get(pool, peer) !== undefined || this.anyStmt.get(pool) === undefined;
  }

  /** Drops every grant of a peer (it was unpaired); returns how many. */
  removePeer(peer: string): number {
    return this.removePeerStmt.run(peer).changes;
  }
}
