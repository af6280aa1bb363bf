// The actions of one task that run at once (Run now, Cancel run, Pause,
// Resume), each with its error in place next to it. Shared by the task list
// and the task's own page.

import type { ComponentChildren } from 'preact';
import type { TaskView } from '../../../api/views.js';
import { useApp } from '../context.js';
import { isActive, runOfTask } from '../live.js';
import { useActions } from '../submit.js';
import { ErrorAlert } from './alert.js';
import { Action } from './button.js';

export function useTaskRunning(task: TaskView): boolean {
  const { live } = useApp();
  const run = runOfTask(live, task.name);
  // The live stream is newer than the task list when it has heard of the run.
  return run === undefined ? task.running : isActive(run.run.state);
}

export function TaskRunActions(props: { task: TaskView; serviceOn: boolean; onChanged: () => void; children?: ComponentChildren }) {
  const { api } = useApp();
  const { task } = props;
  const running = useTaskRunning(task);
  const { busy, error, act: run } = useActions();
  const act = (what: string, call: () => Promise<unknown>) => run(what, call, props.onChanged);

  return (
    <div class="task-actions">
      <div class="action-row">
        {running ? (
          <Action label="Cancel run" variant="secondary" small busy={busy === 'cancel'} onClick={() => act('cancel', () => api.cancelTask(task.name))} />
        ) : (
          <Action label="Run now" variant="primary" small busy={busy === 'run'} excuse={props.serviceOn ? null : 'The service is off'} onClick={() => act('run', () => api.runTask(task.name))} />
        )}
        {task.paused ? (
          <Action label="Resume" small busy={busy === 'resume'} onClick={() => act('resume', () => api.pauseTask(task.name, false))} />
        ) : (
          <Action label="Pause" small busy={busy === 'pause'} onClick={() => act('pause', () => api.pauseTask(task.name, true))} />
        )}
        {props.children}
      </div>
      <ErrorAlert error={error} />
    </div>
  );
}
