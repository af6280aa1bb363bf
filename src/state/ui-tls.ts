// The certificate of the web UI's LAN listener. Unless the admin names their
// own (config `ui.cert` and `ui.key`), a self-signed one is made at init (or
// at the first start that needs it) and kept in the state dir: ui.crt, and
// ui.key 0600. A browser cannot check a self-signed certificate against
// anything, so `ferry status` shows its SHA-256 fingerprint: the admin compares
// it with the one the browser shows before trusting the page.

import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { FerryError } from '../domain/errors.js';
import { writeSecret } from './state-dir.js';

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

/** Where the self-signed pair lives in a state dir. */
export function selfSignedFiles(stateRoot: string): TlsFiles {
  return { cert: path.join(stateRoot, 'ui.crt'), key: path.join(stateRoot, 'ui.key') };
}

/** Makes the self-signed pair unless it exists. ECDSA P-256, ten years: there is no one to renew it with. */
export async function ensureSelfSigned(stateRoot: string, name: string): Promise<TlsFiles> {
  const files = selfSignedFiles(stateRoot);
  const present = await stat(files.cert).then(
    () => true,
    () => false,
  );
  if (present) return files;
  const notBeforeDate = new Date();
  const notAfterDate = new Date(notBeforeDate.getTime() + 10 * 365 * 86_400_000);
  const host = hostname();
  const made = await generate([{ name: 'commonName', value: `Ferry ${name}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: host },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  await writeSecret(files.key, made.private);
  await writeFile(files.cert, made.cert, { mode: 0o644 });
  return files;
}

/** The pair as the TLS server takes it, and the certificate's SHA-256 fingerprint (AA:BB:..., as browsers show it). */
export async function loadTls(files: TlsFiles): Promise<{ cert: string; key: string; fingerprint: string }> {
  const read = (file: string, what: string) =>
    readFile(file, 'utf8').catch((err: unknown) => {
      throw new FerryError('NOT_FOUND', `cannot read the web UI's TLS ${what} ${file}: ${(err as Error).message}`);
    });
  const [cert, key] = await Promise.all([read(files.cert, 'certificate'), read(files.key, 'key')]);
  let fingerprint: string;
  try {
    fingerprint = new X509Certificate(cert).fingerprint256;
  } catch (err) {
    throw new FerryError('INVALID_INPUT', `${files.cert} is not a PEM certificate: ${(err as Error).message}`, { cause: err });
  }
  return { cert, key, fingerprint };
}
