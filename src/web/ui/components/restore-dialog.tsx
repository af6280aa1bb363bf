// Restore: a share this appliance replicated out, back from the peer that
// holds its replicas, as a new writable share at a path that must not exist
// yet. Nothing in place is overwritten. The dialog stays open to follow the
// restore (GET /restores/:id each second) until it ends.

import { useState } from 'preact/hooks';
import { RestoreBody } from '../../../api/schemas.js';
import type { PeerView, RestoreView } from '../../../api/views.js';
import { useApp } from '../context.js';
import { formatBytes } from '../format.js';
import { useInterval } from '../hooks.js';
import { useSubmit } from '../submit.js';
import { check } from '../validation.js';
import { ErrorAlert } from './alert.js';
import { ApiError } from '../api.js';
import { StatusBadge } from './badge.js';
import { Button } from './button.js';
import { Facts } from './card.js';
import { Dialog, DialogButtons, DialogSubmit } from './dialog.js';
import { SelectField, TextField } from './fields.js';
import { ProgressBar } from './progress.js';

export interface RestoreDefaults {
  readonly share: string;
  readonly peer: string;
  readonly pool: string;
}

export function RestoreDialog(props: { defaults: RestoreDefaults; peers: readonly PeerView[]; onClose: () => void }) {
  const { api } = useApp();
  const [share, setShare] = useState(props.defaults.share);
  const [from, setFrom] = useState(props.defaults.peer);
  const [pool, setPool] = useState(props.defaults.pool);
  const [snapshot, setSnapshot] = useState('');
  const [to, setTo] = useState('');
  const form = useSubmit();
  const { errors, error, setError } = form;
  const [restore, setRestore] = useState<RestoreView | null>(null);

  useInterval(
    () => {
      if (restore === null) return;
      api.getRestore(restore.id).then(setRestore, setError);
    },
    1000,
    restore?.state === 'running',
  );

  const submit = (e: Event) => {
    e.preventDefault();
    const body = { share, from, ...(pool.trim() === '' ? {} : { pool: pool.trim() }), ...(snapshot.trim() === '' ? {} : { snapshot: snapshot.trim() }), to };
    form.submit(check(RestoreBody, body), (checked) => api.restore(checked), setRestore);
  };

  const peerOptions = props.peers.map((p) => [p.id, `${p.name} (${p.id})`] as const);
  return (
    <Dialog title={`Restore ${share || 'a share'}`} onClose={props.onClose} wide testId="restore-dialog">
      {restore === null ? (
        <form onSubmit={submit} noValidate class="form">
          <p class="dialog-body">
            Gets a snapshot of the share back from the peer that holds its replicas, as a new writable share at the target path. Nothing that exists is overwritten; the task's next run goes on incrementally from the restored snapshot.
          </p>
          <div class="form-grid">
            <TextField label="Share" value={share} onValue={setShare} error={errors.share} required />
            <SelectField label="From peer" value={from} onValue={setFrom} options={peerOptions} error={errors.from} required />
            <TextField label="Pool on the peer (optional)" value={pool} onValue={setPool} error={errors.pool} />
            <TextField label="Snapshot (optional)" value={snapshot} onValue={setSnapshot} error={errors.snapshot} hint="The newest replica when empty." placeholder="20250101T030000.000Z" />
            <TextField label="Target path" value={to} onValue={setTo} error={errors.to} hint="Must not exist yet, and must be on the share's filesystem." placeholder="/mnt/pool1/photos-restored" required wide />
          </div>
          <DialogSubmit label="Restore" form={form} onCancel={props.onClose} />
        </form>
      ) : (
        <RestoreProgress restore={restore} error={error} onClose={props.onClose} />
      )}
    </Dialog>
  );
}

function RestoreProgress(props: { restore: RestoreView; error: unknown; onClose: () => void }) {
  const r = props.restore;
  return (
    <div class="form" aria-live="polite">
      <p>
        <StatusBadge status={r.state} /> {r.state === 'running' ? 'Restoring…' : r.state === 'succeeded' ? `Restored to ${r.path}.` : 'The restore failed.'}
      </p>
      <ProgressBar value={r.state === 'succeeded' ? Math.max(1, r.bytes) : r.bytes} max={r.state === 'succeeded' ? Math.max(1, r.bytes) : null} label="Restore progress" />
      <Facts
        items={[
          ['Bytes', formatBytes(r.bytes)],
          ['Mode', r.mode === 'local' ? 'local: this appliance still held the snapshot, nothing travelled' : r.mode],
          ['Snapshot', <span class="mono">{r.snapshot}</span>],
          ['Parent', r.parent === null ? 'none' : <span class="mono">{r.parent}</span>],
          ['Target', <span class="mono">{r.path}</span>],
        ]}
      />
      {r.errorCode !== null && <ErrorAlert error={new ApiError(r.errorCode, r.error ?? 'the restore failed', 0)} />}
      <ErrorAlert error={props.error} />
      <DialogButtons>
        <Button variant={r.state === 'running' ? 'secondary' : 'primary'} onClick={props.onClose}>
          {r.state === 'running' ? 'Close (it goes on)' : 'Close'}
        </Button>
      </DialogButtons>
    </div>
  );
}
