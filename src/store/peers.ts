// Peers: the appliances this one is paired with, and the public keys it trusts
// for them. Keys are kept as base64url text (32 bytes each), as on the wire.
import { FerryError } from '../domain/errors.js';
import { nameProblem } from '../domain/names.js';
import type { Db } from './db.js';
import { isDuplicateKey, normalizeTimestamp } from './sql.js';

export interface Peer {
  /** The appliance id, derived from the signing key ("f" + 20 base32 characters). */
  readonly id: string;
  /** The name the peer gave itself at pairing; unique among this appliance's peers. */
  readonly name: string;
  /** Base URL of the peer's peer API (the proto `address`), without a trailing slash. */
  readonly address: string;
  /** Ed25519 public key, base64url. */
  readonly signingPublicKey: string;
  /** X25519 public key, base64url. */
  readonly boxPublicKey: string;
  /** ISO 8601, UTC. */
  readonly pairedAt: string;
}

interface PeerRow {
  id: string;
  name: string;
  address: string;
  signing_public_key: string;
  box_public_key: string;
  paired_at: string;
}

const columns = 'id, name, address, signing_public_key, box_public_key, paired_at';

const fromRow = (row: PeerRow): Peer => ({
  id: row.id,
  name: row.name,
  address: row.address,
  signingPublicKey: row.signing_public_key,
  boxPublicKey: row.box_public_key,
  pairedAt: row.paired_at,
});

const ID_PATTERN = /^f[a-z2-7]{20}$/;
/** 32 bytes as unpadded base64url: 43 characters, the last carrying 4 zero bits. */
const KEY_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const ADDRESS_PATTERN = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*[^\s?#/])?$/;

function checkAddress(address: string): string {
  if (address.length > 2048 || !ADDRESS_PATTERN.test(address)) {
    throw new FerryError('INVALID_INPUT', `peer address ${JSON.stringify(address.slice(0, 100))} is not an http(s) base URL without a trailing slash`);
  }
  return address;
}

function check(peer: Omit<Peer, 'pairedAt'>): void {
  if (!ID_PATTERN.test(peer.id)) throw new FerryError('INVALID_INPUT', `peer id ${JSON.stringify(peer.id.slice(0, 80))} is not an appliance id`);
  const problem = nameProblem('peer', peer.name);
  if (problem !== null) throw new FerryError('INVALID_NAME', problem);
  checkAddress(peer.address);
  for (const [what, key] of [
    ['signing', peer.signingPublicKey],
    ['box', peer.boxPublicKey],
  ] as const) {
    if (!KEY_PATTERN.test(key)) throw new FerryError('INVALID_INPUT', `peer ${peer.id}: the ${what} public key is not 32 bytes of base64url`);
  }
}

export class PeerRepo {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly getByNameStmt;
  private readonly listStmt;
  private readonly removeStmt;
  private readonly addressStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare<[PeerRow]>(
      `INSERT INTO peers (${columns}) VALUES (@id, @name, @address, @signing_public_key, @box_public_key, @paired_at)`,
    );
    this.getStmt = db.prepare<[string], PeerRow>(`SELECT ${columns} FROM peers WHERE id = ?`);
    this.getByNameStmt = db.prepare<[string], PeerRow>(`SELECT ${columns} FROM peers WHERE name = ?`);
    this.listStmt = db.prepare<[], PeerRow>(`SELECT ${columns} FROM peers ORDER BY name`);
    this.removeStmt = db.prepare<[string]>('DELETE FROM peers WHERE id = ?');
    this.addressStmt = db.prepare<[string, string]>('UPDATE peers SET address = ? WHERE id = ?');
  }

  /**
   * Stores a peer, paired now unless `pairedAt` says otherwise. A peer with the
   * same id or the same name is refused with ALREADY_EXISTS.
   */
  add(peer: Omit<Peer, 'pairedAt'> & { pairedAt?: string }): Peer {
    check(peer);
    const row: PeerRow = {
      id: peer.id,
      name: peer.name,
      address: peer.address,
      signing_public_key: peer.signingPublicKey,
      box_public_key: peer.boxPublicKey,
      paired_at: normalizeTimestamp(peer.pairedAt ?? new Date().toISOString(), 'pairedAt'),
    };
    try {
      this.insertStmt.run(row);
    } catch (err) {
      if (isDuplicateKey(err)) {
        const which = this.getStmt.get(peer.id) ? `id ${peer.id}` : `name ${JSON.stringify(peer.name)}`;
        throw new FerryError('ALREADY_EXISTS', `a peer with ${which} is paired already`, { cause: err });
      }
      throw err;
    }
    return fromRow(row);
  }

  get(id: string): Peer | undefined {
    const row = this.getStmt.get(id);
    return row === undefined ? undefined : fromRow(row);
  }

  getByName(name: string): Peer | undefined {
    const row = this.getByNameStmt.get(name);
    return row === undefined ? undefined : fromRow(row);
  }

  /** A peer as an admin names it: by its id, else by its name (the CLI contract's PEER). */
  find(idOrName: string): Peer | undefined {
    return this.get(idOrName) ?? this.getByName(idOrName);
  }

  /** As find, or NOT_FOUND in the words every command uses. */
  need(idOrName: string): Peer {
    const peer = this.find(idOrName);
    if (!peer) throw new FerryError('NOT_FOUND', `no peer with id or name '${idOrName}' (see 'ferry peer list')`);
    return peer;
  }

  /** All peers, by name. */
  list(): Peer[] {
    return this.listStmt.all().map(fromRow);
  }

  /** Unpairs: forgets the peer and its keys. False when there was none with that id. */
  remove(id: string): boolean {
    return this.removeStmt.run(id).changes > 0;
  }

  /** Changes where the peer is reached; false when there is none with that id. */
  setAddress(id: string, address: string): boolean {
    return this.addressStmt.run(checkAddress(address), id).changes > 0;
  }
}
