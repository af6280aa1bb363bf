// Is every task current? The summary first, then what moves now (live), then
// each task's lag, last result and pools, then the pools' health.

import type { PeerView, PoolView, StatusView, TaskView } from '../../../api/views.js';
import { Alert } from '../components/alert.js';
import { Badge, LastAttempt } from '../components/badge.js';
import { Card, EmptyState } from '../components/card.js';
import { Findings, HealthBadge } from '../components/health.js';
import { Loaded } from '../components/loading.js';
import { Table } from '../components/table.js';
import { Time } from '../components/time.js';
import { TransferList } from '../components/transfers.js';
import { useApp } from '../context.js';
import { isActive, runOfTask } from '../live.js';
import { formatBytes, formatDuration } from '../format.js';
import { taskFreshness, type TaskFreshness } from '../freshness.js';
import { useInterval, useLoad, useNow, usePageTitle } from '../hooks.js';
import { isPaired } from './tasks.js';

interface Overview {
  readonly tasks: TaskView[];
  readonly pools: PoolView[];
  readonly status: StatusView;
  readonly peers: PeerView[];
}

export function DashboardPage() {
  const { api, live, applianceName } = useApp();
  usePageTitle('Dashboard', applianceName);
  const now = useNow();
  // Reloaded whenever a run ends (its task's lag and last result change), and each half minute for incoming transfers.
  const state = useLoad(async (): Promise<Overview> => {
    const [tasks, pools, status, peers] = await Promise.all([api.tasks(), api.pools(), api.status(), api.peers()]);
    return { tasks, pools, status, peers };
  }, [api, live.ended]);
  useInterval(state.reload, 30_000, true);

  return (
    <>
      <h1>Dashboard</h1>
      <Loaded state={state} what="the overview">
        {(o) => (
          <>
            <Summary overview={o} now={now} />
            <Card title="Transfers now" subtitle="Runs under way and just ended, live from the appliance.">
              <TransferList runs={[...live.runs.values()]} connected={live.connected} />
              <Incoming status={o.status} peers={o.peers} />
            </Card>
            <TaskHealthCard tasks={o.tasks} peers={o.peers} now={now} />
            <PoolHealthCard pools={o.pools} />
          </>
        )}
      </Loaded>
    </>
  );
}

function Summary(props: { overview: Overview; now: number }) {
  const { tasks, pools, status } = props.overview;
  const states = tasks.map((t) => taskFreshness(t, props.now).state);
  const current = states.filter((s) => s === 'current').length;
  const late = states.filter((s) => s === 'late').length;
  const never = states.filter((s) => s === 'never').length;
  const failing = tasks.filter((t) => t.lastAttempt?.status === 'failed').length;
  const unhealthy = pools.filter((p) => p.health?.findings.some((f) => f.severity !== 'info')).length;
  // A pool not checked yet is not "healthy": the check runs at start and takes a moment.
  const unchecked = pools.filter((p) => p.health === null).length;
  const allGood = tasks.length > 0 && current === tasks.length && failing === 0 && unhealthy === 0;
  return (
    <section class={`summary ${allGood ? 'summary-ok' : tasks.length === 0 ? '' : 'summary-warn'}`} aria-label="Summary">
      <p class="summary-main">{tasks.length === 0 ? 'No tasks yet.' : `${current} of ${tasks.length} ${tasks.length === 1 ? 'task' : 'tasks'} current`}</p>
      <ul class="summary-facts">
        {late > 0 && <li>{late} late</li>}
        {never > 0 && <li>{never} never succeeded</li>}
        {failing > 0 && <li>{failing} with a failed last attempt</li>}
        <li>
          {pools.length === 0
            ? 'no pools here'
            : unhealthy > 0
              ? `${unhealthy} ${unhealthy === 1 ? 'pool needs' : 'pools need'} attention`
              : unchecked > 0
                ? `${unchecked === pools.length && pools.length === 1 ? 'pool' : `${unchecked} ${unchecked === 1 ? 'pool' : 'pools'}`} not checked yet`
                : pools.length === 1
                  ? 'pool healthy'
                  : 'all pools healthy'}
        </li>
        <li>service {status.service === 'enabled' ? 'on' : 'off'}</li>
      </ul>
      {status.service === 'disabled' && (
        <Alert tone="warning" title="The replication service is off.">
          No scheduled run starts and peers cannot send here. <a href="/appliance">Turn it on on the Appliance page.</a>
        </Alert>
      )}
    </section>
  );
}

/** Transfers peers are sending here now (from GET /status, not the event stream, which tells this appliance's own runs). */
function Incoming(props: { status: StatusView; peers: readonly PeerView[] }) {
  const incoming = props.status.transfers.filter((t) => t.direction === 'receive');
  if (incoming.length === 0) return null;
  return (
    <div class="incoming">
      <h3>Receiving</h3>
      <ul class="plain-list">
        {incoming.map((t) => (
          <li key={`${t.peer}/${t.share}/${t.snapshot}`}>
            <strong>{t.share}</strong> from {props.peers.find((p) => p.id === t.peer)?.name ?? <span class="mono">{t.peer}</span>}: snapshot <span class="mono">{t.snapshot}</span>
            {t.bytes !== undefined && `, ${formatBytes(t.bytes)} so far`}
          </li>
        ))}
      </ul>
    </div>
  );
}

function FreshnessBadge(props: { freshness: TaskFreshness; paused: boolean }) {
  const { state, lagSeconds } = props.freshness;
  const lag = lagSeconds === null ? '' : state === 'late' ? `${formatDuration(lagSeconds)} behind` : `last success ${formatDuration(lagSeconds)} ago`;
  switch (state) {
    case 'current':
      return <Badge tone="ok" title={lag}>current</Badge>;
    case 'late':
      return <Badge tone="warn" title={lag}>late</Badge>;
    case 'never':
      return <Badge tone={props.paused ? 'neutral' : 'bad'}>never succeeded</Badge>;
    case 'unknown':
      return <Badge tone="neutral">no schedule period</Badge>;
  }
}

function TaskHealthCard(props: { tasks: readonly TaskView[]; peers: readonly PeerView[]; now: number }) {
  return (
    <Card title="Tasks" subtitle="Lag is the time since the last success, against the task's schedule." actions={<a href="/tasks" class="btn btn-secondary btn-small">All tasks</a>} flush>
      {props.tasks.length === 0 ? (
        <EmptyState title="No tasks yet." action={<a href="/tasks" class="btn btn-primary">Add a task</a>}>
          Add one to start replicating.
        </EmptyState>
      ) : (
        <Table columns={['Task', 'Freshness', 'Last success', 'Last attempt', 'Next run', 'Source pool']}>
          {props.tasks.map((t) => (
            <TaskHealthRow key={t.name} task={t} paired={isPaired(props.peers, t.peer)} now={props.now} />
          ))}
        </Table>
      )}
    </Card>
  );
}

function TaskHealthRow(props: { task: TaskView; paired: boolean; now: number }) {
  const { task: t, now } = props;
  const f = taskFreshness(t, now);
  // A run under way is the newest attempt, though the task was loaded before it started.
  const { live } = useApp();
  const run = runOfTask(live, t.name);
  const attempt = run !== undefined && isActive(run.run.state) ? { status: run.run.state, errorCode: null, startedAt: run.run.startedAt } : t.lastAttempt;
  return (
    <tr data-testid={`task-health-${t.name}`}>
      <th scope="row" data-label="Task">
        <a href={`/tasks/${encodeURIComponent(t.name)}`}>{t.name}</a>
        <span class="cell-sub">{t.schedule}</span>
      </th>
      <td data-label="Freshness">
        <FreshnessBadge freshness={f} paused={t.paused} />
        {t.paused && <Badge tone="neutral">paused</Badge>}
        {/* Its peer was removed: every run would fail NOT_PAIRED, whatever the freshness says. */}
        {!props.paired && <Badge tone="bad">peer not paired</Badge>}
        {/* Only a late task is behind: a current one's lag is its schedule at work, not an alarm. */}
        {f.state === 'late' && f.lagSeconds !== null && <span class="cell-sub">{formatDuration(f.lagSeconds)} behind</span>}
      </td>
      <td data-label="Last success">
        <Time iso={t.lastSucceeded} now={now} empty="never" />
      </td>
      <td data-label="Last attempt">
        <LastAttempt attempt={attempt} now={now} empty="none yet" />
      </td>
      <td data-label="Next run">{t.paused ? <span class="muted">paused</span> : <Time iso={t.nextRunAt} now={now} empty="not scheduled" />}</td>
      <td data-label="Source pool">
        <HealthBadge health={t.sourceHealth} />
      </td>
    </tr>
  );
}

function PoolHealthCard(props: { pools: readonly PoolView[] }) {
  return (
    <Card title="Pools" subtitle="Pools of this appliance that peers send to, as the last health check found them." actions={<a href="/pools" class="btn btn-secondary btn-small">Manage pools</a>}>
      {props.pools.length === 0 ? (
        <EmptyState title="No pools on this appliance.">A pool is where peers may send their replicas. This appliance can still send its own shares.</EmptyState>
      ) : (
        <ul class="pool-health">
          {props.pools.map((p) => (
            <li key={p.name}>
              <div class="pool-health-head">
                <strong>{p.name}</strong> <span class="mono muted">{p.path}</span> <HealthBadge health={p.health} />
              </div>
              <Findings health={p.health} />
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
