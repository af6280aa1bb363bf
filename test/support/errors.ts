// What a call throws or a promise rejects with, for tests that check refusals by code.

import { expect } from 'vitest';
import { FerryError } from '../../src/domain/errors.js';

/**
 * The error of class `type` (FerryError unless given) that `fn` throws; fails
 * the test when it throws something else or nothing.
 */
export function errorOf(fn: () => unknown): FerryError;
export function errorOf<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E): E;
export function errorOf(fn: () => unknown, type: abstract new (...args: never[]) => Error = FerryError): Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}, but nothing was thrown`);
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
