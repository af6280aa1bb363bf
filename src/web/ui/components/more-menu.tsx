// A row's less frequent actions behind one "More" button, so that a table
// row keeps its actions on one line (Run now, Pause, More) instead of
// wrapping five buttons into rows. A native <details>: it opens and closes
// with the keyboard without script, and Escape or a click elsewhere closes it.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface MenuItem {
  readonly label: string;
  /** Words for screen readers after the label ("task docs"): a page of rows must not repeat "Edit" alone. */
  readonly hidden?: string;
  readonly danger?: boolean;
  readonly onSelect: () => void;
}

export function MoreMenu(props: { label: string; items: readonly MenuItem[]; children?: ComponentChildren }) {
  const ref = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    const close = (event: Event) => {
      const details = ref.current;
      if (!details?.open) return;
      if (event instanceof KeyboardEvent ? event.key === 'Escape' : !details.contains(event.target as Node)) {
        details.open = false;
        if (event instanceof KeyboardEvent) details.querySelector('summary')?.focus();
      }
    };
    document.addEventListener('click', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', close);
    };
  }, []);
  return (
    <details class="more-menu" ref={ref}>
      <summary class="btn btn-secondary btn-small">
        More<span class="visually-hidden"> {props.label}</span>
        <span class="more-caret" aria-hidden="true" />
      </summary>
      <div class="more-items">
        {props.items.map((item) => (
          <button
            key={item.label}
            type="button"
            class={`more-item${item.danger ? ' more-item-danger' : ''}`}
            onClick={() => {
              if (ref.current) ref.current.open = false;
              item.onSelect();
            }}
          >
            {item.label}
            {item.hidden !== undefined && <span class="visually-hidden"> {item.hidden}</span>}
          </button>
        ))}
      </div>
    </details>
  );
}
