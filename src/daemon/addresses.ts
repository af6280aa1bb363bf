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
