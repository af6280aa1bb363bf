// One task: what it is, its run now (live), a chart of its recent attempts,
// and its send trail page by page. The running attempt's bytes move with the
// live stream; a run that starts or ends reloads the newest page.

import { useRoute } from 'preact-iso/router';
import { useState } from 'preact/hooks';
import type { PeerView, TaskDetailView } from '../../../api/views.js';
import { Alert } from '../components/alert.js';
import { Badge } from '../components/badge.js';
import { Button } from '../components/button.js';
import { Card, Facts } from '../components/card.js';
import { Findings, HealthBadge } from '../components/health.js';
import { Loaded } from '../components/loading.js';
import { RestoreDialog } from '../components/restore-dialog.js';
import { TaskRunActions } from '../components/task-actions.js';
import { Time } from '../components/time.js';
import { TrailBrowser } from '../components/trail-browser.js';
import { TrailChart } from '../components/trail-chart.js';
import { TransferList } from '../components/transfers.js';
import { useApp } from '../context.js';
import { useLoad, useNow, usePageTitle } from '../hooks.js';
import { runOfTask } from '../live.js';
import { peerName, RemoveTaskDialog } from './tasks.js';
import { formatDuration } from '../format.js';
import { TaskForm } from './task-form.js';

/** How many attempts the chart shows: enough to see a trend, few enough to draw at once. */
const CHART_ATTEMPTS = 500;

export function SendTrailPage() {
  const { api, live, applianceName } = useApp();
  const name = useRoute().params.name ?? '';
  usePageTitle(`Task ${name}`, applianceName);
  const run = runOfTask(live, name);
  // A run that starts or ends changes the task and its trail: the key changes with the run's state.
  const runKey = run === undefined ? 'none' : `${run.run.id}:${run.run.state}`;
  const state = useLoad(async () => {
    const [task, peers, status] = await Promise.all([api.task(name), api.peers(), api.status()]);
    return { task, peers, serviceOn: status.service === 'enabled' };
  }, [api, name, runKey]);
  const chart = useLoad(() => api.sendTrail({ task: name, limit: CHART_ATTEMPTS }), [api, name, live.ended]);

  return (
    <>
      <p class="breadcrumb">
        <a href="/tasks">
          <span aria-hidden="true">← </span>All tasks
        </a>
      </p>
      <h1>Task {name}</h1>
      <Loaded state={state} what={`task ${name}`}>
        {({ task, peers, serviceOn }) => <TaskSummary task={task} peers={peers} serviceOn={serviceOn} onChanged={state.reload} />}
      </Loaded>
      <Card title="Live run" subtitle="This task's run under way or just ended.">
        <TransferList runs={run === undefined ? [] : [run]} connected={live.connected} />
      </Card>
      <Card title="Bytes and duration per attempt" subtitle={`Up to the last ${CHART_ATTEMPTS} attempts.`}>
        <Loaded state={chart} what="the chart">
          {(entries) => <TrailChart entries={entries} />}
        </Loaded>
      </Card>
      <Card title="Send trail" subtitle="Every attempt of this task, newest first.">
        <TrailBrowser direction="send" task={name} liveRun={run} refreshKey={runKey} />
      </Card>
    </>
  );
}

type Open = 'edit' | 'remove' | 'restore' | null;

function TaskSummary(props: { task: TaskDetailView; peers: readonly PeerView[]; serviceOn: boolean; onChanged: () => void }) {
  const { task: t, peers } = props;
  const now = useNow();
  const [open, setOpen] = useState<Open>(null);
  const [removed, setRemoved] = useState(false);
  if (removed) {
    return (
      <Alert tone="success" title={`Task ${t.name} removed.`}>
        Its snapshots and replicas stay. <a href="/tasks">Back to the tasks</a>
      </Alert>
    );
  }
  return (
    <Card
      title="Task"
      subtitle={`Replicates ${t.sharePath} to pool ${t.pool} of ${peerName(peers, t.peer)}.`}
      actions={
        <>
          <Button small onClick={() => setOpen('edit')}>
            Edit
          </Button>
          <Button small onClick={() => setOpen('restore')}>
            Restore
          </Button>
          <Button small variant="danger-quiet" onClick={() => setOpen('remove')}>
            Remove
          </Button>
        </>
      }
    >
      <TaskRunActions task={t} serviceOn={props.serviceOn} onChanged={props.onChanged} />
      <Facts
        items={[
          ['Share', <span class="mono wrap-any">{t.sharePath}</span>],
          ['Name on the peer', t.share],
          ['Peer', <TaskPeer peers={peers} peer={t.peer} />],
          ['Pool on the peer', t.pool],
          ['Schedule', t.schedule],
          ['State', t.paused ? <Badge tone="neutral">paused</Badge> : <Badge tone="ok">enabled</Badge>],
          ['Last success', <Time iso={t.lastSucceeded} now={now} empty="never" />],
          ['Next run', t.paused ? 'paused' : <Time iso={t.nextRunAt} now={now} empty="not scheduled" />],
          ['Keeps', `${t.keepLocal} snapshots here, ${t.keepRemote} replicas on the peer`],
          ['Retries', `${t.retries}, first after ${formatDuration(t.retryBackoffMs / 1000)}`],
          ['Health', t.health.reason === null ? t.health.state : `${t.health.state}: ${t.health.reason}`],
          ['Source pool', <HealthBadge health={t.sourceHealth} />],
        ]}
      />
      <Findings health={t.sourceHealth} />
      {open === 'edit' && (
        <TaskForm
          task={t}
          peers={peers}
          onClose={() => setOpen(null)}
          onSaved={() => {
            setOpen(null);
            props.onChanged();
          }}
        />
      )}
      {open === 'restore' && <RestoreDialog defaults={{ share: t.share, peer: t.peer, pool: t.pool }} peers={peers} onClose={() => setOpen(null)} />}
      {open === 'remove' && <RemoveTaskDialog task={t} peer={peerName(peers, t.peer)} onClose={() => setOpen(null)} onRemoved={() => setRemoved(true)} />}
    </Card>
  );
}

/** The task's peer by name, with its id; a peer no longer paired says so (the task's runs fail NOT_PAIRED). */
function TaskPeer(props: { peers: readonly PeerView[]; peer: string }) {
  const found = props.peers.find((p) => p.id === props.peer || p.name === props.peer);
  if (!found) {
    return (
      <>
        <span class="mono">{props.peer}</span> <Badge tone="bad">not paired</Badge>
      </>
    );
  }
  return (
    <>
      {found.name} <span class="muted mono">{found.id}</span>
    </>
  );
}
