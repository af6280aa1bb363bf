// Sealing with a passphrase, for the configuration export: the file holds the
// appliance's private keys, so it is worth exactly as much as its passphrase.
// The key comes from scrypt, memory-hard (128 MiB per guess at N=2^17, r=8),
// so a guess costs an attacker memory as well as time; the box is
// XSalsa20-Poly1305 (nacl.secretbox), so a wrong passphrase or a changed byte
// opens nothing at all.

import { randomBytes, scrypt } from 'node:crypto';
import nacl from 'tweetnacl';
import { z } from 'zod';
import { FerryError } from '../domain/errors.js';
import { fromBase64url, toBase64url } from '../../proto/ids.js';

export const SEALED_FORMAT = 'ferry-sealed-v1';

export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** 2^17 x 128 x 8 bytes = 128 MiB per derivation, about half a second on one core. */
export const defaultCost: ScryptCost = { N: 1 << 17, r: 8, p: 1 };

const b64 = z.string().regex(/^[A-Za-z0-9_-]+$/);
const Sealed = z.strictObject({
  format: z.literal(SEALED_FORMAT),
  kdf: z.strictObject({
    name: z.literal('scrypt'),
    // Bounded: a crafted file must not make the importer allocate without limit.
    N: z.number().int().min(1 << 14).max(1 << 20).refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: b64,
  }),
  nonce: b64,
  box: b64,
});

function derive(passphrase: string, salt: Uint8Array, cost: ScryptCost): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, nacl.secretbox.keyLength, { ...cost, maxmem: 256 * cost.N * cost.r + (1 << 20) }, (err, key) => {
      if (err) reject(new FerryError('INTERNAL', `scrypt failed: ${err.message}`, { cause: err }));
      else resolve(new Uint8Array(key));
    });
  });
}

/** `plain` sealed under a passphrase, as one JSON text. */
export async function sealWithPassphrase(plain: Uint8Array, passphrase: string, cost: ScryptCost = defaultCost): Promise<string> {
  if (passphrase.length < 8) throw new FerryError('INVALID_INPUT', 'the passphrase must be at least 8 characters');
  const salt = new Uint8Array(randomBytes(16));
  const nonce = new Uint8Array(randomBytes(nacl.secretbox.nonceLength));
  const key = await derive(passphrase, salt, cost);
  const box = nacl.secretbox(plain, nonce, key);
  key.fill(0);
  return JSON.stringify({ format: SEALED_FORMAT, kdf: { name: 'scrypt', ...cost, salt: toBase64url(salt) }, nonce: toBase64url(nonce), box: toBase64url(box) }, null, 2) + '\n';
}

/** Opens a sealed text; INVALID_INPUT for something that is not one, WRONG_PASSPHRASE when it does not open. */
export async function openWithPassphrase(text: string, passphrase: string): Promise<Uint8Array> {
  let parsed: z.infer<typeof Sealed>;
  try {
    parsed = Sealed.parse(JSON.parse(text));
  } catch {
    throw new FerryError('INVALID_INPUT', 'this is not a sealed Ferry export (ferry config export writes them)');
  }
  const salt = fromBase64url(parsed.kdf.salt);
  const nonce = fromBase64url(parsed.nonce);
  const box = fromBase64url(parsed.box);
  if (!salt || !nonce || nonce.length !== nacl.secretbox.nonceLength || !box) throw new FerryError('INVALID_INPUT', 'the sealed export is damaged');
  const key = await derive(passphrase, salt, parsed.kdf);
  const plain = nacl.secretbox.open(box, nonce, key);
  key.fill(0);
  if (!plain) throw new FerryError('WRONG_PASSPHRASE', 'the passphrase does not open this export (or the file was changed)');
  return plain;
}
