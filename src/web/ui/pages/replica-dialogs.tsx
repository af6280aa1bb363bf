// What can be done with a replica held here: promote it (the source is gone:
// a writable share for failover), clone it (a scratch copy to test a
// failover), and discard a clone. Each makes a writable snapshot beside the
// replica; the replica itself stays read-only, so replication into its
// chain goes on (making a received subvolume writable would break it).

import { useState } from 'preact/hooks';
import { CopyBody } from '../../../api/schemas.js';
import type { CopyView, ReplicaView } from '../../../api/views.js';
import { ConfirmDialog, Dialog, DialogSubmit } from '../components/dialog.js';
import { SelectField, TextField } from '../components/fields.js';
import { useApp } from '../context.js';
import { useSubmit } from '../submit.js';
import { check } from '../validation.js';

const words = {
  promote: {
    title: 'Promote',
    what: 'Makes a writable share from a replica, for failover: use it when the source appliance is gone. The replica stays read-only and replication from the peer goes on undisturbed.',
    button: 'Promote',
  },
  clone: {
    title: 'Clone',
    what: 'Makes a scratch writable copy of a replica, to test a failover. It touches nothing else; discard it when the test is done.',
    button: 'Clone',
  },
} as const;

export function CopyDialog(props: { kind: 'promote' | 'clone'; replica: ReplicaView; onClose: () => void; onDone: (copy: CopyView) => void }) {
  const { api } = useApp();
  const r = props.replica;
  const newest = r.snapshots.find((s) => s.newest) ?? r.snapshots[r.snapshots.length - 1];
  const [snapshot, setSnapshot] = useState(newest?.name ?? '');
  const [to, setTo] = useState('');
  const form = useSubmit();
  const { errors } = form;
  const w = words[props.kind];
  const from = r.peerName ?? r.peer;

  const submit = (e: Event) => {
    e.preventDefault();
    form.submit(check(CopyBody, { kind: props.kind, share: r.share, peer: r.peer, pool: r.pool, ...(snapshot === '' ? {} : { snapshot }), to }), (body) => api.copyReplica(body), props.onDone);
  };

  return (
    <Dialog title={`${w.title} ${r.share} from ${from}`} onClose={props.onClose} wide>
      <form onSubmit={submit} noValidate class="form">
        <p class="dialog-body">{w.what}</p>
        <div class="form-grid">
          <SelectField
            label="Replica"
            value={snapshot}
            onValue={setSnapshot}
            options={[...r.snapshots].reverse().map((s) => [s.name, s.newest ? `${s.name} (newest)` : s.name] as const)}
            error={errors.snapshot}
            wide
          />
          <TextField label="Target path" value={to} onValue={setTo} error={errors.to} hint="A path that does not exist yet, on the pool's filesystem." placeholder={`/mnt/${r.pool}/${r.share}-${props.kind === 'promote' ? 'live' : 'test'}`} required wide autofocus />
        </div>
        <DialogSubmit label={w.button} form={form} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

export function DiscardDialog(props: { copy: CopyView; onClose: () => void; onDone: () => void }) {
  const { api } = useApp();
  return (
    <ConfirmDialog
      title="Discard this clone?"
      confirmLabel="Discard clone"
      danger
      onClose={props.onClose}
      onConfirm={async () => {
        await api.discardClone(props.copy.path);
        props.onDone();
      }}
    >
      <p>
        Deletes the clone at <span class="mono">{props.copy.path}</span> and everything written to it since it was made.
      </p>
      <p>
        The replica it was made from (<span class="mono">{props.copy.snapshot}</span>) stays, and so does the rest of the chain.
      </p>
    </ConfirmDialog>
  );
}
