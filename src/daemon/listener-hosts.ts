// The names each admin-side listener answers to (api/hosts.ts decides with
// them): the admin listener its loopback address or unix socket, the UI's
// TLS listener its own address, the names the admin configured, and, when it
// listens on every address, this machine's addresses and host name.

import os from 'node:os';
import { hostAllowlist, type HostAllowlist } from '../api/hosts.js';
import { adminSocketPath, type Config } from '../state/state-dir.js';
import { splitHostPort } from './addresses.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** This machine's addresses and host name: what a browser on the LAN may name it by when it listens on all. */
function machineNames(): string[] {
  const addresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a !== undefined)
    .map((a) => a.address);
  const host = os.hostname();
  return [...addresses, host, `${host}.local`];
}

function namesFor(hostPort: string, extra: readonly string[] = []): string[] {
  const { host } = splitHostPort(hostPort);
  return [...(WILDCARDS.has(host) ? machineNames() : [host]), ...extra];
}

export function adminHosts(config: Config): HostAllowlist {
  // A unix socket: no browser page reaches it, whatever name it sends.
  if (adminSocketPath(config.admin) !== null) return hostAllowlist([], { any: true });
  return hostAllowlist(namesFor(config.admin));
}

export function uiHosts(config: Config): HostAllowlist {
  return hostAllowlist(config.ui ? namesFor(config.ui.listen, config.ui.hosts) : []);
}
