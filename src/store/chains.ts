// Replica chains on this appliance as a receiver: which source share each
// `<pool>/<peer>/<share>/` directory belongs to, and each replica committed
// into it. The receiver checks them against the disk (an admin may delete a
// replica by hand); what is recorded here is what the receiver vouches for.
import type { Chain, ChainReplica } from '../domain/chain.js';
import type { Db } from './db.js';
import { checkCount, isDuplicateKey, normalizeTimestamp } from './sql.js';
import { FerryError } from '../domain/errors.js';

export interface ChainFilter {
  readonly peer?: string;
  readonly pool?: string;
  readonly share?: string;
}

interface ReplicaRow {
  chain: number;
  name: string;
  uuid: string;
  received_uuid: string;
  parent: string | null;
  bytes: number;
  committed_at: string;
}

const chainColumns = 'id, peer, pool, share, source_uuid AS sourceUuid, created_at AS createdAt';
const replicaColumns = 'name, uuid, received_uuid AS receivedUuid, parent, bytes, committed_at AS committedAt';

export class ChainRepo {
  private readonly getStmt;
  private readonly insertStmt;
  private readonly rebindStmt;
  private readonly listStmt;
  private readonly replicasStmt;
  private readonly addReplicaStmt;
  private readonly removeReplicaStmt;
  private readonly bytesStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string, string, string], Chain>(`SELECT ${chainColumns} FROM chains WHERE peer = ? AND pool = ? AND share = ?`);
    this.insertStmt = db.prepare<[string, string, string, string, string], Chain>(
      `INSERT INTO chains (peer, pool, share, source_uuid, created_at) VALUES (?, ?, ?, ?, ?) RETURNING ${chainColumns}`,
    );
    this.rebindStmt = db.prepare<[string, number]>('UPDATE chains SET source_uuid = ? WHERE id = ?');
    this.listStmt = db.prepare<[{ peer: string | null; pool: string | null; share: string | null }], Chain>(
      `SELECT ${chainColumns} FROM chains WHERE (@peer IS NULL OR peer = @peer) AND (@pool IS NULL OR pool = @pool) AND (@share IS NULL OR share = @share) ORDER BY pool, peer, share`,
    );
    this.replicasStmt = db.prepare<[number], ChainReplica>(`SELECT ${replicaColumns} FROM chain_replicas WHERE chain = ? ORDER BY name`);
    this.addReplicaStmt = db.prepare<[ReplicaRow]>(
      'INSERT INTO chain_replicas (chain, name, uuid, received_uuid, parent, bytes, committed_at) VALUES (@chain, @name, @uuid, @received_uuid, @parent, @bytes, @committed_at)',
    );
    this.removeReplicaStmt = db.prepare<[number, string]>('DELETE FROM chain_replicas WHERE chain = ? AND name = ?');
    this.bytesStmt = db.prepare<[string, string], { bytes: number | null }>(
      'SELECT SUM(r.bytes) AS bytes FROM chain_replicas r JOIN chains c ON c.id = r.chain WHERE c.peer = ? AND c.pool = ?',
    );
  }

  get(peer: string, pool: string, share: string): Chain | undefined {
    return this.getStmt.get(peer, pool, share);
  }

  /** Starts a chain; ALREADY_EXISTS when that directory has one. */
  create(chain: { peer: string; pool: string; share: string; sourceUuid: string }, at: Date = new Date()): Chain {
    try {
      const created = this.insertStmt.get(chain.peer, chain.pool, chain.share, chain.sourceUuid, at.toISOString());
      if (!created) throw new FerryError('INTERNAL', 'inserting a chain returned nothing');
      return created;
    } catch (err) {
      if (isDuplicateKey(err)) throw new FerryError('ALREADY_EXISTS', `a chain for ${chain.peer}/${chain.share} on pool ${chain.pool} exists already`, { cause: err });
      throw err;
    }
  }

  /** Binds an empty chain to another source share. */
  rebind(chainId: number, sourceUuid: string): void {
    this.rebindStmt.run(sourceUuid, chainId);
  }

  list(filter: ChainFilter = {}): Chain[] {
    return this.listStmt.all({ peer: filter.peer ?? null, pool: filter.pool ?? null, share: filter.share ?? null });
  }

  /** The chain's recorded replicas, by name (oldest first). */
  replicas(chainId: number): ChainReplica[] {
    return this.replicasStmt.all(chainId);
  }

  addReplica(chainId: number, r: ChainReplica): void {
    this.addReplicaStmt.run({
      chain: chainId,
      name: r.name,
      uuid: r.uuid,
      received_uuid: r.receivedUuid,
      parent: r.parent,
      bytes: checkCount(r.bytes, 'bytes'),
      committed_at: normalizeTimestamp(r.committedAt, 'committedAt'),
    });
  }

  removeReplica(chainId: number, name: string): boolean {
    return this.removeReplicaStmt.run(chainId, name).changes > 0;
  }

  /** Stream bytes of every replica a peer holds on a pool: what its quota counts. */
  bytesHeld(peer: string, pool: string): number {
    return this.bytesStmt.get(peer, pool)?.bytes ?? 0;
  }
}
