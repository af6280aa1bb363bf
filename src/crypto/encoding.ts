// Hashing kept inside crypto. The encodings of the wire (base64url, base32)
// are proto/ids.ts's, imported where they are used.

import { createHash } from 'node:crypto';

export function sha256(...parts: (Uint8Array | string)[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}
