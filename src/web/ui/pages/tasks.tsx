// The task list: each task's share, peer, pool, schedule, state and runs,
// with its actions; adding, editing, removing and restoring open dialogs.

import { useState } from 'preact/hooks';
import type { AddedTaskView, PeerView, TaskView } from '../../../api/views.js';
import { Alert } from '../components/alert.js';
import { Badge, LastAttempt } from '../components/badge.js';
import { Button } from '../components/button.js';
import { Card, EmptyState } from '../components/card.js';
import { ConfirmDialog } from '../components/dialog.js';
import { Loaded } from '../components/loading.js';
import { MoreMenu } from '../components/more-menu.js';
import { RestoreDialog } from '../components/restore-dialog.js';
import { TaskRunActions, useTaskRunning } from '../components/task-actions.js';
import { Table } from '../components/table.js';
import { Time } from '../components/time.js';
import { useApp } from '../context.js';
import { useLoad, useNow, usePageTitle } from '../hooks.js';
import { TaskForm } from './task-form.js';

type Open = { kind: 'add' } | { kind: 'edit' | 'remove' | 'restore'; task: TaskView } | null;

export function peerName(peers: readonly PeerView[], id: string): string {
  return peers.find((p) => p.id === id)?.name ?? id;
}

/** Whether a task's peer (by name or id, as TaskView carries it) is still paired: if not, its runs can only fail. */
export function isPaired(peers: readonly PeerView[], peer: string): boolean {
  return peers.some((p) => p.id === peer || p.name === peer);
}

export function TasksPage() {
  const { api, live, applianceName } = useApp();
  usePageTitle('Tasks', applianceName);
  const now = useNow();
  const state = useLoad(async () => {
    const [tasks, peers, status] = await Promise.all([api.tasks(), api.peers(), api.status()]);
    return { tasks, peers, serviceOn: status.service === 'enabled' };
  }, [api, live.ended]);
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState<{ text: string; warnings: readonly string[] } | null>(null);

  const saved = (added: AddedTaskView | null, what: string) => {
    setOpen(null);
    setNotice({ text: what, warnings: added?.warnings ?? [] });
    state.reload();
  };

  return (
    <>
      <h1>Tasks</h1>
      {notice !== null && (
        <Alert tone={notice.warnings.length > 0 ? 'warning' : 'success'} title={notice.text}>
          {notice.warnings.length > 0 && (
            <ul>
              {notice.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
        </Alert>
      )}
      <Loaded state={state} what="the tasks">
        {({ tasks, peers, serviceOn }) => (
          <>
            <Card
              title="Replication tasks"
              subtitle="Each task replicates one share to a pool of a peer on its schedule."
              actions={
                <Button variant="primary" onClick={() => setOpen({ kind: 'add' })}>
                  Add task
                </Button>
              }
              flush
            >
              {tasks.length === 0 ? (
                <EmptyState title="No tasks yet." action={<Button variant="primary" onClick={() => setOpen({ kind: 'add' })}>Add task</Button>}>
                  Add one to start replicating.{peers.length === 0 && ' Pair a peer first, on the Peers page.'}
                </EmptyState>
              ) : (
                <Table columns={['Task', 'Peer and pool', 'Schedule', 'State', 'Last run', 'Next run', 'Actions']} class="tasks">
                  {tasks.map((t) => (
                    <TaskRow key={t.name} task={t} peers={peers} now={now} serviceOn={serviceOn} onChanged={state.reload} onOpen={(kind) => setOpen({ kind, task: t })} />
                  ))}
                </Table>
              )}
            </Card>
            {open?.kind === 'add' && <TaskForm task={null} peers={peers} onClose={() => setOpen(null)} onSaved={(added) => saved(added, `Task ${added?.task.name ?? ''} added.`)} />}
            {open?.kind === 'edit' && <TaskForm task={open.task} peers={peers} onClose={() => setOpen(null)} onSaved={() => saved(null, `Task ${open.task.name} saved.`)} />}
            {open?.kind === 'restore' && <RestoreDialog defaults={{ share: open.task.share, peer: open.task.peer, pool: open.task.pool }} peers={peers} onClose={() => setOpen(null)} />}
            {open?.kind === 'remove' && (
              <RemoveTaskDialog
                task={open.task}
                peer={peerName(peers, open.task.peer)}
                onClose={() => setOpen(null)}
                onRemoved={() => {
                  setNotice({ text: `Task ${open.task.name} removed. Its snapshots and replicas stay.`, warnings: [] });
                  state.reload();
                }}
              />
            )}
          </>
        )}
      </Loaded>
    </>
  );
}

function TaskRow(props: { task: TaskView; peers: readonly PeerView[]; now: number; serviceOn: boolean; onChanged: () => void; onOpen: (kind: 'edit' | 'remove' | 'restore') => void }) {
  const { task: t, now } = props;
  const running = useTaskRunning(t);
  return (
    <tr data-testid={`task-${t.name}`}>
      <th scope="row" data-label="Task">
        <a href={`/tasks/${encodeURIComponent(t.name)}`}>{t.name}</a>
        <span class="cell-sub mono wrap-any">{t.sharePath}</span>
        {t.share !== t.sharePath.split('/').pop() && <span class="cell-sub">as {t.share}</span>}
      </th>
      <td data-label="Peer and pool">
        {peerName(props.peers, t.peer)} {!isPaired(props.peers, t.peer) && <Badge tone="bad">not paired</Badge>}
        <span class="cell-sub">pool {t.pool}</span>
      </td>
      <td data-label="Schedule" class="nowrap">
        {t.schedule}
      </td>
      <td data-label="State">
        <span class="badges">
          {t.paused ? <Badge tone="neutral">paused</Badge> : <Badge tone="ok">enabled</Badge>}
          {running && <Badge tone="run">running</Badge>}
        </span>
      </td>
      <td data-label="Last run">
        <LastAttempt attempt={t.lastAttempt} now={now} empty="never" />
      </td>
      <td data-label="Next run">{t.paused ? <span class="muted">paused</span> : <Time iso={t.nextRunAt} now={now} empty={props.serviceOn ? 'not scheduled' : 'service off'} />}</td>
      <td data-label="Actions" class="row-actions">
        <TaskRunActions task={t} serviceOn={props.serviceOn} onChanged={props.onChanged}>
          <MoreMenu
            label={`for task ${t.name}`}
            items={[
              { label: 'Edit', hidden: `task ${t.name}`, onSelect: () => props.onOpen('edit') },
              { label: 'Restore', hidden: `share ${t.share}`, onSelect: () => props.onOpen('restore') },
              { label: 'Remove', hidden: `task ${t.name}`, danger: true, onSelect: () => props.onOpen('remove') },
            ]}
          />
        </TaskRunActions>
      </td>
    </tr>
  );
}

export function RemoveTaskDialog(props: { task: TaskView; peer: string; onClose: () => void; onRemoved: () => void }) {
  const { api } = useApp();
  const { task } = props;
  return (
    <ConfirmDialog
      title={`Remove task ${task.name}?`}
      confirmLabel="Remove task"
      danger
      onClose={props.onClose}
      onConfirm={async () => {
        await api.removeTask(task.name);
        props.onRemoved();
      }}
    >
      <p>
        The task stops replicating <strong>{task.sharePath}</strong> to pool <strong>{task.pool}</strong> of <strong>{props.peer}</strong>.
      </p>
      <p>Its snapshots on this appliance and its replicas on the peer stay where they are, and its trail is kept. Remove them by hand when you no longer need them.</p>
    </ConfirmDialog>
  );
}
