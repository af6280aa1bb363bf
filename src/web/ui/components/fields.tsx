// Labelled form fields: every input has a visible label, its hint and its
// error are tied to it (aria-describedby), and an error marks it invalid.

import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
}

function described(id: string, props: FieldProps): string | undefined {
  const ids = [props.hint === undefined ? null : `${id}-hint`, props.error === undefined ? null : `${id}-error`].filter((x) => x !== null);
  return ids.length === 0 ? undefined : ids.join(' ');
}

function Frame(props: FieldProps & { id: string; children: ComponentChildren; wide?: boolean }) {
  return (
    <div class={`field${props.error === undefined ? '' : ' field-invalid'}${props.wide ? ' field-wide' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint !== undefined && (
        <p class="field-hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error !== undefined && (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

interface InputProps {
  type?: 'text' | 'password' | 'datetime-local';
  placeholder?: string;
  required?: boolean;
  autofocus?: boolean;
  autocomplete?: string;
  inputMode?: 'numeric' | 'text';
}

/** preact types each input type with the roles it allows, as a union that a type chosen at run time cannot meet; these three allow the same. */
function inputType(type: InputProps['type']): { type: 'text' } {
  return { type: (type ?? 'text') as 'text' };
}

export function TextField(props: FieldProps & InputProps & { value: string; onValue: (value: string) => void; wide?: boolean }) {
  const id = useId();
  const { label, error, hint, value, onValue, wide } = props;
  return (
    <Frame id={id} label={label} error={error} hint={hint} wide={wide ?? false}>
      <input
        id={id}
        class="input"
        {...inputType(props.type)}
        placeholder={props.placeholder}
        required={props.required}
        autofocus={props.autofocus}
        autocomplete={props.autocomplete}
        inputMode={props.inputMode}
        spellcheck={false}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
        aria-invalid={error === undefined ? undefined : true}
        aria-describedby={described(id, { label, error, hint })}
      />
    </Frame>
  );
}

export function TextAreaField(props: FieldProps & { value: string; onValue: (value: string) => void; rows?: number; readOnly?: boolean; placeholder?: string; required?: boolean }) {
  const id = useId();
  return (
    <Frame id={id} label={props.label} error={props.error} hint={props.hint} wide>
      <textarea
        id={id}
        class="input textarea"
        rows={props.rows ?? 3}
        value={props.value}
        readOnly={props.readOnly}
        placeholder={props.placeholder}
        required={props.required}
        spellcheck={false}
        onInput={(e) => props.onValue(e.currentTarget.value)}
        aria-invalid={props.error === undefined ? undefined : true}
        aria-describedby={described(id, props)}
      />
    </Frame>
  );
}

export function SelectField(props: FieldProps & { value: string; onValue: (value: string) => void; options: readonly (readonly [value: string, label: string])[]; required?: boolean; wide?: boolean }) {
  const id = useId();
  return (
    <Frame id={id} label={props.label} error={props.error} hint={props.hint} wide={props.wide ?? false}>
      <select
        id={id}
        class="input select"
        value={props.value}
        required={props.required}
        onChange={(e) => props.onValue(e.currentTarget.value)}
        aria-invalid={props.error === undefined ? undefined : true}
        aria-describedby={described(id, props)}
      >
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </Frame>
  );
}

/** A field's error, for errors that belong to the whole form. */
export function FormError(props: { error: string | undefined }) {
  if (props.error === undefined) return null;
  return (
    <p class="field-error" role="alert">
      {props.error}
    </p>
  );
}
