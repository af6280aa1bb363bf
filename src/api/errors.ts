// How the admin API answers a failure: the catalogue's code, a clear message,
// and an HTTP status chosen by what the caller did wrong.

import type { ErrorCode } from '../domain/errors.js';

const statusByCode: Partial<Record<ErrorCode, number>> = {
  INVALID_NAME: 400,
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  TASK_BUSY: 409,
  SHARE_BUSY: 409,
  INVITE_INVALID: 400,
  NOT_BTRFS: 400,
  NOT_A_SUBVOLUME: 400,
  SHARE_MISSING: 400,
  UNAUTHORIZED: 401,
  LOGIN_REQUIRED: 401,
  NO_PASSWORD: 401,
  WRONG_PASSWORD: 401,
  CSRF_REQUIRED: 403,
  RATE_LIMITED: 429,
  UNKNOWN_HOST: 421,
};

export function httpStatusFor(code: string): number {
  return statusByCode[code as ErrorCode] ?? 500;
}

/** Statuses a client should report as "bad input" (exit code 2) rather than "the operation failed" (1). */
export function isUsageStatus(status: number): boolean {
  return status === 400 || status === 404 || status === 409;
}
