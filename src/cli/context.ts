// What every command that talks to the daemon needs: the state dir, and a
// client for the admin API made from the config and token stored there.

import { AdminClient } from '../api/client.js';
import { DaemonUnreachable } from '../api/client-errors.js';
import { StateDir, choosesPort, defaultStateDir } from '../state/state-dir.js';

export interface GlobalOptions {
  state?: string;
}

export function stateDirOf(options: GlobalOptions): StateDir {
  return new StateDir(options.state ?? defaultStateDir());
}

export function adminClient(options: GlobalOptions): AdminClient {
  const state = stateDirOf(options);
  const config = state.readConfig();
  const token = state.readToken();
  // Port 0: the daemon chose its port at start and wrote where in bound.json.
  const admin = choosesPort(config.admin) ? (state.readBound()?.admin ?? null) : config.admin;
  if (admin === null) throw new DaemonUnreachable(config.admin, new Error(`no ${state.boundPath}: the daemon chooses its admin port when it starts`));
  return new AdminClient({ address: admin, token });
}
