// PeerRecord from and to the text form the store keeps (keys as base64url).

import { fromBase64url, toBase64url } from '../../proto/ids.js';
import { FerryError } from '../domain/errors.js';
import type { PeerRecord } from './ports.js';

export interface StoredPeerKeys {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly signingPublicKey: string;
  readonly boxPublicKey: string;
}

/** A stored peer (keys in base64url) as the record the peer layer trusts. Throws BAD_KEY for a damaged key. */
export function toPeerRecord(stored: StoredPeerKeys): PeerRecord {
  const signing = fromBase64url(stored.signingPublicKey);
  const box = fromBase64url(stored.boxPublicKey);
  if (signing?.length !== 32 || box?.length !== 32) throw new FerryError('BAD_KEY', `the stored keys of peer ${stored.id} are malformed`);
  return { id: stored.id, name: stored.name, address: stored.address, signingPublicKey: signing, boxPublicKey: box };
}

/** The text form of a record, for the store. */
export function fromPeerRecord(record: PeerRecord): StoredPeerKeys {
  return {
    id: record.id,
    name: record.name,
    address: record.address,
    signingPublicKey: toBase64url(record.signingPublicKey),
    boxPublicKey: toBase64url(record.boxPublicKey),
  };
}
