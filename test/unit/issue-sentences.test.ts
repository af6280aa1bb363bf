// Refusals read as words: each zod issue our schemas raise, as the daemon, the
// CLI and the web UI show it.

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InviteBody, PolicyBody, TaskAddBody } from '../../src/api/schemas.js';

/** Both kinds of schema: the API's (zod/mini) and the daemon's own (zod). */
function firstMessage(schema: z.core.$ZodType, value: unknown): string {
  const r = z.safeParse(schema, value);
  if (r.success) throw new Error('accepted');
  const issue = r.error.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

describe('issue sentences', () => {
  it.each<[string, z.core.$ZodType, unknown, string]>([
    ['a number under its minimum', InviteBody, { ttlSeconds: 5 }, 'ttlSeconds: must be at least 60'],
    ['a number over its maximum', InviteBody, { ttlSeconds: 99_999_999 }, 'ttlSeconds: must be at most 604800'],
    ['a number that is not whole', PolicyBody, { keepAtLeast: 1.5 }, 'keepAtLeast: must be a whole number'],
    ['text where a number goes', PolicyBody, { maxTransfers: 'four' }, 'maxTransfers: must be a number'],
    ['a field nobody knows', PolicyBody, { keep: 3 }, ": has no field 'keep'"],
    ['a missing field', TaskAddBody, {}, 'name: is required'],
    ['empty text', z.strictObject({ peer: z.string().min(1) }), { peer: '' }, 'peer: must not be empty'],
    ['text too long', z.string().max(3), 'abcd', ': must be at most 3 characters long'],
    ['a value outside its list', z.enum(['hold', 'replicate']), 'wait', ': must be one of: hold, replicate'],
    ['a boolean as text', z.boolean(), 'yes', ': must be true or false'],
  ])('%s', (_label, schema, value, expected) => {
    expect(firstMessage(schema, value)).toBe(expected);
  });

  it('leaves a message a schema gives itself', () => {
    expect(firstMessage(z.string().regex(/^x$/, 'expected x'), 'y')).toBe(': expected x');
  });
});
