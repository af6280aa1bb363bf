// Signing in: one password, set on the appliance with `ferry admin
// password`. The server's refusals (wrong password, too many tries, none set
// yet) show under the form.

import { useState } from 'preact/hooks';
import { ApiError, type FerryApi, type SessionView } from '../api.js';
import { Alert, ErrorAlert } from '../components/alert.js';
import { Button } from '../components/button.js';
import { TextField } from '../components/fields.js';
import { Logo } from '../components/logo.js';
import { usePageTitle } from '../hooks.js';
import { LoginBody } from '../../contract.js';
import { useSubmit } from '../submit.js';
import { check } from '../validation.js';
import type { Session } from '../session.js';

function NoPassword() {
  return (
    <Alert tone="warning" title="No password is set on this appliance yet.">
      Run <code>ferry admin password</code> on the appliance to set one, then sign in here. (NO_PASSWORD)
    </Alert>
  );
}

export function LoginPage(props: { api: FerryApi; session: Session; onSignedIn: (session: SessionView) => void }) {
  usePageTitle('Sign in', null);
  const [password, setPassword] = useState('');
  const { errors, busy, error, submit: send } = useSubmit(props.session.kind === 'out' ? props.session.error : null);
  const noPassword = (error instanceof ApiError && error.code === 'NO_PASSWORD') || (props.session.kind === 'out' && props.session.code === 'NO_PASSWORD' && error === null);

  const submit = (e: Event) => {
    e.preventDefault();
    send(check(LoginBody, { password }), () => props.api.login(password), props.onSignedIn);
  };

  return (
    <main id="main" class="login-page">
      <div class="login-card">
        <p class="brand login-brand">
          <Logo />
          Ferry
        </p>
        <h1>Sign in</h1>
        <p class="muted">Replication between paired appliances. Sign in to manage this one.</p>
        <form onSubmit={submit} noValidate>
          <TextField label="Password" type="password" autocomplete="current-password" value={password} onValue={setPassword} error={errors.password} autofocus required />
          {noPassword ? <NoPassword /> : <ErrorAlert error={error} />}
          <Button type="submit" variant="primary" busy={busy}>
            Sign in
          </Button>
        </form>
      </div>
    </main>
  );
}
