// An appliance's identity: an Ed25519 key pair to sign requests and responses,
// and an X25519 key pair for the static half of stream key agreement. Two
// separate keys rather than one converted key, because tweetnacl offers no
// Ed25519-to-X25519 conversion and mixing one key across two schemes needs care
// that separate keys avoid.

import nacl from 'tweetnacl';
import { z } from 'zod';
import { FerryError } from '../domain/errors.js';
import { applianceIdOf, fromBase64url, toBase64url } from '../../proto/ids.js';
import { sha256 } from './encoding.js';

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export interface Identity {
  /** Ed25519; secretKey is tweetnacl's 64 bytes (seed || public key). */
  readonly signing: KeyPair;
  /** X25519; 32-byte keys. */
  readonly box: KeyPair;
}

/** What a peer knows of another appliance. */
export interface PublicIdentity {
  readonly signingPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
}

export const FINGERPRINT_LABEL = 'ferry-fingerprint-v1';

export function generateIdentity(): Identity {
  const signing = nacl.sign.keyPair();
  const box = nacl.box.keyPair();
  return {
    signing: { publicKey: signing.publicKey, secretKey: signing.secretKey },
    box: { publicKey: box.publicKey, secretKey: box.secretKey },
  };
}

export function publicIdentity(identity: Identity): PublicIdentity {
  return { signingPublicKey: identity.signing.publicKey, boxPublicKey: identity.box.publicKey };
}

/**
 * The appliance id of a signing key (proto/ids.ts's derivation, after the key's
 * length is checked). 96 bits make a second key with the same id infeasible;
 * the id still only names a peer, the stored public key is what is trusted.
 */
export function applianceId(signingPublicKey: Uint8Array): string {
  checkLength(signingPublicKey, nacl.sign.publicKeyLength, 'signing public key');
  return applianceIdOf(signingPublicKey);
}

/**
 * What two admins read to each other at pairing: 16 bytes of sha256 over BOTH public
 * keys, as 8 groups of 4 hex digits. Both keys, because a swapped box key alone
 * would let whoever holds its secret open every stream sent to this appliance.
 */
export function fingerprint(keys: PublicIdentity): string {
  checkLength(keys.signingPublicKey, nacl.sign.publicKeyLength, 'signing public key');
  checkLength(keys.boxPublicKey, nacl.box.publicKeyLength, 'box public key');
  const hex = sha256(FINGERPRINT_LABEL, new Uint8Array([0]), keys.signingPublicKey, keys.boxPublicKey)
    .subarray(0, 16)
    .toString('hex');
  return hex.match(/.{4}/g)!.join(' ');
}

const IdentityFile = z.strictObject({
  format: z.literal('ferry-identity'),
  version: z.literal(1),
  applianceId: z.string(),
  /** 32-byte Ed25519 seed: the 64-byte tweetnacl secret key is derived from it. */
  signingSeed: z.string(),
  boxSecretKey: z.string(),
  /** Stored for the admin's eyes and checked on load; derivable from the secrets. */
  signingPublicKey: z.string(),
  boxPublicKey: z.string(),
});

/** JSON for the identity file. The caller writes it with mode 0600. */
export function serializeIdentity(identity: Identity): string {
  const file: z.infer<typeof IdentityFile> = {
    format: 'ferry-identity',
    version: 1,
    applianceId: applianceId(identity.signing.publicKey),
    signingSeed: toBase64url(identity.signing.secretKey.subarray(0, nacl.sign.seedLength)),
    boxSecretKey: toBase64url(identity.box.secretKey),
    signingPublicKey: toBase64url(identity.signing.publicKey),
    boxPublicKey: toBase64url(identity.box.publicKey),
  };
  return JSON.stringify(file, null, 2) + '\n';
}

/** Parses an identity file; throws FerryError BAD_KEY when anything is off, the public halves included. */
export function parseIdentity(text: string): Identity {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new FerryError('BAD_KEY', 'the identity file is not valid JSON', { cause });
  }
  const parsed = IdentityFile.safeParse(json);
  if (!parsed.success) {
    throw new FerryError('BAD_KEY', 'the identity file is malformed', { detail: parsed.error.message });
  }
  const file = parsed.data;
  const seed = fromBase64url(file.signingSeed);
  const boxSecret = fromBase64url(file.boxSecretKey);
  if (seed?.length !== nacl.sign.seedLength) throw new FerryError('BAD_KEY', 'the identity file has a malformed signing seed');
  if (boxSecret?.length !== nacl.box.secretKeyLength) throw new FerryError('BAD_KEY', 'the identity file has a malformed box secret key');
  const signing = nacl.sign.keyPair.fromSeed(seed);
  const box = nacl.box.keyPair.fromSecretKey(boxSecret);
  // A file whose public halves disagree with its secrets was edited or damaged:
  // running with it would advertise one key and sign with another.
  if (file.signingPublicKey !== toBase64url(signing.publicKey) || file.boxPublicKey !== toBase64url(box.publicKey)) {
    throw new FerryError('BAD_KEY', 'the identity file public keys do not match its secret keys');
  }
  if (file.applianceId !== applianceId(signing.publicKey)) {
    throw new FerryError('BAD_KEY', 'the identity file appliance id does not match its signing key');
  }
  return {
    signing: { publicKey: signing.publicKey, secretKey: signing.secretKey },
    box: { publicKey: box.publicKey, secretKey: box.secretKey },
  };
}

export function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new FerryError('BAD_KEY', `${what} must be ${length} bytes`);
  }
}
