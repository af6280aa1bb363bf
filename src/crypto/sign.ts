// Detached Ed25519 signatures over the UTF-8 bytes of a string (the signing
// strings of proto/signing.ts), carried as base64url.

import nacl from 'tweetnacl';
import { checkLength } from './identity.js';
import { fromBase64url, toBase64url } from '../../proto/ids.js';

const encoder = new TextEncoder();

/** Signs `message`; returns the 64-byte signature as base64url (86 characters). */
export function sign(message: string, signingSecretKey: Uint8Array): string {
  checkLength(signingSecretKey, nacl.sign.secretKeyLength, 'signing secret key');
  return toBase64url(nacl.sign.detached(encoder.encode(message), signingSecretKey));
}

/** False for any signature that does not verify, malformed ones included: a forged header must not throw its way past a check. */
export function verify(message: string, signature: string, signingPublicKey: Uint8Array): boolean {
  if (signingPublicKey.length !== nacl.sign.publicKeyLength) return false;
  const bytes = fromBase64url(signature);
  if (bytes?.length !== nacl.sign.signatureLength) return false;
  return nacl.sign.detached.verify(encoder.encode(message), bytes, signingPublicKey);
}
