// One table for both trails (send and receive): each attempt's times,
// bytes, rate, mode, parent and result in a row, and everything else the
// trail recorded (the full error, why the planner chose its mode, pool
// findings, what retention deleted) behind the row's Details button.

import { Fragment, type ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { ReceiveTrailEntryView, SendTrailEntryView } from '../../../api/views.js';
import type * as z from 'zod/mini';
import { formatBytes, formatDuration, formatRate, secondsBetween } from '../format.js';
import { StatusBadge } from './badge.js';
import { Facts } from './card.js';
import { Table, type Column } from './table.js';
import { Time } from './time.js';

export type SendEntry = z.infer<typeof SendTrailEntryView>;
export type ReceiveEntry = z.infer<typeof ReceiveTrailEntryView>;
export type TrailEntry = SendEntry | ReceiveEntry;

function isReceive(e: TrailEntry): e is ReceiveEntry {
  return 'replicaPath' in e;
}

export interface TrailTableProps {
  entries: readonly TrailEntry[];
  now: number;
  showTask: boolean;
  direction: 'send' | 'receive';
  /** Peer names by id, where the page knows them: the trail records ids. */
  peerNames?: ReadonlyMap<string, string> | undefined;
}

export function TrailTable(props: TrailTableProps) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const columns: Column[] = [
    'Started',
    ...(props.showTask ? ['Task'] : []),
    'Ended',
    'Duration',
    { label: 'Bytes', num: true },
    { label: 'Rate', num: true },
    'Mode and parent',
    'Status',
    'Error',
    { label: 'Details', heading: <span class="visually-hidden">Details</span> },
  ];
  return (
    <Table columns={columns} class="trail">
      {props.entries.map((e) => (
        <Fragment key={e.id}>
          <TrailRow entry={e} now={props.now} showTask={props.showTask} direction={props.direction} peerName={props.peerNames?.get(e.peer)} open={open.has(e.id)} onToggle={() => toggle(e.id)} />
          {open.has(e.id) && (
            <tr class="detail-row" id={`attempt-${e.id}-details`}>
              <td colSpan={columns.length}>
                <AttemptDetails entry={e} />
              </td>
            </tr>
          )}
        </Fragment>
      ))}
    </Table>
  );
}

function TrailRow(props: { entry: TrailEntry; now: number; showTask: boolean; direction: 'send' | 'receive'; peerName: string | undefined; open: boolean; onToggle: () => void }) {
  const { entry: e, now } = props;
  const seconds = secondsBetween(e.startedAt, e.endedAt, now);
  const rate = seconds > 0 ? e.bytes / seconds : null;
  return (
    <tr data-testid={`attempt-${e.id}`} class={e.status === 'failed' ? 'row-failed' : undefined}>
      <td data-label="Started" class="nowrap">
        <Time iso={e.startedAt} now={now} />
      </td>
      {props.showTask && (
        <td data-label="Task" class="nowrap">
          {props.direction === 'send' ? <a href={`/tasks/${encodeURIComponent(e.task)}`}>{e.task}</a> : e.task}
          <span class="cell-sub">
            {props.direction === 'send' ? 'to' : 'from'} {props.peerName ?? e.peer}
          </span>
        </td>
      )}
      <td data-label="Ended" class="nowrap">{e.endedAt === null ? <span class="muted">under way</span> : <Time iso={e.endedAt} now={now} absoluteOnly />}</td>
      <td data-label="Duration" class="nowrap">{formatDuration(seconds)}</td>
      <td data-label="Bytes" class="num">
        {formatBytes(e.bytes)}
      </td>
      <td data-label="Rate" class="num">
        {formatRate(rate)}
      </td>
      <td data-label="Mode and parent">
        {e.mode ?? <span class="muted">{e.status === 'succeeded' ? 'local: nothing travelled' : 'not planned'}</span>}
        {e.parent !== null && <span class="cell-sub mono nowrap">{e.parent}</span>}
      </td>
      <td data-label="Status">
        <StatusBadge status={e.status} />
        {e.kind !== 'replicate' && <span class="cell-sub">{e.kind}</span>}
      </td>
      <td data-label="Error">{e.errorCode === null ? <span class="muted">—</span> : <code class="code">{e.errorCode}</code>}</td>
      <td data-label="Details" class="row-actions">
        <button type="button" class="btn btn-ghost btn-small" aria-expanded={props.open} aria-controls={`attempt-${e.id}-details`} onClick={props.onToggle}>
          {props.open ? 'Hide details' : 'Details'}
          <span class="visually-hidden"> of attempt {e.id}</span>
        </button>
      </td>
    </tr>
  );
}

function AttemptDetails(props: { entry: TrailEntry }) {
  const e = props.entry;
  const items: [string, ComponentChildren][] = [
    ['Attempt', <span class="mono">{e.id}</span>],
    ['Kind', e.kind],
    ['Share', e.share],
    ['Snapshot', e.snapshot === null ? <span class="muted">none (the attempt failed before planning)</span> : <span class="mono wrap-any">{e.snapshot}</span>],
    ['Peer', <span class="mono">{e.peer}</span>],
    ['Pool', e.pool],
  ];
  if (isReceive(e)) items.push(['Replica', e.replicaPath === null ? <span class="muted">not committed</span> : <span class="mono wrap-any">{e.replicaPath}</span>]);
  if (e.reason !== null) items.push(['Why this mode', e.reason]);
  if (e.findings !== null) items.push(['Pool findings', e.findings]);
  if (e.retention !== null) items.push(['Retention', e.retention]);
  return (
    <div class="attempt-details">
      {e.error !== null && (
        <div class="error-block">
          <p class="error-block-title">
            Error <code class="code">{e.errorCode}</code>
          </p>
          <pre class="pre">{e.error}</pre>
        </div>
      )}
      <Facts items={items} />
    </div>
  );
}
