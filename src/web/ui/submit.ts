// What every form and action button of the UI does with the daemon: one
// thing at a time, busy while it runs, its refusal kept in place (an
// ErrorAlert beside it) until the next try. A form first checks its body
// with the daemon's own schema (validation.ts): each problem shows under its
// field and nothing is sent.

import { useState } from 'preact/hooks';
import type { Checked, FieldErrors } from './validation.js';

export interface Actions {
  /** The name of the action under way, or null. */
  readonly busy: string | null;
  /** The last action's refusal, or null. */
  readonly error: unknown;
  readonly setError: (error: unknown) => void;
  /** Runs `call` as `what`, then `done` with its answer when it succeeded. */
  readonly act: <A>(what: string, call: () => Promise<A>, done?: (answer: A) => void) => void;
}

export function useActions(initialError: unknown = null): Actions {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(initialError);
  const act = <A>(what: string, call: () => Promise<A>, done?: (answer: A) => void) => {
    setBusy(what);
    setError(null);
    call().then(
      (answer) => {
        setBusy(null);
        done?.(answer);
      },
      (err: unknown) => {
        setBusy(null);
        setError(err);
      },
    );
  };
  return { busy, error, setError, act };
}

export interface Submit {
  /** The schema's problems, by field. */
  readonly errors: FieldErrors;
  readonly setErrors: (errors: FieldErrors) => void;
  readonly busy: boolean;
  /** The daemon's refusal, or null. */
  readonly error: unknown;
  readonly setError: (error: unknown) => void;
  /**
   * Sends a checked body: a refused one sets `errors` (through `explain`,
   * where the form words a problem its own way) and sends nothing.
   */
  readonly submit: <T, A>(checked: Checked<T>, send: (body: T) => Promise<A>, done: (answer: A) => void, explain?: (errors: FieldErrors) => FieldErrors) => void;
}

export function useSubmit(initialError: unknown = null): Submit {
  const [errors, setErrors] = useState<FieldErrors>({});
  const { busy, error, setError, act } = useActions(initialError);
  const submit = <T, A>(checked: Checked<T>, send: (body: T) => Promise<A>, done: (answer: A) => void, explain?: (errors: FieldErrors) => FieldErrors) => {
    if (!checked.ok) {
      setErrors(explain === undefined ? checked.errors : explain(checked.errors));
      return;
    }
    setErrors({});
    act('submit', () => send(checked.value), done);
  };
  return { errors, setErrors, busy: busy !== null, error, setError, submit };
}
