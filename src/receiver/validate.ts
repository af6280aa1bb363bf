import { FerryError } from '../domain/errors.js';
import { validateShareName as domainShareName } from '../domain/names.js';

/** Peer ids are ours (derived from a public key), so the rule is strict: letters, digits, '-' and '_'. */
export function validatePeerId(peer: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(peer)) {
    throw new FerryError('INVALID_NAME', `peer id '${peer.slice(0, 80)}' is not valid: a letter, then up to 63 letters, digits, '-' or '_'`);
  }
  return peer;
}

export function validateShareName(share: string): string {
  return domainShareName(share);
}
