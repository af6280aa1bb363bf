// The one container of every page (Cockpit's card): a title, the actions
// that apply to what it shows, then the content. Empty states live in cards
// too, saying what would be here and how to get it.

import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

export function Card(props: { title: ComponentChildren; subtitle?: ComponentChildren; actions?: ComponentChildren; children?: ComponentChildren; testId?: string; flush?: boolean }) {
  const id = useId();
  return (
    <section class="card" aria-labelledby={id} data-testid={props.testId}>
      <header class="card-head">
        <div class="card-title">
          <h2 id={id}>{props.title}</h2>
          {props.subtitle !== undefined && <p class="card-subtitle">{props.subtitle}</p>}
        </div>
        {props.actions !== undefined && <div class="card-actions">{props.actions}</div>}
      </header>
      <div class={props.flush ? 'card-body flush' : 'card-body'}>{props.children}</div>
    </section>
  );
}

export function EmptyState(props: { title: string; children?: ComponentChildren; action?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{props.title}</p>
      {props.children !== undefined && <p class="empty-text">{props.children}</p>}
      {props.action !== undefined && <div class="empty-action">{props.action}</div>}
    </div>
  );
}

/** A label and its value, in a grid that reads as a table on wide screens and as pairs on a phone. */
export function Facts(props: { items: readonly (readonly [string, ComponentChildren])[] }) {
  return (
    <dl class="facts">
      {props.items.map(([label, value]) => (
        <div class="fact" key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
