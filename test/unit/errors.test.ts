// Which failures a run retries: the error catalogue's classes, as a table, and
// the wire's retry flags agreeing with them for every code both know.

import { describe, expect, it } from 'vitest';
import { wireErrors } from '../../proto/errors.js';
import { errorCatalogue, FerryError, isErrorCode } from '../../src/domain/errors.js';

/** Retrying can help on its own: the peer or the link comes back, a share frees up, a stream is sent again. */
const transient = [
  'SNAPSHOT_FAILED',
  'SEND_FAILED',
  'RECEIVE_FAILED',
  'SHARE_BUSY',
  'PEER_BUSY',
  'TRANSFER_DEADLINE',
  'TASK_BUSY',
  'ABORTED',
  'INTERRUPTED',
  'BAD_STREAM',
  'REPLAYED_NONCE',
  'DIGEST_MISMATCH',
  'PEER_UNREACHABLE',
];

describe('error classes', () => {
  it('retries exactly the transient codes', () => {
    const retried = Object.entries(errorCatalogue)
      .filter(([, info]) => info.class === 'transient')
      .map(([code]) => code)
      .sort();
    expect(retried).toEqual([...transient].sort());
  });

  it.each(['NO_SPACE', 'SERVICE_DISABLED', 'POOL_NOT_GRANTED', 'STREAM_REFUSED', 'INVALID_INPUT', 'POOL_UNHEALTHY', 'SHARE_MISMATCH', 'UUID_CONFLICT', 'QUOTA_EXCEEDED'])(
    '%s fails a run at once',
    (code) => {
      expect(isErrorCode(code) && errorCatalogue[code].class).toBe('permanent');
    },
  );

  it('tells a sender on the wire to retry exactly when the catalogue does', () => {
    for (const [code, info] of Object.entries(wireErrors)) {
      if (!isErrorCode(code) || code === 'INTERNAL') continue;
      expect(info.retry, code).toBe(errorCatalogue[code].class === 'transient');
    }
  });
});

describe('FerryError across module copies', () => {
  class Special extends FerryError {}
  // What a FerryError made by the other copy of src/domain/errors (the daemon's compiled module, loaded by the bundled CLI) looks like to this one.
  const fromOtherCopy = Object.assign(Object.create(Error.prototype) as Error, { [Symbol.for('ferry.error')]: true, code: 'NOT_FOUND', message: 'x' });
  it.each([
    ['a FerryError', new FerryError('NOT_FOUND', 'x'), true, false],
    ['a subclass', new Special('NOT_FOUND', 'x'), true, true],
    ['one from the other copy', fromOtherCopy, true, false],
    ['a plain Error', new Error('x'), false, false],
    ['an object with a code', { code: 'NOT_FOUND', message: 'x' }, false, false],
    ['null', null, false, false],
  ])('%s: instanceof FerryError %s, instanceof a subclass %s', (_name, value, isFerry, isSpecial) => {
    expect(value instanceof FerryError).toBe(isFerry);
    expect(value instanceof Special).toBe(isSpecial);
  });
});
