// Pools this appliance offers to its peers: health, who may write (grants),
// and the receiving admin's floor and quota, which win over what a sender
// asks. One card per pool.
//
// Over 300 lines because a pool's card (health, grants, the policy form, the
// add dialog) is made of small components that only this page uses.

import { useState } from 'preact/hooks';
import { PolicyBody, PoolAddBody } from '../../../api/schemas.js';
import type { PeerView, PolicyView, PoolView } from '../../../api/views.js';
import { parseSize } from '../../../domain/sizes.js';
import { Alert, ErrorAlert } from '../components/alert.js';
import { Button } from '../components/button.js';
import { Card, EmptyState, Facts } from '../components/card.js';
import { ConfirmDialog, Dialog, DialogSubmit } from '../components/dialog.js';
import { SelectField, TextField } from '../components/fields.js';
import { Findings, HealthBadge } from '../components/health.js';
import { Loaded } from '../components/loading.js';
import { Time } from '../components/time.js';
import { useApp } from '../context.js';
import { formatBytes } from '../format.js';
import { useLoad, useNow, usePageTitle } from '../hooks.js';
import { useActions, useSubmit } from '../submit.js';
import { check, wholeNumber } from '../validation.js';

export function PoolsPage() {
  const { api, applianceName } = useApp();
  usePageTitle('Pools', applianceName);
  const state = useLoad(async () => {
    const [pools, peers] = await Promise.all([api.pools(), api.peers()]);
    return { pools, peers };
  }, [api]);
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <>
      <h1>Pools</h1>
      <p class="lead">
        A pool is a btrfs mount where peers may send replicas, each peer in its own directory. A pool without grants takes every paired peer; with grants, only those. The floor, quota and transfers at once set here win over what a sender asks.
      </p>
      {notice !== null && <Alert tone="success" title={notice} />}
      {/* With no pool yet, the empty card below offers the one Add pool. */}
      {state.data?.pools.length !== 0 && (
        <div class="page-actions">
          <Button variant="primary" onClick={() => setAdding(true)}>
            Add pool
          </Button>
        </div>
      )}
      <Loaded state={state} what="the pools">
        {({ pools, peers }) =>
          pools.length === 0 ? (
            <Card title="Pools of this appliance">
              <EmptyState title="No pools yet." action={<Button variant="primary" onClick={() => setAdding(true)}>Add pool</Button>}>
                Add one where peers may send their replicas. This appliance can send its own shares without one.
              </EmptyState>
            </Card>
          ) : (
            pools.map((pool) => (
              <PoolCard
                key={pool.name}
                pool={pool}
                peers={peers}
                onChanged={state.reload}
                onRemoved={() => {
                  setNotice(`Pool ${pool.name} removed. Its replicas stay on disk at ${pool.path}.`);
                  state.reload();
                }}
              />
            ))
          )
        }
      </Loaded>
      {adding && (
        <AddPoolDialog
          onClose={() => setAdding(false)}
          onAdded={(pool) => {
            setAdding(false);
            setNotice(`Pool ${pool.name} added.`);
            state.reload();
          }}
        />
      )}
    </>
  );
}

function PoolCard(props: { pool: PoolView; peers: readonly PeerView[]; onChanged: () => void; onRemoved: () => void }) {
  const { api } = useApp();
  const { pool } = props;
  const now = useNow();
  const [removing, setRemoving] = useState(false);
  return (
    <Card
      title={`Pool ${pool.name}`}
      subtitle={<span class="mono">{pool.path}</span>}
      testId={`pool-${pool.name}`}
      actions={
        <Button small variant="danger-quiet" onClick={() => setRemoving(true)}>
          Remove<span class="visually-hidden"> pool {pool.name}</span>
        </Button>
      }
    >
      <div class="pool-grid">
        <section aria-label={`Health of ${pool.name}`}>
          <h3>Health</h3>
          <p>
            <HealthBadge health={pool.health} /> {pool.health !== null && <span class="muted">checked <Time iso={pool.health.checkedAt} now={now} /></span>}
          </p>
          {pool.health?.space && (
            <p>
              {formatBytes(pool.health.space.freeBytes)} free of {formatBytes(pool.health.space.sizeBytes)}{' '}
              <span class="muted">({Math.round((100 * pool.health.space.freeBytes) / Math.max(1, pool.health.space.sizeBytes))}% free)</span>
            </p>
          )}
          <Findings health={pool.health} />
          <p class="muted pool-added">
            Added <Time iso={pool.createdAt} now={now} />
          </p>
        </section>
        <Grants pool={pool} peers={props.peers} onChanged={props.onChanged} />
        <PolicyForm pool={pool} peers={props.peers} onChanged={props.onChanged} />
      </div>
      {removing && (
        <ConfirmDialog
          title={`Remove pool ${pool.name}?`}
          confirmLabel="Remove pool"
          danger
          onClose={() => setRemoving(false)}
          onConfirm={async () => {
            await api.removePool(pool.name);
            props.onRemoved();
          }}
        >
          <p>
            Peers can no longer send to <strong>{pool.name}</strong>, and its grants and policy are forgotten.
          </p>
          <p>
            The replicas on it stay on disk at <span class="mono">{pool.path}</span>; adding the pool again at the same path takes them up again.
          </p>
        </ConfirmDialog>
      )}
    </Card>
  );
}

function Grants(props: { pool: PoolView; peers: readonly PeerView[]; onChanged: () => void }) {
  const { api } = useApp();
  const { pool } = props;
  const ungranted = props.peers.filter((p) => !pool.grants.some((g) => g.id === p.id));
  const [peer, setPeer] = useState('');
  const { busy, error, act: run } = useActions();
  const chosen = peer !== '' && ungranted.some((p) => p.id === peer) ? peer : (ungranted[0]?.id ?? '');
  const act = (what: string, call: () => Promise<unknown>) => run(what, call, props.onChanged);
  return (
    <section aria-label={`Grants of ${pool.name}`}>
      <h3>Grants</h3>
      {pool.grants.length === 0 ? (
        <p class="muted">No grants: every paired peer may send here, each in its own directory.</p>
      ) : (
        <ul class="plain-list grants">
          {pool.grants.map((g) => (
            <li key={g.id}>
              <span>
                {g.name ?? g.id} <span class="mono muted">{g.id}</span>
              </span>
              <Button small busy={busy === g.id} onClick={() => act(g.id, () => api.revoke(pool.name, g.id))}>
                Revoke<span class="visually-hidden"> {g.name ?? g.id}</span>
              </Button>
            </li>
          ))}
        </ul>
      )}
      {ungranted.length === 0 ? (
        <p class="muted">{props.peers.length === 0 ? 'Pair a peer to grant it this pool.' : 'Every paired peer is granted.'}</p>
      ) : (
        <div class="inline-form">
          <SelectField label="Peer to grant" value={chosen} onValue={setPeer} options={ungranted.map((p) => [p.id, p.name] as const)} />
          <Button small busy={busy === 'grant'} onClick={() => act('grant', () => api.grant(pool.name, chosen))}>
            Grant
          </Button>
        </div>
      )}
      <ErrorAlert error={error} />
    </section>
  );
}

const sizeUnits = [
  ['P', 1024 ** 5],
  ['T', 1024 ** 4],
  ['G', 1024 ** 3],
  ['M', 1024 ** 2],
  ['K', 1024],
] as const;

/** A field's text for a stored policy value; a size in the largest unit that divides it, so saving it again changes nothing. */
function shown(n: number | null, size = false): string {
  if (n === null) return '';
  if (size && n > 0) for (const [unit, bytes] of sizeUnits) if (n % bytes === 0) return `${n / bytes}${unit}`;
  return String(n);
}

function policyOf(pool: PoolView, peer: string): PolicyView {
  if (peer === '') return pool.policy;
  const own = pool.peerPolicies.find((p) => p.peer === peer);
  return own ?? { keepAtLeast: null, keepDays: null, quotaBytes: null, maxTransfers: null };
}

function quotaOf(text: string): number | null {
  if (text.trim() === '') return null;
  try {
    return parseSize(text);
  } catch {
    return Number.NaN;
  }
}

function PolicyForm(props: { pool: PoolView; peers: readonly PeerView[]; onChanged: () => void }) {
  const { api } = useApp();
  const { pool } = props;
  const [peer, setPeer] = useState('');
  const initial = policyOf(pool, peer);
  const [keepAtLeast, setKeepAtLeast] = useState(shown(initial.keepAtLeast));
  const [keepDays, setKeepDays] = useState(shown(initial.keepDays));
  const [quota, setQuota] = useState(shown(initial.quotaBytes, true));
  const [maxTransfers, setMaxTransfers] = useState(shown(initial.maxTransfers));
  const { errors, setErrors, busy, error, submit: send } = useSubmit();
  const [saved, setSaved] = useState(false);

  const choosePeer = (id: string) => {
    setPeer(id);
    const p = policyOf(pool, id);
    setKeepAtLeast(shown(p.keepAtLeast));
    setKeepDays(shown(p.keepDays));
    setQuota(shown(p.quotaBytes, true));
    setMaxTransfers(shown(p.maxTransfers));
    setErrors({});
    setSaved(false);
  };

  const submit = (e: Event) => {
    e.preventDefault();
    // An empty field clears the setting (null), as `--keep-at-least none` does.
    const body = { ...(peer === '' ? {} : { peer }), keepAtLeast: wholeNumber(keepAtLeast) ?? null, keepDays: wholeNumber(keepDays) ?? null, quotaBytes: quotaOf(quota), maxTransfers: wholeNumber(maxTransfers) ?? null };
    send(
      check(PolicyBody, body),
      (policy) => {
        setSaved(false);
        return api.setPolicy(pool.name, policy);
      },
      () => {
        setSaved(true);
        props.onChanged();
      },
      (errors) => (Number.isNaN(body.quotaBytes) ? { ...errors, quotaBytes: 'A size is a number with an optional unit K, M, G, T or P (binary), such as 500G or 1.5T.' } : errors),
    );
  };

  return (
    <section aria-label={`Policy of ${pool.name}: retention floor, quota, transfers at once`}>
      <h3>Retention floor, quota, transfers</h3>
      <form onSubmit={submit} noValidate class="form">
        <SelectField label="Applies to" value={peer} onValue={choosePeer} options={[['', 'the whole pool'], ...props.peers.map((p) => [p.id, `peer ${p.name} only`] as const)]} />
        <div class="form-grid">
          <TextField label="Keep at least (replicas)" inputMode="numeric" value={keepAtLeast} onValue={setKeepAtLeast} error={errors.keepAtLeast} hint="Empty: no floor." />
          <TextField label="Keep everything of the last (days)" inputMode="numeric" value={keepDays} onValue={setKeepDays} error={errors.keepDays} hint="Empty: no age floor." />
          <TextField label="Quota per peer" value={quota} onValue={setQuota} error={errors.quotaBytes} hint="Such as 500G or 2T; empty: none." />
          <TextField label="Transfers at once per peer" inputMode="numeric" value={maxTransfers} onValue={setMaxTransfers} error={errors.maxTransfers} hint="1 to 64; empty: 4." />
        </div>
        <ErrorAlert error={error} />
        <div class="form-buttons">
          <Button type="submit" busy={busy}>
            Save policy
          </Button>
          {saved && (
            <span class="muted" role="status">
              Saved.
            </span>
          )}
        </div>
      </form>
      {pool.peerPolicies.length > 0 && (
        <Facts
          items={pool.peerPolicies.map((p) => [
            `Peer ${p.peerName ?? p.peer}`,
            [p.keepAtLeast === null ? null : `at least ${p.keepAtLeast}`, p.keepDays === null ? null : `${p.keepDays} days`, p.quotaBytes === null ? null : `quota ${formatBytes(p.quotaBytes)}`, p.maxTransfers === null ? null : `${p.maxTransfers} at once`].filter((x) => x !== null).join(', ') || 'pool defaults',
          ])}
        />
      )}
    </section>
  );
}

function AddPoolDialog(props: { onClose: () => void; onAdded: (pool: PoolView) => void }) {
  const { api } = useApp();
  const [name, setName] = useState('');
  const [path, setPath] = useState('');
  const form = useSubmit();
  const { errors } = form;
  const submit = (e: Event) => {
    e.preventDefault();
    form.submit(check(PoolAddBody, { name, path }), (body) => api.addPool(body), props.onAdded);
  };
  return (
    <Dialog title="Add pool" onClose={props.onClose}>
      <form onSubmit={submit} noValidate class="form">
        <TextField label="Pool name" value={name} onValue={setName} error={errors.name} hint="Senders name the pool by it in their tasks." required autofocus />
        <TextField label="Path" value={path} onValue={setPath} error={errors.path} hint="A btrfs mount on this appliance, e.g. /mnt/pool2." placeholder="/mnt/pool2" required />
        <DialogSubmit label="Add pool" form={form} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
