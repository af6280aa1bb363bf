// Detached Ed25519 signatures over the UTF-8 bytes of a string (the signing
// strings of proto/signing.ts), carried as base64url.
//
// Made and checked by node:crypto (OpenSSL), not tweetnacl: every peer
// request and answer is signed and verified, and tweetnacl's pure-JS Ed25519
// took 13.6 ms to sign and 27.7 ms to verify on a 2-core machine, against
// 0.05 and 0.08 ms here; about 80 ms of CPU per round trip, most of what a
// run with nothing to send cost (bench/no-change.ts). Ed25519 is
// deterministic: the signatures are the same bytes tweetnacl makes
// (test/unit/sign.test.ts checks both ways). Keys are still made by
// tweetnacl (./identity.ts): its 64-byte secret key is seed || public key.

import { createPrivateKey, createPublicKey, sign as signWith, verify as verifyWith, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { checkLength } from './identity.js';
import { fromBase64url, toBase64url } from '../../proto/ids.js';

const encoder = new TextEncoder();
const privateKeys = new WeakMap<Uint8Array, KeyObject>();

function privateKeyOf(secretKey: Uint8Array): KeyObject {
  let key = privateKeys.get(secretKey);
  if (!key) {
    const seed = secretKey.subarray(0, nacl.sign.seedLength);
    const publicKey = secretKey.subarray(nacl.sign.seedLength);
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: toBase64url(seed), x: toBase64url(publicKey) }, format: 'jwk' });
    privateKeys.set(secretKey, key);
  }
  return key;
}

/** Signs `message`; returns the 64-byte signature as base64url (86 characters). */
export function sign(message: string, signingSecretKey: Uint8Array): string {
  checkLength(signingSecretKey, nacl.sign.secretKeyLength, 'signing secret key');
  return toBase64url(signWith(null, encoder.encode(message), privateKeyOf(signingSecretKey)));
}

/** False for any signature that does not verify, malformed ones and malformed keys included: a forged header must not throw its way past a check. */
export function verify(message: string, signature: string, signingPublicKey: Uint8Array): boolean {
  if (signingPublicKey.length !== nacl.sign.publicKeyLength) return false;
  const bytes = fromBase64url(signature);
  if (bytes?.length !== nacl.sign.signatureLength) return false;
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64url(signingPublicKey) }, format: 'jwk' });
    return verifyWith(null, encoder.encode(message), key, bytes);
  } catch {
    return false;
  }
}
