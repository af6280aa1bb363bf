// Buttons of three kinds (primary, secondary, danger), and actions that stay
// on screen when they cannot run now, disabled, with their excuse in words
// beside them (Cockpit's habit) instead of vanishing.

import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

/** `danger-quiet` opens a destructive action's confirmation from a list, where a row of red buttons would shout; the dialog's own button is `danger`. */
export type Variant = 'primary' | 'secondary' | 'danger' | 'danger-quiet' | 'ghost';

type ButtonProps = Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'class' | 'size'> & { variant?: Variant; busy?: boolean; small?: boolean };

export function Button({ variant = 'secondary', busy = false, small = false, type = 'button', disabled, children, ...rest }: ButtonProps) {
  const classes = `btn btn-${variant}${small ? ' btn-small' : ''}`;
  return (
    <button {...rest} type={type} class={classes} disabled={Boolean(disabled) || busy} aria-busy={busy || undefined}>
      {busy && <span class="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}

/** An action that may be unavailable: `excuse` set disables it and says why, next to it. */
export function Action(props: { label: string; onClick: () => void; excuse?: string | null; variant?: Variant; busy?: boolean; small?: boolean; children?: ComponentChildren }) {
  const id = useId();
  const excuse = props.excuse ?? null;
  return (
    <span class="action">
      <Button variant={props.variant ?? 'secondary'} small={props.small ?? false} busy={props.busy ?? false} disabled={excuse !== null} onClick={props.onClick} aria-describedby={excuse === null ? undefined : id}>
        {props.children ?? props.label}
      </Button>
      {excuse !== null && (
        <span class="excuse" id={id}>
          {excuse}
        </span>
      )}
    </span>
  );
}
