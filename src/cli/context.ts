// What every command that talks to the daemon needs: the state dir, and a
// client for the admin API made from the config and token stored there.

import { AdminClient } from '../api/client.js';
import { StateDir, defaultStateDir } from '../state/state-dir.js';
import { FerryError } from '../domain/errors.js';

export interface GlobalOptions {
  state?: string;
}

export function stateDirOf(options: GlobalOptions): StateDir {
  return new StateDir(options.state ?? defaultStateDir());
}

export async function adminClient(options: GlobalOptions): Promise<AdminClient> {
  const state = stateDirOf(options);
  const config = await state.readConfig();
  let token: string;
  try {
    token = await state.readToken();
  } catch {
    throw new FerryError('NOT_FOUND', `cannot read the admin token in ${state.root} (are you root?)`);
  }
  return new AdminClient({ address: config.admin, token });
}
