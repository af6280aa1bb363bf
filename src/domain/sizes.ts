// Byte sizes that admins type (quotas): `500G`, `1.5TiB`, `200MB`, or plain
// bytes. Units are binary whatever their spelling (1G = 1 GiB), as btrfs
// prints them.

import bytes from 'bytes';
import { FerryError } from './errors.js';

const sizeHelp = 'a size is a number with an optional unit B, K, M, G, T or P (binary: 1G = 1 GiB; KiB, GB and the like are read alike), such as 500G or 1.5T';

/** Bytes in a size such as `500G`, `1.5TiB` or `1048576`; INVALID_INPUT for anything else. */
export function parseSize(text: string): number {
  const normalized = text.trim().replace(/^(\d+(?:\.\d+)?)\s*([kmgtp])(?:i?b)?$/i, '$1$2b');
  const value = /^\d+(?:\.\d+)?(?:b|[kmgtp]b)?$/i.test(normalized) ? bytes.parse(normalized) : null;
  if (value === null || !Number.isSafeInteger(value) || value < 0) {
    throw new FerryError('INVALID_INPUT', `size ${JSON.stringify(text.slice(0, 40))} is not understood; ${sizeHelp}`);
  }
  return value;
}
