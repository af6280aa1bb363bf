// What a page shows before its first answer, and when the first answer was
// an error: the error in place, with a way to try again.

import type { ComponentChildren } from 'preact';
import type { Loaded } from '../hooks.js';
import { ErrorAlert } from './alert.js';
import { Button } from './button.js';

export function Loading(props: { what: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" /> Loading {props.what}…
    </p>
  );
}

/** Renders `children(data)` once loaded; the error in place, and a retry, when the load failed. */
export function Loaded<T>(props: { state: Loaded<T>; what: string; children: (data: T) => ComponentChildren }) {
  const { data, error, reload } = props.state;
  return (
    <>
      {error !== null && (
        <div class="load-error">
          <ErrorAlert error={error} title={`Could not load ${props.what}`} />
          <Button small onClick={reload}>
            Try again
          </Button>
        </div>
      )}
      {data === undefined ? error === null && <Loading what={props.what} /> : props.children(data)}
    </>
  );
}
