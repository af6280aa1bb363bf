// What a refused value gets told, as words: every zod issue a schema of ours
// raises (in the daemon, the CLI and the browser alike) reads "must be at
// least 60", "must not be empty", "must be one of: hold, replicate", instead
// of zod's "Too small: expected number to be >=60". The field's name comes
// from where the message is shown (the API prefixes the path, the UI puts
// it under the field). A message a schema gives itself wins over these.

import * as z from 'zod/mini';
import english from 'zod/v4/locales/en.js';

type RawIssue = z.core.$ZodRawIssue;

const NUMERIC = new Set(['number', 'int', 'bigint']);

function listed(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

function typeName(expected: string): string {
  switch (expected) {
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'an object';
    case 'string':
      return 'text';
    default:
      return `a ${expected}`;
  }
}

/** The sentence for one issue, without the field's name; undefined leaves zod's own. */
export function issueSentence(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${typeName(issue.expected)}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') return min === 1 ? 'must not be empty' : `must be at least ${min} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${min} ${min === 1 ? 'item' : 'items'}`;
      if (NUMERIC.has(issue.origin)) return issue.inclusive === false ? `must be more than ${min}` : `must be at least ${min}`;
      return undefined;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${max} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${max} ${max === 1 ? 'item' : 'items'}`;
      if (NUMERIC.has(issue.origin)) return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
      return undefined;
    }
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${listed(issue.values)}` : `must be one of: ${listed(issue.values)}`;
    case 'unrecognized_keys':
      return `${issue.keys.length === 1 ? 'has no field' : 'has no fields'} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_format':
      return issue.format === 'regex' ? 'is not in the form expected here' : `must be a valid ${issue.format}`;
    case 'invalid_union':
      return 'is none of the forms allowed here';
    case 'custom':
    case 'invalid_element':
    case 'invalid_key':
      // A refinement's own message, or the element's issue, says more.
      return undefined;
  }
}

/**
 * Makes every zod issue of this process (or page) read as issueSentence says;
 * zod's English messages where it says nothing (zod/mini, which the API's
 * schemas are built with, sets no language of its own).
 */
export function useIssueSentences(): void {
  z.config({ ...english(), customError: (issue) => issueSentence(issue) });
}
