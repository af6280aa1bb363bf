// What a synchronous call throws, for tests that check refusals by code.

import { FerryError } from '../../src/domain/errors.js';

/** The FerryError `fn` throws; fails the test when it throws something else or nothing. */
export function errorOf(fn: () => unknown): FerryError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FerryError) return err;
    throw err;
  }
  throw new Error('expected a FerryError, but nothing was thrown');
}

/** The code of the FerryError `fn` throws; fails the test when it throws something else or nothing. */
export function codeOf(fn: () => unknown): string {
  return errorOf(fn).code;
}
