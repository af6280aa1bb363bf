// A small TCP proxy on 127.0.0.1 for tests that slow, stall or cut the link
// between two appliances (this machine's tc has no netem). It forwards each
// connection to the target and can, for the client-to-server direction:
// limit the rate, hold bytes back (a stall), and cut every connection once a
// given number of bytes has passed.

import net from 'node:net';

export interface ProxyOptions {
  /** Bytes per second from client to server; unlimited when absent. */
  rate?: number;
}

export class TcpProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #rate: number | undefined;
  #cutAfter: number | null = null;
  #stalled = false;
  #down = false;
  #forwarded = 0;
  #watches: { text: string; resolve: () => void }[] = [];
  port = 0;

  constructor(
    private readonly targetPort: number,
    options: ProxyOptions = {},
  ) {
    this.#rate = options.rate;
    this.#server = net.createServer((client) => this.#connect(client));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this.port;
  }

  /** Client-to-server bytes forwarded so far, over all connections. */
  get forwarded(): number {
    return this.#forwarded;
  }

  setRate(rate: number | undefined): void {
    this.#rate = rate;
  }

  /** Cuts every connection once this many more client-to-server bytes have passed. */
  cutAfter(bytes: number): void {
    this.#cutAfter = this.#forwarded + bytes;
  }

  /** Resolves once a client-to-server chunk holding `text` arrives (stalled or not): a request line, say. */
  arrival(text: string): Promise<void> {
    return new Promise((resolve) => this.#watches.push({ text, resolve }));
  }

  /** Stops forwarding without closing: the receiver sees a stalled body. */
  stall(stalled: boolean): void {
    this.#stalled = stalled;
  }

  /** The link goes down (every connection cut, new ones closed at once) or comes back. */
  setDown(down: boolean): void {
    this.#down = down;
    if (down) this.cutAll();
  }

  cutAll(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #connect(client: net.Socket): void {
    if (this.#down) {
      client.resetAndDestroy();
      return;
    }
    const server = net.connect(this.targetPort, '127.0.0.1');
    this.#sockets.add(client);
    this.#sockets.add(server);
    const close = (): void => {
      client.destroy();
      server.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(server);
    };
    client.on('error', close);
    server.on('error', close);
    client.on('close', close);
    server.on('close', close);
    server.pipe(client);
    client.on('data', (chunk: Buffer) => {
      for (const w of this.#watches.filter((x) => chunk.includes(x.text))) {
        this.#watches = this.#watches.filter((x) => x !== w);
        w.resolve();
      }
      client.pause();
      void this.#forward(chunk, server, close).then(() => client.resume());
    });
    client.on('end', () => server.end());
  }

  async #forward(chunk: Buffer, server: net.Socket, close: () => void): Promise<void> {
    let rest = chunk;
    while (rest.length > 0) {
      while (this.#stalled) await wait(50);
      if (server.destroyed) return;
      const slice = this.#rate ? rest.subarray(0, Math.max(1, Math.floor(this.#rate / 20))) : rest;
      if (this.#cutAfter !== null && this.#forwarded + slice.length >= this.#cutAfter) {
        const allowed = this.#cutAfter - this.#forwarded;
        if (allowed > 0) server.write(slice.subarray(0, allowed));
        this.#forwarded += Math.max(0, allowed);
        this.#cutAfter = null;
        close();
        return;
      }
      server.write(slice);
      this.#forwarded += slice.length;
      rest = rest.subarray(slice.length);
      if (this.#rate) await wait((slice.length / this.#rate) * 1000);
    }
  }
}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
