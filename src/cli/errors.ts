// Turns whatever a command threw into one clear sentence on stderr, with its
// stable code, and the exit code CLI.md promises.

import { ApiError, DaemonUnreachable } from '../api/client.js';
import { isUsageStatus } from '../api/errors.js';
import { FerryError } from '../domain/errors.js';
import { EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE } from './exit-codes.js';

const usageCodes = new Set(['INVALID_NAME', 'INVALID_INPUT', 'NOT_FOUND', 'ALREADY_EXISTS', 'INVITE_INVALID', 'WRONG_PASSPHRASE']);

/** An error the CLI itself raises for bad usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function report(err: unknown): number {
  if (err instanceof DaemonUnreachable) {
    process.stderr.write(`ferry: ${err.message} [DAEMON_UNREACHABLE]\n`);
    return EXIT_UNREACHABLE;
  }
  if (err instanceof ApiError) {
    process.stderr.write(`ferry: ${err.message} [${err.code}]\n`);
    return isUsageStatus(err.status) || usageCodes.has(err.code) ? EXIT_USAGE : EXIT_FAILED;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`ferry: ${err.message} [USAGE]\n`);
    return EXIT_USAGE;
  }
  if (err instanceof FerryError) {
    process.stderr.write(`ferry: ${err.message} [${err.code}]\n`);
    return usageCodes.has(err.code) ? EXIT_USAGE : EXIT_FAILED;
  }
  process.stderr.write(`ferry: ${err instanceof Error ? err.message : String(err)} [INTERNAL]\n`);
  return EXIT_FAILED;
}
