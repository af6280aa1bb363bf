// HOST:PORT as the CLI takes it, and the forms servers and peers need.

export function splitHostPort(hostPort: string): { host: string; port: number } {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(hostPort.slice(i + 1)) };
}

/** The peer API base URL that peers store for us (proto's `address`). */
export function peerUrl(hostPort: string): string {
  return `http://${hostPort}`;
}

/** HOST:PORT back from a peer URL, for display. */
export function hostPortOf(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

const WILDCARDS = new Set(['', '0.0.0.0', '::']);

/**
 * Whether two listeners' HOST:PORT would take the same socket: the same
 * port (not 0, which the system chooses) on the same host, or on a host and
 * a wildcard that covers it. A unix socket (`unix:/path`) clashes only with itself.
 */
export function addressesClash(a: string, b: string): boolean {
  if (a.startsWith('unix:') || b.startsWith('unix:')) return a === b;
  const x = splitHostPort(a);
  const y = splitHostPort(b);
  if (x.port === 0 || x.port !== y.port) return false;
  return x.host === y.host || WILDCARDS.has(x.host) || WILDCARDS.has(y.host);
}
