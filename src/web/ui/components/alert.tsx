// Inline alerts: an error stands next to the form or button that caused it,
// as one sentence with its code, not in a toast that vanishes.

import type { ComponentChildren } from 'preact';
import { errorSentence } from '../api.js';

export type Tone = 'error' | 'warning' | 'info' | 'success';

export function Alert(props: { tone: Tone; title?: string; children?: ComponentChildren }) {
  // Errors interrupt (role alert); the rest is announced politely.
  return (
    <div class={`alert alert-${props.tone}`} role={props.tone === 'error' ? 'alert' : 'status'}>
      {props.title !== undefined && <p class="alert-title">{props.title}</p>}
      {props.children !== undefined && <div class="alert-text">{props.children}</div>}
    </div>
  );
}

/** An API or network error in place; nothing when there is none. */
export function ErrorAlert(props: { error: unknown; title?: string }) {
  if (props.error === null || props.error === undefined) return null;
  return (
    <Alert tone="error" {...(props.title === undefined ? {} : { title: props.title })}>
      {errorSentence(props.error)}
    </Alert>
  );
}
