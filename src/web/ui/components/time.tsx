// A time, relative and absolute at once: "5 min ago" to compare at a glance,
// the local date and time beside it on wide screens (in its title on narrow
// ones) to match against logs.

import { formatAbsolute, formatRelative } from '../format.js';

/** `absoluteOnly` where the relative time would repeat the row's (an attempt's end, beside its start): it stays in the title. */
export function Time(props: { iso: string | null; now: number; empty?: string; absoluteOnly?: boolean }) {
  if (props.iso === null) return <span class="muted">{props.empty ?? '—'}</span>;
  const absolute = formatAbsolute(props.iso);
  if (props.absoluteOnly) {
    return (
      <time class="time" dateTime={props.iso} title={formatRelative(props.iso, props.now)}>
        {absolute}
      </time>
    );
  }
  return (
    <time class="time" dateTime={props.iso} title={absolute}>
      <span class="time-rel">{formatRelative(props.iso, props.now)}</span> <span class="time-abs">{absolute}</span>
    </time>
  );
}
