// Status badges: the same word always in the same colour, on every page.

import type { ComponentChildren } from 'preact';
import { Time } from './time.js';

export type BadgeTone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral' | 'run';

export function Badge(props: { tone: BadgeTone; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.tone}`} title={props.title}>
      {props.children}
    </span>
  );
}

const statusTones: Readonly<Record<string, BadgeTone>> = {
  succeeded: 'ok',
  failed: 'bad',
  interrupted: 'warn',
  cancelled: 'neutral',
  running: 'run',
  queued: 'info',
};

/** An attempt's, a run's or a restore's state. */
export function StatusBadge(props: { status: string }) {
  return <Badge tone={statusTones[props.status] ?? 'neutral'}>{props.status}</Badge>;
}

/** A task's last attempt, in its table cell: its state, its error's code, and when it started; `empty` when there was none. */
export function LastAttempt(props: { attempt: { status: string; errorCode: string | null; startedAt: string } | null; now: number; empty: string }) {
  const a = props.attempt;
  if (a === null) return <span class="muted">{props.empty}</span>;
  return (
    <>
      <StatusBadge status={a.status} /> {a.errorCode !== null && <code class="code">{a.errorCode}</code>}
      <span class="cell-sub">
        <Time iso={a.startedAt} now={props.now} />
      </span>
    </>
  );
}

const severityTones: Readonly<Record<string, BadgeTone>> = { info: 'info', warning: 'warn', critical: 'bad' };

export function SeverityBadge(props: { severity: string }) {
  return <Badge tone={severityTones[props.severity] ?? 'neutral'}>{props.severity}</Badge>;
}
