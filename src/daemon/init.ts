// `ferry init`: a new appliance in a state dir: identity keys, admin token,
// config and an empty database. Refuses to overwrite an existing appliance:
// its keys are what its peers trust.

import { randomBytes } from 'node:crypto';
import { applianceId, fingerprint, generateIdentity, publicIdentity, serializeIdentity } from '../crypto/index.js';
import { FerryError } from '../domain/errors.js';
import { validatePeerName } from '../domain/names.js';
import { openStore } from '../store/index.js';
import { addressesClash, splitHostPort } from './addresses.js';
import type { StateDir } from '../state/state-dir.js';
import { ensureSelfSigned, loadTls } from '../state/ui-tls.js';
import { adminSocketPath, configSchema, isLoopbackHost, writeSecret, type Config } from '../state/state-dir.js';

/** True when the admin address is neither a unix socket nor on loopback. */
export function adminExposure(admin: string): boolean {
  return adminSocketPath(admin) === null && !isLoopbackHost(splitHostPort(admin).host);
}

export interface InitOptions {
  readonly name: string;
  readonly listen: string;
  readonly admin?: string | undefined;
  readonly advertise?: string | undefined;
  /** Lets --admin name an address other machines reach. */
  readonly adminBeyondLoopback?: boolean | undefined;
  /** The web UI's TLS listener for the LAN. */
  readonly ui?: string | undefined;
}

export async function initAppliance(state: StateDir, options: InitOptions): Promise<{ id: string; fingerprint: string; config: Config; uiFingerprint: string }> {
  if (await state.exists()) {
    throw new FerryError('ALREADY_EXISTS', `${state.root} already holds an appliance; pick another --state DIR`);
  }
  validatePeerName(options.name);
  const listen = splitHostPort(options.listen);
  const parsed = configSchema.safeParse({
    version: 1,
    name: options.name,
    listen: options.listen,
    // The admin API defaults to loopback, next to the peer port (or a port of its own choosing too).
    admin: options.admin ?? `127.0.0.1:${listen.port === 0 ? 0 : listen.port + 1}`,
    advertise: options.advertise ?? options.listen,
    ...(options.ui === undefined ? {} : { ui: { listen: options.ui } }),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FerryError('INVALID_INPUT', `--${String(issue?.path[0] ?? 'config')}: ${issue?.message ?? 'invalid'}`);
  }
  const listeners: [string, string][] = [
    ['--listen', parsed.data.listen],
    ['--admin', parsed.data.admin],
    ...(parsed.data.ui ? [['--ui', parsed.data.ui.listen] as [string, string]] : []),
  ];
  for (const [i, [flag, address]] of listeners.entries()) {
    const clash = listeners.slice(0, i).find(([, other]) => addressesClash(address, other));
    if (clash) {
      throw new FerryError('INVALID_INPUT', `${flag} ${address} takes the same port as ${clash[0]} ${clash[1]}: give each listener a port of its own (or 0, for one the system chooses)`);
    }
  }
  const exposed = adminExposure(parsed.data.admin);
  if (exposed && !options.adminBeyondLoopback) {
    throw new FerryError('INVALID_INPUT', `--admin ${parsed.data.admin} is reachable from other machines: the admin API can do anything to the pools; keep it on 127.0.0.1 or a unix socket, or pass --admin-beyond-loopback if you mean it`);
  }
  if (exposed) parsed.data.adminBeyondLoopback = true;
  await state.create();
  const identity = generateIdentity();
  await writeSecret(state.identityPath, serializeIdentity(identity));
  await state.writeNewToken(randomBytes);
  openStore(state.databasePath).close();
  // Made now, so that its fingerprint is known before anyone opens the page (ferry status shows it).
  const tls = await loadTls(await ensureSelfSigned(state.root, options.name));
  // The config goes last: its presence is what marks the state dir as initialised.
  await state.writeConfig(parsed.data);
  return { id: applianceId(identity.signing.publicKey), fingerprint: fingerprint(publicIdentity(identity)), config: parsed.data, uiFingerprint: tls.fingerprint };
}
