// What peers sent here: their replicas, per peer and share, with the ways to
// get data out of them, and the receive trail of every attempt.

import { useState } from 'preact/hooks';
import type { CopyView, ReplicaView } from '../../../api/views.js';
import { Alert } from '../components/alert.js';
import { Badge } from '../components/badge.js';
import { Button } from '../components/button.js';
import { Card, EmptyState } from '../components/card.js';
import { Loaded } from '../components/loading.js';
import { Table } from '../components/table.js';
import { Time } from '../components/time.js';
import { TrailBrowser } from '../components/trail-browser.js';
import { useApp } from '../context.js';
import { formatBytes } from '../format.js';
import { useLoad, useNow, usePageTitle } from '../hooks.js';
import { CopyDialog, DiscardDialog } from './replica-dialogs.js';
import { RestoreDialog } from '../components/restore-dialog.js';

type Open = { kind: 'promote' | 'clone'; replica: ReplicaView } | { kind: 'discard'; copy: CopyView } | { kind: 'restore' } | null;

export function ReceivePage() {
  const { api, live, applianceName } = useApp();
  usePageTitle('Receive', applianceName);
  // Peers' runs are not in this appliance's event stream: a reload each minute keeps replicas and trail fresh enough.
  const minute = useNow(60_000);
  const replicas = useLoad(() => api.replicas(), [api, live.ended, minute]);
  const peers = useLoad(() => api.peers(), [api]);
  const peerNames = peers.data === undefined ? undefined : new Map(peers.data.map((p) => [p.id, p.name]));
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const done = (text: string) => {
    setOpen(null);
    setNotice(text);
    replicas.reload();
  };
  return (
    <>
      <h1>Receive</h1>
      <p class="lead">Replicas that peers sent to this appliance's pools, and every attempt to send them.</p>
      {notice !== null && <Alert tone="success" title={notice} />}
      <Card title="Replicas" subtitle="Per peer and share; the newest replica is the parent of the peer's next run." flush>
        <Loaded state={replicas} what="the replicas">
          {(list) => (list.length === 0 ? <EmptyState title="No replicas here yet.">Once a peer's task sends a share to a pool of this appliance, its replicas show here.</EmptyState> : <ReplicaList replicas={list} onOpen={setOpen} />)}
        </Loaded>
      </Card>
      <Card
        title="Get a share back"
        subtitle="A share this appliance sent to a peer, restored from the peer's replica as a new writable share here, whether or not a task still sends it. Nothing in place is overwritten."
        actions={
          <Button onClick={() => setOpen({ kind: 'restore' })} disabled={peers.data?.length === 0}>
            Restore a share
          </Button>
        }
      >
        {peers.data?.length === 0 ? <p class="muted">No peer is paired: a restore comes from the peer that holds the replicas.</p> : <p class="muted">The newest replica comes back unless you pick a snapshot; when this appliance still holds that snapshot, nothing travels. The target path must not exist yet.</p>}
      </Card>
      <Card title="Receive trail" subtitle="Every attempt peers made to send here, newest first.">
        <TrailBrowser direction="receive" refreshKey={`${live.ended}:${minute}`} peerNames={peerNames} />
      </Card>
      {open?.kind === 'restore' && peers.data !== undefined && <RestoreDialog defaults={{ share: '', peer: peers.data[0]?.id ?? '', pool: '' }} peers={peers.data} onClose={() => setOpen(null)} />}
      {open !== null && (open.kind === 'promote' || open.kind === 'clone') && <CopyDialog kind={open.kind} replica={open.replica} onClose={() => setOpen(null)} onDone={(copy) => done(`${copy.kind === 'promote' ? 'Promoted' : 'Cloned'} to ${copy.path}.`)} />}
      {open?.kind === 'discard' && <DiscardDialog copy={open.copy} onClose={() => setOpen(null)} onDone={() => done(`Clone at ${open.copy.path} discarded.`)} />}
    </>
  );
}

function ReplicaList(props: { replicas: readonly ReplicaView[]; onOpen: (open: Open) => void }) {
  const now = useNow();
  return (
    <ul class="replicas">
      {props.replicas.map((r) => (
        <ReplicaItem key={`${r.peer}/${r.pool}/${r.share}`} replica={r} now={now} onOpen={props.onOpen} />
      ))}
    </ul>
  );
}

function ReplicaItem(props: { replica: ReplicaView; now: number; onOpen: (open: Open) => void }) {
  const { replica: r, now } = props;
  const newest = r.snapshots.find((s) => s.newest) ?? r.snapshots[r.snapshots.length - 1];
  const total = r.snapshots.reduce((sum, s) => sum + s.bytes, 0);
  const from = r.peerName ?? r.peer;
  return (
    <li class="replica" data-testid={`replica-${r.peerName ?? r.peer}-${r.share}`}>
      <div class="replica-head">
        <h3>
          {r.share} <span class="muted">from {from}</span>
        </h3>
        <div class="action-row">
          <Button small disabled={newest === undefined} onClick={() => props.onOpen({ kind: 'promote', replica: r })}>
            Promote<span class="visually-hidden"> {r.share} from {from}</span>
          </Button>
          <Button small disabled={newest === undefined} onClick={() => props.onOpen({ kind: 'clone', replica: r })}>
            Clone<span class="visually-hidden"> {r.share} from {from}</span>
          </Button>
        </div>
      </div>
      <p class="replica-facts">
        <span>
          pool <strong>{r.pool}</strong>
        </span>
        <span>
          {r.snapshots.length} {r.snapshots.length === 1 ? 'replica' : 'replicas'}, {formatBytes(total)} sent
        </span>
        {newest !== undefined && (
          <span>
            newest <span class="mono">{newest.name}</span>, committed <Time iso={newest.committedAt} now={now} />
          </span>
        )}
        <span class="mono muted">peer {r.peer}</span>
      </p>
      <details class="more">
        <summary>Replicas of {r.share}</summary>
        <Table columns={['Snapshot', 'Committed', { label: 'Bytes', num: true }, 'Path']}>
          {[...r.snapshots].reverse().map((s) => (
            <tr key={s.name}>
              <td data-label="Snapshot" class="mono">
                {s.name} {s.newest && <Badge tone="info">newest</Badge>}
              </td>
              <td data-label="Committed">
                <Time iso={s.committedAt} now={now} />
              </td>
              <td data-label="Bytes" class="num">
                {formatBytes(s.bytes)}
              </td>
              <td data-label="Path" class="mono wrap-any">
                {s.path}
              </td>
            </tr>
          ))}
        </Table>
      </details>
      {r.copies.length > 0 && <Copies copies={r.copies} now={now} onDiscard={(copy) => props.onOpen({ kind: 'discard', copy })} />}
    </li>
  );
}

function Copies(props: { copies: readonly CopyView[]; now: number; onDiscard: (copy: CopyView) => void }) {
  return (
    <div class="copies">
      <h4>Writable copies</h4>
      <ul class="plain-list">
        {props.copies.map((c) => (
          <li key={c.path} class="copy">
            <span>
              <Badge tone={c.kind === 'clone' ? 'info' : 'warn'}>{c.kind}</Badge> <span class="mono wrap-any">{c.path}</span> <span class="muted">of {c.snapshot}, <Time iso={c.createdAt} now={props.now} /></span>
            </span>
            {c.kind === 'clone' && (
              <Button small variant="danger-quiet" onClick={() => props.onDiscard(c)}>
                Discard<span class="visually-hidden"> clone {c.path}</span>
              </Button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
