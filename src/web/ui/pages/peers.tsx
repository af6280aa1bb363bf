// Pairing and peers. Pairing takes an invite made on one appliance and
// accepted on the other; both admins then compare the key fingerprints the
// two pages show, so a swapped key is caught by people, not only by code.
//
// Over 300 lines because the page's parts (make and show an invite, accept
// one, the peer list with its address and removal dialogs) are small
// components that only this page uses.

import { useEffect, useState } from 'preact/hooks';
import { AcceptBody, InviteBody, SetAddressBody } from '../../../api/schemas.js';
import type { InviteView, PeerRemovedView, PeerView, PoolView } from '../../../api/views.js';
import { Alert, ErrorAlert } from '../components/alert.js';
import { Badge } from '../components/badge.js';
import { Button } from '../components/button.js';
import { Card, EmptyState, Facts } from '../components/card.js';
import { ConfirmDialog, Dialog, DialogSubmit } from '../components/dialog.js';
import { SelectField, TextAreaField, TextField } from '../components/fields.js';
import { Loaded } from '../components/loading.js';
import { Table } from '../components/table.js';
import { Time } from '../components/time.js';
import { useApp } from '../context.js';
import { useLoad, useNow, usePageTitle } from '../hooks.js';
import { previewInvite, type InvitePreview } from '../invite.js';
import { useSubmit } from '../submit.js';
import { check } from '../validation.js';

export function PeersPage() {
  const { api, applianceName } = useApp();
  usePageTitle('Peers', applianceName);
  const state = useLoad(async () => {
    const [peers, pools, status] = await Promise.all([api.peers(), api.pools(), api.status()]);
    return { peers, pools, fingerprint: status.fingerprint };
  }, [api]);
  return (
    <>
      <h1>Peers</h1>
      <Loaded state={state} what="the peers">
        {({ peers, pools, fingerprint }) => (
          <>
            <div class="two-columns">
              <MakeInvite pools={pools} />
              <AcceptInvite ownFingerprint={fingerprint} onPaired={state.reload} />
            </div>
            <PeerList peers={peers} onChanged={state.reload} />
          </>
        )}
      </Loaded>
    </>
  );
}

const ttlOptions = [
  ['900', '15 minutes'],
  ['3600', '1 hour'],
  ['86400', '1 day'],
  ['604800', '7 days'],
] as const;

function MakeInvite(props: { pools: readonly PoolView[] }) {
  const { api } = useApp();
  const now = useNow(5_000);
  const [grantPool, setGrantPool] = useState('');
  const [ttl, setTtl] = useState('900');
  const { errors, busy, error, submit: send } = useSubmit();
  const [invite, setInvite] = useState<InviteView | null>(null);

  const submit = (e: Event) => {
    e.preventDefault();
    send(check(InviteBody, { ttlSeconds: Number(ttl), ...(grantPool === '' ? {} : { grantPool }) }), (body) => api.invite(body), setInvite);
  };

  return (
    <Card title="Make invite" subtitle="On the appliance that will receive: one line, valid once, for the other appliance to accept.">
      <form onSubmit={submit} noValidate class="form">
        <div class="form-grid">
          <SelectField label="Grant pool" value={grantPool} onValue={setGrantPool} options={[['', 'No grant'], ...props.pools.map((p) => [p.name, p.name] as const)]} error={errors.grantPool} hint="Grants this pool to whoever accepts." />
          <SelectField label="Valid for" value={ttl} onValue={setTtl} options={ttlOptions} error={errors.ttlSeconds} />
        </div>
        <ErrorAlert error={error} />
        <div class="form-buttons">
          <Button type="submit" variant="primary" busy={busy}>
            Make invite
          </Button>
        </div>
      </form>
      {invite !== null && <InviteShown invite={invite} now={now} />}
    </Card>
  );
}

function InviteShown(props: { invite: InviteView; now: number }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = () => {
    navigator.clipboard.writeText(props.invite.invite).then(
      () => setCopied('Copied.'),
      () => setCopied('The browser refused to copy: select the text and copy it.'),
    );
  };
  const expired = Date.parse(props.invite.expiresAt) <= props.now;
  return (
    <div class="invite" data-testid="invite">
      <TextAreaField label="Invite" value={props.invite.invite} onValue={() => undefined} readOnly rows={4} hint="Paste it into Accept invite on the other appliance." />
      <div class="action-row">
        <Button small onClick={copy}>
          Copy invite
        </Button>
        <span class="muted" role="status">
          {copied}
        </span>
      </div>
      <Facts
        items={[
          ['This appliance\u2019s fingerprint', <span class="mono fingerprint" data-testid="invite-fingerprint">{props.invite.fingerprint}</span>],
          ['Expires', expired ? <Badge tone="bad">expired</Badge> : <Time iso={props.invite.expiresAt} now={props.now} />],
        ]}
      />
      <p class="muted">The other appliance shows this fingerprint when it accepts: both must match.</p>
    </div>
  );
}

function AcceptInvite(props: { ownFingerprint: string; onPaired: () => void }) {
  const { api } = useApp();
  const now = useNow(5_000);
  const [text, setText] = useState('');
  const [preview, setPreview] = useState<InvitePreview | null>(null);
  const { errors, busy, error, submit: send } = useSubmit();
  const [paired, setPaired] = useState<PeerView | null>(null);

  useEffect(() => {
    let current = true;
    previewInvite(text).then(
      (p) => current && setPreview(p),
      () => current && setPreview(null),
    );
    return () => {
      current = false;
    };
  }, [text]);

  const submit = (e: Event) => {
    e.preventDefault();
    send(
      check(AcceptBody, { invite: text.trim() }),
      (body) => api.accept(body.invite),
      (peer) => {
        setPaired(peer);
        setText('');
        props.onPaired();
      },
      (errors) => ({ invite: errors.invite ?? 'Paste the invite made on the other appliance.' }),
    );
  };

  return (
    <Card title="Accept invite" subtitle="On the appliance that will send: paste the invite the other appliance made.">
      <form onSubmit={submit} noValidate class="form">
        <TextAreaField label="Invite" value={text} onValue={setText} error={errors.invite} rows={4} placeholder="ferry-invite-v1:…" required />
        {preview !== null && (
          <div class="preview" data-testid="invite-preview">
            <Facts
              items={[
                ['Peer', `${preview.name} (${preview.applianceId})`],
                ['Address', <span class="mono">{preview.address}</span>],
                ['Peer\u2019s fingerprint', <span class="mono fingerprint">{preview.fingerprint}</span>],
                ['Expires', preview.expiresAt === '' ? '—' : Date.parse(preview.expiresAt) <= now ? <Badge tone="bad">expired: ask for a new invite</Badge> : <Time iso={preview.expiresAt} now={now} />],
              ]}
            />
            <p class="muted">Compare the fingerprint with the one the other appliance shows beside its invite before you accept.</p>
          </div>
        )}
        <ErrorAlert error={error} />
        <div class="form-buttons">
          <Button type="submit" variant="primary" busy={busy}>
            Accept invite
          </Button>
        </div>
      </form>
      {paired !== null && (
        <Alert tone="success" title={`Paired with ${paired.name}.`}>
          <Facts
            items={[
              ['Peer\u2019s fingerprint', <span class="mono fingerprint" data-testid="paired-fingerprint">{paired.fingerprint}</span>],
              ['This appliance\u2019s fingerprint', <span class="mono fingerprint">{props.ownFingerprint}</span>],
            ]}
          />
          The peer's fingerprint must match the one shown on {paired.name}; if it does not, remove the peer at once.
        </Alert>
      )}
    </Card>
  );
}

type Open = { kind: 'address' | 'remove'; peer: PeerView } | null;

function PeerList(props: { peers: readonly PeerView[]; onChanged: () => void }) {
  const now = useNow();
  const [open, setOpen] = useState<Open>(null);
  const [removed, setRemoved] = useState<PeerRemovedView | null>(null);
  return (
    <Card title="Paired peers" subtitle="Appliances this one sends to or receives from." flush>
      {removed !== null && (
        <div class="card-notice">
          <RemovedNotice removed={removed} />
        </div>
      )}
      {props.peers.length === 0 ? (
        <EmptyState title="No peers yet.">Make an invite on one appliance and accept it on the other to pair them.</EmptyState>
      ) : (
        <Table columns={['Peer', 'Address', 'Fingerprint', 'Paired', 'Grants', 'Actions']}>
          {props.peers.map((p) => (
            <tr key={p.id} data-testid={`peer-${p.name}`}>
              <th scope="row" data-label="Peer">
                {p.name}
                <span class="cell-sub mono">{p.id}</span>
              </th>
              <td data-label="Address" class="mono wrap-word">
                {p.address}
              </td>
              <td data-label="Fingerprint" class="mono fingerprint">
                {p.fingerprint}
              </td>
              <td data-label="Paired">
                <Time iso={p.pairedAt} now={now} />
              </td>
              <td data-label="Grants">{p.grants.length === 0 ? <span class="muted">pools without grants only</span> : p.grants.join(', ')}</td>
              <td data-label="Actions" class="row-actions">
                <div class="action-row">
                  <Button small onClick={() => setOpen({ kind: 'address', peer: p })}>
                    Change address<span class="visually-hidden"> of {p.name}</span>
                  </Button>
                  <Button small variant="danger-quiet" onClick={() => setOpen({ kind: 'remove', peer: p })}>
                    Remove<span class="visually-hidden"> peer {p.name}</span>
                  </Button>
                </div>
              </td>
            </tr>
          ))}
        </Table>
      )}
      {open?.kind === 'address' && <AddressDialog peer={open.peer} onClose={() => setOpen(null)} onSaved={props.onChanged} />}
      {open?.kind === 'remove' && (
        <RemovePeerDialog
          peer={open.peer}
          onClose={() => setOpen(null)}
          onRemoved={(view) => {
            setRemoved(view);
            props.onChanged();
          }}
        />
      )}
    </Card>
  );
}

function AddressDialog(props: { peer: PeerView; onClose: () => void; onSaved: () => void }) {
  const { api } = useApp();
  const [address, setAddress] = useState(props.peer.address);
  const form = useSubmit();
  const submit = (e: Event) => {
    e.preventDefault();
    form.submit(
      check(SetAddressBody, { address: address.trim() }),
      (body) => api.setPeerAddress(props.peer.id, body.address),
      () => {
        props.onSaved();
        props.onClose();
      },
    );
  };
  return (
    <Dialog title={`Change the address of ${props.peer.name}`} onClose={props.onClose}>
      <form onSubmit={submit} noValidate class="form">
        <TextField label="Address" value={address} onValue={setAddress} error={form.errors.address} hint="Where this appliance reaches the peer, e.g. nas2.example.net:7700." required autofocus />
        <DialogSubmit label="Save address" form={form} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

/** What became of a removal on both sides: the peer told (it forgot this appliance too), or not reached. */
function RemovedNotice(props: { removed: PeerRemovedView }) {
  const { removed } = props;
  const tasks = removed.tasks.length === 0 ? '' : ` Its tasks here were ${removed.tasks[0]?.action ?? 'paused'}: ${removed.tasks.map((t) => t.name).join(', ')}.`;
  if (removed.told.reached) {
    return (
      <Alert tone="success" title={`Removed ${removed.name}.`}>
        {removed.name} heard of it and removed this appliance too{removed.told.tasksPaused > 0 ? `, pausing its ${removed.told.tasksPaused} task(s) that sent here` : ''}.{tasks}
      </Alert>
    );
  }
  return (
    <Alert tone="warning" title={`Removed ${removed.name} here only.`}>
      {removed.name} could not be told ({removed.told.error ?? 'no answer'}): remove this appliance on {removed.name} too.{tasks}
    </Alert>
  );
}

function RemovePeerDialog(props: { peer: PeerView; onClose: () => void; onRemoved: (removed: PeerRemovedView) => void }) {
  const { api } = useApp();
  const p = props.peer;
  return (
    <ConfirmDialog
      title={`Remove peer ${p.name}?`}
      confirmLabel="Remove peer"
      danger
      onClose={props.onClose}
      onConfirm={async () => {
        props.onRemoved(await api.removePeer(p.id));
      }}
    >
      <p>
        This appliance forgets <strong>{p.name}</strong> (<span class="mono">{p.id}</span>) at once: tasks that send to it are paused (they would only fail), and it can no longer send here{p.grants.length > 0 ? ` (its grants on ${p.grants.join(', ')} go too)` : ''}.
      </p>
      <p>{p.name} is told, and forgets this appliance too (pausing its tasks that send here). Replicas already received from it stay on disk. Pairing again needs a new invite.</p>
    </ConfirmDialog>
  );
}
