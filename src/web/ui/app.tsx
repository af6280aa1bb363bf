// The app shell: checks the session, shows the login page when there is
// none (and returns to where the admin was after it), and otherwise the top
// bar, the live event stream and the page of the current address.

import { LocationProvider, Route, Router, useLocation } from 'preact-iso/router';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, FerryApi } from './api.js';
import { Loading } from './components/loading.js';
import { TopBar } from './components/nav.js';
import { AppContext, type AppContextValue } from './context.js';
import { useLiveRuns } from './live.js';
import { AppliancePage } from './pages/appliance.js';
import { DashboardPage } from './pages/dashboard.js';
import { LoginPage } from './pages/login.js';
import { NotFoundPage } from './pages/not-found.js';
import { PeersPage } from './pages/peers.js';
import { PoolsPage } from './pages/pools.js';
import { ReceivePage } from './pages/receive.js';
import { SendTrailPage } from './pages/send-trail.js';
import { TasksPage } from './pages/tasks.js';
import { loginPath, safeNext, type Session } from './session.js';

export function App() {
  return (
    <LocationProvider>
      <Root />
    </LocationProvider>
  );
}

function Root() {
  const location = useLocation();
  const [session, setSession] = useState<Session>({ kind: 'checking' });
  const api = useMemo(() => new FerryApi((code) => setSession({ kind: 'out', code, error: null })), []);

  const checkSession = useCallback(() => {
    api.session().then(
      (s) => {
        api.csrf = s.csrf;
        setSession({ kind: 'in', expiresAt: s.expiresAt });
      },
      (error: unknown) => setSession({ kind: 'out', code: error instanceof ApiError ? error.code : 'UNREACHABLE', error: error instanceof ApiError && error.status === 401 ? null : error }),
    );
  }, [api]);
  useEffect(checkSession, [checkSession]);

  const { path, url, query, route } = location;
  useEffect(() => {
    if (session.kind === 'out' && path !== '/login') route(loginPath(url), true);
    if (session.kind === 'in' && path === '/login') route(safeNext(query.next), true);
  }, [session.kind, path, url, query.next, route]);

  if (session.kind === 'checking') {
    return (
      <main id="main" class="center-page">
        <Loading what="Ferry" />
      </main>
    );
  }
  if (session.kind === 'out' || path === '/login') {
    return (
      <LoginPage
        api={api}
        session={session}
        onSignedIn={(s) => {
          api.csrf = s.csrf;
          setSession({ kind: 'in', expiresAt: s.expiresAt });
        }}
      />
    );
  }
  return (
    <Shell
      api={api}
      checkSession={checkSession}
      onSignedOut={() => {
        api.csrf = null;
        setSession({ kind: 'out', code: 'LOGIN_REQUIRED', error: null });
      }}
    />
  );
}

function Shell(props: { api: FerryApi; checkSession: () => void; onSignedOut: () => void }) {
  const { api, checkSession, onSignedOut } = props;
  const live = useLiveRuns(true, checkSession);
  const [applianceName, setApplianceName] = useState<string | null>(null);
  useEffect(() => {
    api.status().then(
      (s) => setApplianceName(s.name),
      () => undefined,
    );
  }, [api]);

  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      onSignedOut();
    }
  }, [api, onSignedOut]);

  const context: AppContextValue = useMemo(() => ({ api, live, applianceName, signOut }), [api, live, applianceName, signOut]);

  // After a move to another page (not at the first load), focus goes to the content, as a full page load would put it at the top.
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const onRouteChange = useCallback(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, []);

  return (
    <AppContext.Provider value={context}>
      <TopBar applianceName={applianceName} connected={live.connected} />
      <main id="main" ref={main} tabIndex={-1} class="page">
        <Router onRouteChange={onRouteChange}>
          <Route path="/" component={DashboardPage} />
          <Route path="/tasks" component={TasksPage} />
          <Route path="/tasks/:name" component={SendTrailPage} />
          <Route path="/receive" component={ReceivePage} />
          <Route path="/peers" component={PeersPage} />
          <Route path="/pools" component={PoolsPage} />
          <Route path="/appliance" component={AppliancePage} />
          <Route default component={NotFoundPage} />
        </Router>
      </main>
    </AppContext.Provider>
  );
}
