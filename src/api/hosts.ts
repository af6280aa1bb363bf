// The names the admin and UI listeners answer to. A browser sends the name it
// looked up in Host; a page of another site that made its own name resolve
// to this appliance (DNS rebinding) sends its own name, and is refused with
// 421 before any route runs. Sessions check a change's Origin against the
// same list, not against the request's own Host.

export interface HostAllowlist {
  /** True when a request naming `host` (a Host header, or the authority of an absolute-form target) is for this listener. */
  allows(host: string | undefined): boolean;
  /** What this listener answers to, for the refusal's message. */
  readonly names: readonly string[];
}

/**
 * A Host value's name without its port, lowercased, without IPv6 brackets and
 * a final dot; null when malformed. A bare IPv6 address (two colons or more,
 * as configured names and os.networkInterfaces give them) is taken whole: a
 * Host header brackets one before its port.
 */
export function hostName(host: string): string | null {
  const h = host.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (bracketed) return bracketed[1] as string;
  if (/^[0-9a-f:.]+$/.test(h) && h.split(':').length > 2) return h;
  const plain = /^([a-z0-9.-]+|[0-9a-f:]+)$/.exec(h.replace(/:\d{1,5}$/, ''));
  if (!plain) return null;
  return (plain[1] as string).replace(/\.$/, '');
}

/** Loopback names and addresses: no other machine reaches them, and no public name resolves to them in a browser that honours RFC 6761. */
function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

/**
 * A listener's allowlist: loopback always, plus `names` (its configured
 * address, the names and addresses an admin reaches it by). `any`: a unix
 * socket, which no browser page can reach, so every Host is fine.
 */
export function hostAllowlist(names: readonly string[], options: { any?: boolean } = {}): HostAllowlist {
  const known = new Set(names.map((n) => hostName(n)).filter((n): n is string => n !== null));
  return {
    names: ['localhost', '127.0.0.1', '::1', ...[...known].filter((n) => !isLoopbackName(n))],
    allows(host) {
      if (options.any) return true;
      if (host === undefined) return false;
      const name = hostName(host);
      return name !== null && (isLoopbackName(name) || known.has(name));
    },
  };
}
