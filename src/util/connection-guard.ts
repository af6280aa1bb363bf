// Budgets for a listener's connections, so that strangers cannot take the
// descriptors a paired peer or the admin needs. A connection is untrusted
// from accept until a request on it proves who sent it (a peer's signature,
// the admin token, a web UI session); until then it may live only so long
// (covering its headers, a body read before its sender is known, a TLS
// handshake, a slow reader of a refusal), and only so many may be held per
// address and in total. Over a cap, the oldest untrusted connection of that
// address yields, or over the total, the oldest of the address holding the
// most: a newcomer from elsewhere (a peer, the admin) always gets in, and a
// flood from one address costs only that address.

import type net from 'node:net';

export interface UntrustedBudget {
  /** An untrusted connection is cut this long after it was accepted. */
  readonly lifetimeMs: number;
  /** Untrusted connections held at once from one address (an IPv6 /64 counts as one). */
  readonly perAddress: number;
  /** Untrusted connections held at once on the listener. */
  readonly total: number;
}

export type CutReason = 'lifetime' | 'per-address' | 'total';

interface Entry {
  readonly socket: net.Socket;
  readonly address: string;
  readonly acceptedAt: number;
}

/** The address a budget counts by: IPv4 as is (also when mapped into IPv6), IPv6 by its /64. */
export function budgetAddress(remote: string | undefined): string {
  if (remote === undefined || remote === '') return 'local';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (mapped) return mapped[1] as string;
  if (!remote.includes(':')) return remote;
  return ipv6Prefix64(remote);
}

function ipv6Prefix64(address: string): string {
  const [head = '', tail = ''] = address.toLowerCase().split('%')[0]?.split('::') ?? [];
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export class ConnectionGuard {
  /** Untrusted connections in accept order, per address; Map order is insertion order, so the first is the oldest. */
  readonly #byAddress = new Map<string, Map<net.Socket, Entry>>();
  #count = 0;
  /** Armed only while untrusted connections are held, for the oldest one's end: an idle daemon's event loop sleeps. */
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(
    private readonly budget: UntrustedBudget,
    private readonly onCut: (address: string, reason: CutReason) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Guards every connection the server accepts (for TLS: the TCP connection, before its handshake). */
  attach(server: net.Server): void {
    server.on('connection', (socket: net.Socket) => this.accepted(socket));
    server.once('close', () => this.stop());
  }

  /** A connection the guard now tracks as untrusted, cutting what a cap says must yield. */
  accepted(socket: net.Socket): void {
    const address = budgetAddress(socket.remoteAddress);
    let held = this.#byAddress.get(address);
    if (!held) {
      held = new Map();
      this.#byAddress.set(address, held);
    }
    held.set(socket, { socket, address, acceptedAt: this.now() });
    this.#count++;
    socket.once('close', () => this.#forget(socket, address));
    if (held.size > this.budget.perAddress) this.#cutOldest(held, 'per-address');
    if (this.#count > this.budget.total) {
      let busiest = held;
      for (const other of this.#byAddress.values()) if (other.size > busiest.size) busiest = other;
      this.#cutOldest(busiest, 'total');
    }
    this.#arm();
  }

  /**
   * The request on this connection proved who sent it: the connection is no
   * longer counted or timed here. Takes the request's socket; for TLS the
   * guard finds the TCP connection beneath by its remote address and port.
   */
  trust(socket: net.Socket): void {
    const held = this.#byAddress.get(budgetAddress(socket.remoteAddress));
    if (!held) return;
    for (const entry of held.values()) {
      if (entry.socket === socket || (entry.socket.remotePort === socket.remotePort && entry.socket.remoteAddress === socket.remoteAddress)) {
        this.#forget(entry.socket, entry.address);
        return;
      }
    }
  }

  /** Untrusted connections held now. */
  get untrusted(): number {
    return this.#count;
  }

  /** Cuts every untrusted connection whose lifetime is over. */
  sweep(): void {
    const limit = this.now() - this.budget.lifetimeMs;
    for (const held of [...this.#byAddress.values()]) {
      for (const entry of [...held.values()]) {
        // Oldest first: the rest of this address's are younger.
        if (entry.acceptedAt > limit) break;
        this.#cut(entry, 'lifetime');
      }
    }
  }

  /** When the oldest untrusted connection's lifetime ends; null when none is held. */
  get nextEnd(): number | null {
    let oldest: number | null = null;
    for (const held of this.#byAddress.values()) {
      const first = held.values().next();
      if (!first.done && (oldest === null || first.value.acceptedAt < oldest)) oldest = first.value.acceptedAt;
    }
    return oldest === null ? null : oldest + this.budget.lifetimeMs;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** One timer, for the oldest connection's end; on it, sweep and arm for the next. (The oldest may have gone since: then it sweeps nothing.) */
  #arm(): void {
    if (this.#timer !== null || this.#stopped) return;
    const end = this.nextEnd;
    if (end === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.sweep();
      this.#arm();
    }, Math.max(0, end - this.now()) + 1);
    this.#timer.unref();
  }

  #cutOldest(held: Map<net.Socket, Entry>, reason: CutReason): void {
    const oldest = held.values().next();
    if (!oldest.done) this.#cut(oldest.value, reason);
  }

  #cut(entry: Entry, reason: CutReason): void {
    this.#forget(entry.socket, entry.address);
    entry.socket.destroy();
    this.onCut(entry.address, reason);
  }

  #forget(socket: net.Socket, address: string): void {
    const held = this.#byAddress.get(address);
    if (!held?.delete(socket)) return;
    this.#count--;
    if (held.size === 0) this.#byAddress.delete(address);
  }
}
