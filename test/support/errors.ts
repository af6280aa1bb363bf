// What a call throws or a promise rejects with, for tests that check refusals by code.

import { expect } from 'vitest';
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

/** The FerryError `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function rejection(promise: Promise<unknown>): Promise<FerryError> {
  const outcome = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(FerryError);
  return outcome as FerryError;
}
