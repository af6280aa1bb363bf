// A hostile client that holds many slow connections to a listener, from many
// loopback addresses (127.0.0.0/8 is all loopback on Linux, so each address
// is a "machine" to the server's per-address budget). Each connection sends
// what `opening(i)` gives (a request's headers, perhaps the first byte of a
// body), then one byte every `tickleMs`, and never finishes. A connection the
// server cuts is replaced after a short pause, so the horde keeps holding as
// many as it can; every connection's life is recorded, to check the deadline.

import net from 'node:net';

export interface HordeOptions {
  readonly port: number;
  /** Source addresses, used in turn. */
  readonly addresses: readonly string[];
  /** Connections held at once. */
  readonly size: number;
  /** What connection `i` sends as soon as it is open. */
  readonly opening: (i: number) => string | Buffer;
  /** One more byte this often. */
  readonly tickleMs: number;
  /** Pause before a cut connection is replaced (a holder that comes back, not a flood); null: never replaced. */
  readonly replaceAfterMs: number | null;
}

export interface ConnectionLife {
  readonly address: string;
  readonly openedAt: number;
  /** When the server cut it; null while open, or when the horde itself closed it at stop. */
  readonly cutAt: number | null;
  readonly bytesSent: number;
}

interface Held {
  readonly socket: net.Socket;
  readonly address: string;
  openedAt: number | null;
  cutAt: number | null;
  bytesSent: number;
  timer: NodeJS.Timeout | null;
}

export class SlowHorde {
  readonly #held = new Set<Held>();
  readonly #lives: Held[] = [];
  #next = 0;
  #running = false;
  /** Connections that could not open (refused, reset before open). */
  failedToOpen = 0;

  constructor(readonly options: HordeOptions) {}

  start(): void {
    this.#running = true;
    for (let i = 0; i < this.options.size; i++) this.#open();
  }

  /** Connections opened so far. */
  get opened(): number {
    return this.#lives.filter((l) => l.openedAt !== null).length;
  }

  /** Connections the server has cut so far. */
  get cut(): number {
    return this.#lives.filter((l) => l.cutAt !== null).length;
  }

  /** Connections open now. */
  get open(): number {
    return [...this.#held].filter((h) => h.openedAt !== null).length;
  }

  /** Stops replacing, closes what is still open, and returns every connection's life. */
  async stop(): Promise<ConnectionLife[]> {
    this.#running = false;
    const closing = [...this.#held].map(
      (h) =>
        new Promise<void>((resolve) => {
          if (h.socket.destroyed) return resolve();
          h.socket.once('close', () => resolve());
          h.socket.destroy();
        }),
    );
    await Promise.all(closing);
    return this.#lives
      .filter((l) => l.openedAt !== null)
      .map((l) => ({ address: l.address, openedAt: l.openedAt as number, cutAt: l.cutAt, bytesSent: l.bytesSent }));
  }

  #open(): void {
    const i = this.#next++;
    const address = this.options.addresses[i % this.options.addresses.length] as string;
    const socket = net.connect({ host: '127.0.0.1', port: this.options.port, localAddress: address });
    const held: Held = { socket, address, openedAt: null, cutAt: null, bytesSent: 0, timer: null };
    this.#held.add(held);
    this.#lives.push(held);
    socket.on('connect', () => {
      held.openedAt = performance.now();
      const first = this.options.opening(i);
      held.bytesSent += first.length;
      socket.write(first);
      held.timer = setInterval(() => {
        held.bytesSent++;
        socket.write('x');
      }, this.options.tickleMs);
    });
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (held.timer) clearInterval(held.timer);
      this.#held.delete(held);
      if (!this.#running) return;
      if (held.openedAt === null) this.failedToOpen++;
      else held.cutAt = performance.now();
      const pause = this.options.replaceAfterMs;
      if (pause !== null) {
        setTimeout(() => {
          if (this.#running) this.#open();
        }, pause);
      }
    });
  }
}
