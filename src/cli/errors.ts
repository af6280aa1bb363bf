// Turns whatever a command threw into one clear sentence on stderr, with its
// stable code, and the exit code CLI.md promises.

import { ApiError, DaemonUnreachable } from '../api/client-errors.js';
import { isUsageStatus } from '../api/errors.js';
import { FerryError } from '../domain/errors.js';
import { EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE } from './exit-codes.js';
import { shown } from './output.js';

const usageCodes = new Set(['INVALID_NAME', 'INVALID_INPUT', 'NOT_FOUND', 'ALREADY_EXISTS', 'INVITE_INVALID', 'WRONG_PASSPHRASE']);

/** An error the CLI itself raises for bad usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** One line on stderr: the message (often a peer's words, passed on) escaped, then the code. */
function said(message: string, code: string): void {
  process.stderr.write(`ferry: ${shown(message)} [${shown(code)}]\n`);
}

export function report(err: unknown): number {
  if (err instanceof DaemonUnreachable) {
    said(err.message, 'DAEMON_UNREACHABLE');
    return EXIT_UNREACHABLE;
  }
  if (err instanceof ApiError) {
    said(err.message, err.code);
    return isUsageStatus(err.status) || usageCodes.has(err.code) ? EXIT_USAGE : EXIT_FAILED;
  }
  if (err instanceof UsageError) {
    said(err.message, 'USAGE');
    return EXIT_USAGE;
  }
  if (err instanceof FerryError) {
    said(err.message, err.code);
    return usageCodes.has(err.code) ? EXIT_USAGE : EXIT_FAILED;
  }
  said(err instanceof Error ? err.message : String(err), 'INTERNAL');
  return EXIT_FAILED;
}
