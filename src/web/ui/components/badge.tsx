// Status badges: the same word always in the same colour, on every page.

import type { ComponentChildren } from 'preact';

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

const severityTones: Readonly<Record<string, BadgeTone>> = { info: 'info', warning: 'warn', critical: 'bad' };

export function SeverityBadge(props: { severity: string }) {
  return <Badge tone={severityTones[props.severity] ?? 'neutral'}>{props.severity}</Badge>;
}
