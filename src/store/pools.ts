// Pools: named btrfs mounts this appliance's admin declared.
import { FerryError } from '../domain/errors.js';
import type { Db } from './db.js';
import { isDuplicateKey } from './sql.js';

export interface Pool {
  readonly name: string;
  readonly path: string;
  readonly createdAt: string;
}

export class PoolRepo {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly removeStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[string, string, string]>('INSERT INTO pools (name, path, created_at) VALUES (?, ?, ?)');
    this.getStmt = db.prepare<[string], Pool>('SELECT name, path, created_at AS createdAt FROM pools WHERE name = ?');
    this.listStmt = db.prepare<[], Pool>('SELECT name, path, created_at AS createdAt FROM pools ORDER BY name');
    this.removeStmt = db.prepare<[string]>('DELETE FROM pools WHERE name = ?');
  }

  /** Adds a pool, created now; a pool of the same name is refused with ALREADY_EXISTS. */
  add(pool: { name: string; path: string }): void {
    try {
      this.insertStmt.run(pool.name, pool.path, new Date().toISOString());
    } catch (err) {
      if (isDuplicateKey(err)) {
        throw new FerryError('ALREADY_EXISTS', `a pool named ${JSON.stringify(pool.name)} exists already`, { cause: err });
      }
      throw err;
    }
  }

  get(name: string): Pool | undefined {
    return this.getStmt.get(name);
  }

  /** All pools, by name. */
  list(): Pool[] {
    return this.listStmt.all();
  }

  /** Removes the pool; false when there was none of that name. */
  remove(name: string): boolean {
    return this.removeStmt.run(name).changes > 0;
  }
}
