// What every page reaches through context rather than props: the API client
// (it holds the session's CSRF token), the live runs, and the appliance's
// name for page titles. One instance each, made by the app shell.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { FerryApi } from './api.js';
import type { LiveRuns } from './live.js';

export interface AppContextValue {
  readonly api: FerryApi;
  readonly live: LiveRuns;
  readonly applianceName: string | null;
  /** Ends the session here (after the server forgot it) and shows the login page. */
  readonly signOut: () => Promise<void>;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (value === null) throw new Error('useApp outside the app shell');
  return value;
}
