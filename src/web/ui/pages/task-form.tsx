// Adding and editing a task. Each field is checked with the API's own
// schema (TaskAddBody, TaskEditBody) as the daemon will check it, and the
// problem shows under its field; what only the daemon can know (the share
// is not a subvolume, the peer does not grant the pool) shows under the form.

import { useState } from 'preact/hooks';
import { TaskAddBody, TaskEditBody } from '../../../api/schemas.js';
import type { PeerView, TaskView } from '../../../api/views.js';
import type { AddedTaskView } from '../../../api/views.js';
import { Dialog, DialogSubmit } from '../components/dialog.js';
import { SelectField, TextField } from '../components/fields.js';
import { useApp } from '../context.js';
import { useSubmit } from '../submit.js';
import { check, wholeNumber } from '../validation.js';

const units = [
  ['60', 'minutes'],
  ['3600', 'hours'],
  ['86400', 'days'],
  ['1', 'seconds'],
] as const;

const degradedOptions = [
  ['replicate', 'replicate anyway'],
  ['hold', 'hold the run'],
] as const;

interface Draft {
  name: string;
  sharePath: string;
  shareName: string;
  peer: string;
  pool: string;
  scheduleKind: 'every' | 'cron';
  everyValue: string;
  everyUnit: string;
  cron: string;
  keepLocal: string;
  keepRemote: string;
  retries: string;
  retryBackoffMs: string;
  onDegradedSource: 'replicate' | 'hold';
  onDegradedTarget: 'replicate' | 'hold';
}

/** The largest unit that divides the period, so `every 2h` comes back as 2 hours. */
function everyDraft(seconds: number | null): { everyValue: string; everyUnit: string } {
  if (seconds === null) return { everyValue: '1', everyUnit: '3600' };
  for (const [unit] of units) if (Number(unit) > 1 && seconds % Number(unit) === 0) return { everyValue: String(seconds / Number(unit)), everyUnit: unit };
  return { everyValue: String(seconds), everyUnit: '1' };
}

function draftOf(task: TaskView | null, peers: readonly PeerView[]): Draft {
  return {
    name: task?.name ?? '',
    sharePath: task?.sharePath ?? '',
    shareName: '',
    peer: task?.peer ?? peers[0]?.id ?? '',
    pool: task?.pool ?? '',
    scheduleKind: task?.cron ? 'cron' : 'every',
    ...everyDraft(task?.every ?? null),
    cron: task?.cron ?? '',
    keepLocal: String(task?.keepLocal ?? ''),
    keepRemote: String(task?.keepRemote ?? ''),
    retries: String(task?.retries ?? ''),
    retryBackoffMs: String(task?.retryBackoffMs ?? ''),
    onDegradedSource: task?.onDegradedSource ?? 'replicate',
    onDegradedTarget: task?.onDegradedTarget ?? 'hold',
  };
}

function scheduleOf(d: Draft): { every?: number; cron?: string } {
  if (d.scheduleKind === 'cron') return { cron: d.cron.trim() };
  const value = wholeNumber(d.everyValue);
  return { every: value === undefined ? Number.NaN : value * Number(d.everyUnit) };
}

function optional(key: string, value: number | undefined): Record<string, number> {
  return value === undefined ? {} : { [key]: value };
}

function commonOf(d: Draft) {
  return {
    ...scheduleOf(d),
    ...optional('keepLocal', wholeNumber(d.keepLocal)),
    ...optional('keepRemote', wholeNumber(d.keepRemote)),
    ...optional('retries', wholeNumber(d.retries)),
    ...optional('retryBackoffMs', wholeNumber(d.retryBackoffMs)),
    onDegradedSource: d.onDegradedSource,
    onDegradedTarget: d.onDegradedTarget,
  };
}

function addBodyOf(d: Draft): unknown {
  return { name: d.name, sharePath: d.sharePath, ...(d.shareName.trim() === '' ? {} : { shareName: d.shareName }), peer: d.peer, pool: d.pool, ...commonOf(d) };
}

export function TaskForm(props: { task: TaskView | null; peers: readonly PeerView[]; onClose: () => void; onSaved: (added: AddedTaskView | null) => void }) {
  const { api } = useApp();
  const editing = props.task !== null;
  const [d, setD] = useState<Draft>(() => draftOf(props.task, props.peers));
  const form = useSubmit();
  const { errors } = form;
  const set = <K extends keyof Draft>(key: K) => (value: Draft[K]) => setD((x) => ({ ...x, [key]: value }));

  const submit = (e: Event) => {
    e.preventDefault();
    const task = props.task;
    if (task !== null) form.submit(check(TaskEditBody, commonOf(d)), (body) => api.editTask(task.name, body).then(() => null), props.onSaved);
    else form.submit(check(TaskAddBody, addBodyOf(d)), (body) => api.addTask(body), props.onSaved);
  };

  const peerOptions = props.peers.map((p) => [p.id, `${p.name} (${p.id})`] as const);
  const scheduleError = errors.every ?? errors.cron;
  return (
    <Dialog title={editing ? `Edit task ${props.task?.name ?? ''}` : 'Add task'} onClose={props.onClose} wide>
      <form onSubmit={submit} noValidate class="form">
        {!editing && (
          <fieldset class="fieldset">
            <legend>What to replicate, and where</legend>
            <div class="form-grid">
              <TextField label="Task name" value={d.name} onValue={set('name')} error={errors.name} hint="Names the task in trails and on the command line." required autofocus />
              <TextField label="Share path" value={d.sharePath} onValue={set('sharePath')} error={errors.sharePath} hint="The btrfs subvolume on this appliance, e.g. /mnt/pool1/photos." placeholder="/mnt/pool1/photos" required />
              <TextField label="Share name on the peer (optional)" value={d.shareName} onValue={set('shareName')} error={errors.shareName} hint="Its folder in the peer's pool; the share path's last folder when empty." />
              {peerOptions.length === 0 ? (
                <p class="field-error">No peer is paired yet: pair one on the Peers page first.</p>
              ) : (
                <SelectField label="Peer" value={d.peer} onValue={set('peer')} options={peerOptions} error={errors.peer} required />
              )}
              <TextField label="Pool on the peer" value={d.pool} onValue={set('pool')} error={errors.pool} hint="The name of a pool on the receiving peer, as its admin declared it." required />
            </div>
          </fieldset>
        )}
        <fieldset class="fieldset">
          <legend>Schedule</legend>
          <div class="form-grid">
            <SelectField
              label="Runs"
              value={d.scheduleKind}
              onValue={(v) => set('scheduleKind')(v === 'cron' ? 'cron' : 'every')}
              options={[
                ['every', 'at a fixed interval'],
                ['cron', 'on a cron schedule (UTC)'],
              ]}
            />
            {d.scheduleKind === 'every' ? (
              <div class="field-pair">
                <TextField label="Every" inputMode="numeric" value={d.everyValue} onValue={set('everyValue')} error={scheduleError} required />
                <SelectField label="Unit" value={d.everyUnit} onValue={set('everyUnit')} options={units} />
              </div>
            ) : (
              <TextField label="Cron expression" value={d.cron} onValue={set('cron')} error={scheduleError} hint="Five fields in UTC, e.g. 0 3 * * * for 03:00 every day." placeholder="0 3 * * *" required />
            )}
          </div>
        </fieldset>
        <details class="more" open={editing}>
          <summary>Retention, retries and pool health</summary>
          <div class="form-grid">
            <TextField label="Snapshots kept here" inputMode="numeric" value={d.keepLocal} onValue={set('keepLocal')} error={errors.keepLocal} hint="Default 5." />
            <TextField label="Replicas kept on the peer" inputMode="numeric" value={d.keepRemote} onValue={set('keepRemote')} error={errors.keepRemote} hint="Default 10; the peer's pool floor may keep more." />
            <TextField label="Retries within a run" inputMode="numeric" value={d.retries} onValue={set('retries')} error={errors.retries} hint="For passing failures only. Default 3." />
            <TextField label="First retry delay (ms)" inputMode="numeric" value={d.retryBackoffMs} onValue={set('retryBackoffMs')} error={errors.retryBackoffMs} hint="Doubles at each retry. Default 2000." />
            <SelectField label="When the source pool is degraded" value={d.onDegradedSource} onValue={(v) => set('onDegradedSource')(v === 'hold' ? 'hold' : 'replicate')} options={degradedOptions} />
            <SelectField label="When the target pool is degraded" value={d.onDegradedTarget} onValue={(v) => set('onDegradedTarget')(v === 'hold' ? 'hold' : 'replicate')} options={degradedOptions} />
          </div>
        </details>
        {errors.form !== undefined && <p class="field-error">{errors.form}</p>}
        <DialogSubmit label={editing ? 'Save task' : 'Add task'} form={form} onCancel={props.onClose} disabled={!editing && peerOptions.length === 0} />
      </form>
    </Dialog>
  );
}
