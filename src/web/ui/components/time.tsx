// A time, relative and absolute at once: "5 min ago" to compare at a glance,
// the local date and time beside it on wide screens (in its title on narrow
// ones) to match against logs.

import { formatAbsolute, formatRelative } from '../format.js';

export function Time(props: { iso: string | null; now: number; empty?: string }) {
  if (props.iso === null) return <span class="muted">{props.empty ?? '—'}</span>;
  const absolute = formatAbsolute(props.iso);
  return (
    <time class="time" dateTime={props.iso} title={absolute}>
      <span class="time-rel">{formatRelative(props.iso, props.now)}</span> <span class="time-abs">{absolute}</span>
    </time>
  );
}
