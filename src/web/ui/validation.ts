// Form checks with the daemon's own schemas (src/api/schemas.ts): a field is
// refused here for the reason the daemon would refuse it, and the message
// stands under that field.

import * as z from 'zod/mini';

export type FieldErrors = Readonly<Record<string, string>>;

/** The first problem of each field, by the field's name (the first key of the issue's path; `form` when the issue has none). */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): FieldErrors {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const key = issue.path.length === 0 ? 'form' : String(issue.path[0]);
    errors[key] ??= sentence(issue.message);
  }
  return errors;
}

/** A body checked against a schema: the value to send, or the problems by field. */
export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

export function check<S extends z.core.$ZodType>(schema: S, value: unknown): Checked<z.infer<S>> {
  let result: z.core.util.SafeParseResult<z.infer<S>>;
  try {
    result = z.safeParse(schema, value);
  } catch {
    // A rule that cannot run in a browser (one that reaches for a node global) must not block the form:
    // the daemon checks the same body with the same schema and its refusal shows in place.
    return { ok: true, value: value as z.infer<S> };
  }
  return result.success ? { ok: true, value: result.data } : { ok: false, errors: fieldErrors(result.error.issues) };
}

function sentence(text: string): string {
  const t = text.trim();
  return t === '' ? t : t.charAt(0).toUpperCase() + t.slice(1);
}

/** A number field's value: undefined when empty (the field is left out), NaN when not a whole number (the schema refuses it). */
export function wholeNumber(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return /^-?\d+$/.test(t) ? Number(t) : Number.NaN;
}
