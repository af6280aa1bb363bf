// This appliance: who it is (what peers and admins compare), where it
// listens, where the UI answers and the certificate to expect there, the
// replication service switch, and signing out.

import { useState } from 'preact/hooks';
import type { StatusView } from '../../../api/views.js';
import { ErrorAlert } from '../components/alert.js';
import { Badge } from '../components/badge.js';
import { Button } from '../components/button.js';
import { Card, Facts } from '../components/card.js';
import { ConfirmDialog } from '../components/dialog.js';
import { Loaded } from '../components/loading.js';
import { ThemeSwitch } from '../components/nav.js';
import { useApp } from '../context.js';
import { useLoad, usePageTitle } from '../hooks.js';
import { useActions } from '../submit.js';

export function AppliancePage() {
  const { api, applianceName } = useApp();
  usePageTitle('Appliance', applianceName);
  const state = useLoad(() => api.status(), [api]);
  return (
    <>
      <h1>Appliance</h1>
      <Loaded state={state} what="the appliance">
        {(s) => (
          <>
            <Card title="Identity" subtitle="Peers know this appliance by its id and trust it by its keys: compare the fingerprint when pairing.">
              <Facts
                items={[
                  ['Name', s.name],
                  ['Id', <span class="mono">{s.id}</span>],
                  ['Fingerprint', <span class="mono fingerprint">{s.fingerprint}</span>],
                ]}
              />
            </Card>
            <Card title="Addresses">
              <Facts
                items={[
                  ['Peer listener', <span class="mono">{s.listen}</span>],
                  ['Advertised to peers', <span class="mono">{s.advertise}</span>],
                  ['Admin API', <span class="mono">{s.admin}</span>],
                  ['Web UI on this machine', s.ui.local === null ? <span class="muted">off</span> : <span class="mono">{s.ui.local}</span>],
                  ['Web UI on the LAN', s.ui.lan === null ? <span class="muted">off</span> : <span class="mono">{s.ui.lan}</span>],
                  ['LAN certificate (SHA-256)', s.ui.tlsFingerprint === null ? <span class="muted">none</span> : <span class="mono fingerprint wrap-any">{s.ui.tlsFingerprint}</span>],
                  ['Login password', s.ui.passwordSet ? 'set' : <span>not set: run <code>ferry admin password</code></span>],
                ]}
              />
              {s.ui.tlsFingerprint !== null && <p class="muted">Before trusting the LAN address in a browser, compare the certificate's SHA-256 fingerprint the browser shows with the one above.</p>}
            </Card>
            <ServiceCard status={s} onChanged={state.reload} />
            <SessionCard />
          </>
        )}
      </Loaded>
    </>
  );
}

function ServiceCard(props: { status: StatusView; onChanged: () => void }) {
  const { api } = useApp();
  const on = props.status.service === 'enabled';
  const [confirming, setConfirming] = useState(false);
  const { busy, error, act } = useActions();
  const turnOn = () => act('on', () => api.setService(true), props.onChanged);
  return (
    <Card
      title="Replication service"
      subtitle="When it is off, no scheduled run starts here and peers cannot send to this appliance."
      actions={
        on ? (
          <Button variant="danger-quiet" onClick={() => setConfirming(true)}>
            Turn service off
          </Button>
        ) : (
          <Button variant="primary" busy={busy === 'on'} onClick={turnOn}>
            Turn service on
          </Button>
        )
      }
    >
      <p>
        The service is {on ? <Badge tone="ok">on</Badge> : <Badge tone="warn">off</Badge>}
        {props.status.transfers.length > 0 && `, with ${props.status.transfers.length} ${props.status.transfers.length === 1 ? 'transfer' : 'transfers'} under way`}.
      </p>
      <ErrorAlert error={error} />
      {confirming && (
        <ConfirmDialog
          title="Turn the replication service off?"
          confirmLabel="Turn service off"
          danger
          onClose={() => setConfirming(false)}
          onConfirm={async () => {
            await api.setService(false);
            props.onChanged();
          }}
        >
          <p>No scheduled run of any task starts until you turn it on again, and peers' transfers to this appliance are refused (SERVICE_DISABLED).</p>
          <p>Slots missed meanwhile collapse into one run per task when it is on again. Tasks, snapshots and replicas stay as they are.</p>
        </ConfirmDialog>
      )}
    </Card>
  );
}

function SessionCard() {
  const { signOut } = useApp();
  const [busy, setBusy] = useState(false);
  return (
    <Card title="This browser" subtitle="The theme is kept in this browser.">
      <div class="action-row">
        <ThemeSwitch />
        <Button
          busy={busy}
          onClick={() => {
            setBusy(true);
            void signOut();
          }}
        >
          Sign out
        </Button>
      </div>
    </Card>
  );
}
