// Runs under way, from the live event stream: bytes against the estimate,
// rate and ETA, as the daemon measures them. A run that just ended stays a
// minute with its result. The list is a polite live region, so a screen
// reader hears a run start and end, not every byte.

import type { LiveRun } from '../live.js';
import { isActive } from '../live.js';
import { formatBytes, formatDuration, formatRate } from '../format.js';
import { StatusBadge } from './badge.js';
import { EmptyState } from './card.js';
import { ProgressBar } from './progress.js';
import { ErrorAlert } from './alert.js';
import { ApiError } from '../api.js';

export function TransferRow(props: { live: LiveRun }) {
  const { run, rateBytesPerSecond, etaSeconds } = props.live;
  const active = isActive(run.state);
  return (
    <li class="transfer" data-testid={`transfer-${run.task}`}>
      <div class="transfer-head">
        <a href={`/tasks/${encodeURIComponent(run.task)}`} class="transfer-task">
          {run.task}
        </a>
        <StatusBadge status={run.state} />
        {run.snapshot !== null && <span class="muted mono transfer-snapshot">{run.snapshot}</span>}
      </div>
      <ProgressBar value={run.bytes} max={run.state === 'succeeded' ? run.bytes : run.estimatedBytes} label={`${run.task} progress`} />
      <div class="transfer-numbers" aria-hidden={active ? 'true' : undefined}>
        <span>
          {formatBytes(run.bytes)}
          {run.estimatedBytes !== null && ` of ${formatBytes(run.estimatedBytes)}`}
        </span>
        {active && <span>{formatRate(rateBytesPerSecond)}</span>}
        {active && etaSeconds !== null && <span>ETA {formatDuration(etaSeconds)}</span>}
        {run.state === 'queued' && <span>waiting for a free slot</span>}
      </div>
      {run.errorCode !== null && <ErrorAlert error={new ApiError(run.errorCode, run.error ?? 'the run failed', 0)} />}
    </li>
  );
}

export function TransferList(props: { runs: readonly LiveRun[]; connected: boolean }) {
  const sorted = [...props.runs].sort((a, b) => Number(isActive(b.run.state)) - Number(isActive(a.run.state)) || b.run.startedAt.localeCompare(a.run.startedAt));
  return (
    <div aria-live="polite" aria-relevant="additions removals">
      {sorted.length === 0 ? (
        <EmptyState title="No transfers under way.">Runs show here as they start, with their progress, rate and ETA.{props.connected ? '' : ' Live updates are reconnecting.'}</EmptyState>
      ) : (
        <ul class="transfers">
          {sorted.map((r) => (
            <TransferRow key={r.run.id} live={r} />
          ))}
        </ul>
      )}
    </div>
  );
}
