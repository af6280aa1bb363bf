// The web UI's login password, as `ferry admin password` sets it: a scrypt
// hash in the state dir (ui-password, 0600), in PHC string form so the
// parameters travel with it and can be raised later without breaking old
// hashes. scrypt is memory-hard (32 MiB a guess here), so a stolen file costs
// an attacker memory as well as time; node:crypto has it, no native add-on.
//
// The daemon reads the file at each login, so setting a password needs no
// restart; sessions made under an older password end (see passwordStamp).

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../domain/errors.js';
import { writeSecret } from './state-dir.js';

/** 2^15 × r 8: 32 MiB and ~60 ms a guess on a NAS-class CPU. */
const COST = { ln: 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

const phc = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function derive(password: string, salt: Buffer, cost: { ln: number; r: number; p: number }): Promise<Buffer> {
  const N = 2 ** cost.ln;
  const options: ScryptOptions = { N, r: cost.r, p: cost.p, maxmem: 2 * 128 * N * cost.r };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** The reason a new password is refused, or null. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `the password must have at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `the password must have at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.trim() !== password) return 'the password must not begin or end with white space';
  return null;
}

export async function hashPassword(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw new FerryError('INVALID_INPUT', problem);
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST);
  return `$scrypt$ln=${COST.ln},r=${COST.r},p=${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when the password matches the stored hash; false for a wrong one or a damaged hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = phc.exec(stored.trim());
  if (!m || password.length > MAX_PASSWORD_LENGTH) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 22 || r < 1 || p < 1) return false;
  const want = Buffer.from(m[5] ?? '', 'base64');
  if (want.length !== KEY_BYTES) return false;
  const key = await derive(password, Buffer.from(m[4] ?? '', 'base64'), { ln, r, p });
  return timingSafeEqual(key, want);
}

export function passwordPath(stateRoot: string): string {
  return path.join(stateRoot, 'ui-password');
}

export async function writePassword(stateRoot: string, password: string): Promise<void> {
  await writeSecret(passwordPath(stateRoot), (await hashPassword(password)) + '\n');
}

/** The stored hash; null when no password was set. */
export async function readPasswordHash(stateRoot: string): Promise<string | null> {
  return readFile(passwordPath(stateRoot), 'utf8').then(
    (t) => t.trim(),
    () => null,
  );
}

/** Changes whenever the password is set again: a session remembers it, and ends when it differs. Null: no password. */
export async function passwordStamp(stateRoot: string): Promise<string | null> {
  return stat(passwordPath(stateRoot)).then(
    (s) => `${s.ino}:${s.mtimeMs}`,
    () => null,
  );
}
