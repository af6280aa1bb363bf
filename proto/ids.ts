// Formats of the identifiers and encodings that appear on the wire.

import { createHash } from 'node:crypto';

/**
 * An appliance id: "f" + the first 12 bytes of sha256(APPLIANCE_ID_LABEL || 0x00 ||
 * Ed25519 signing public key), in lowercase RFC 4648 base32 without padding (20
 * characters). It starts with a letter because ids that start with a digit broke
 * URLs and hostnames in Rockstor (#616), and it is lowercase so that it survives
 * case-folding in paths and DNS labels.
 */
export const APPLIANCE_ID_PATTERN = /^f[a-z2-7]{20}$/;
export const APPLIANCE_ID_LABEL = 'ferry-appliance-id-v1';

/** Unpadded base64url (RFC 4648 §5): the encoding of every binary value in headers and JSON. */
export const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

/** A request nonce: 16 random bytes as base64url (22 characters). */
export const NONCE_BYTES = 16;
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** A sha256 digest as base64url (43 characters). */
export const DIGEST_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}

/** Strict decoding: Buffer.from(..., 'base64url') would skip junk characters silently. */
export function fromBase64url(text: string): Uint8Array | null {
  if (!BASE64URL_PATTERN.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) return null;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Lowercase RFC 4648 base32 without padding. */
export function toBase32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The derivation of an appliance id, the one both this contract and src/crypto use; the vectors pin it. */
export function applianceIdOf(signingPublicKey: Uint8Array): string {
  const digest = createHash('sha256').update(APPLIANCE_ID_LABEL, 'ascii').update(Buffer.from([0])).update(signingPublicKey).digest();
  return 'f' + toBase32(digest.subarray(0, 12));
}
