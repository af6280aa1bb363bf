// Writable subvolumes made from replicas on this appliance (promote, clone,
// restore), with the replica each came from: a later replication of such a
// share can start from that replica instead of a full send (failback), and
// `replica discard` deletes only what `replica clone` made.
import type { WritableCopy } from '../domain/chain.js';
import { FerryError } from '../domain/errors.js';
import type { Db } from './db.js';
import { isDuplicateKey } from './sql.js';

const columns =
  'path, uuid, kind, peer, pool, share, snapshot, base_path AS basePath, base_identity AS baseIdentity, created_at AS createdAt';

export class CopyRepo {
  private readonly insertStmt;
  private readonly byPathStmt;
  private readonly byUuidStmt;
  private readonly listStmt;
  private readonly removeStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[WritableCopy]>(
      'INSERT INTO copies (path, uuid, kind, peer, pool, share, snapshot, base_path, base_identity, created_at) ' +
        'VALUES (@path, @uuid, @kind, @peer, @pool, @share, @snapshot, @basePath, @baseIdentity, @createdAt)',
    );
    this.byPathStmt = db.prepare<[string], WritableCopy>(`SELECT ${columns} FROM copies WHERE path = ?`);
    this.byUuidStmt = db.prepare<[string], WritableCopy>(`SELECT ${columns} FROM copies WHERE uuid = ?`);
    this.listStmt = db.prepare<[], WritableCopy>(`SELECT ${columns} FROM copies ORDER BY created_at, path`);
    this.removeStmt = db.prepare<[string]>('DELETE FROM copies WHERE path = ?');
  }

  add(copy: WritableCopy): void {
    try {
      this.insertStmt.run(copy);
    } catch (err) {
      if (isDuplicateKey(err)) throw new FerryError('ALREADY_EXISTS', `a copy at ${copy.path} is recorded already`, { cause: err });
      throw err;
    }
  }

  get(path: string): WritableCopy | undefined {
    return this.byPathStmt.get(path);
  }

  /** The copy a subvolume is, by its UUID. */
  byUuid(uuid: string): WritableCopy | undefined {
    return this.byUuidStmt.get(uuid);
  }

  list(): WritableCopy[] {
    return this.listStmt.all();
  }

  remove(path: string): boolean {
    return this.removeStmt.run(path).changes > 0;
  }
}
