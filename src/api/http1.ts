// One HTTP/1.1 exchange with the daemon's admin listener, for the `ferry`
// command: a socket from node:net (TCP or the unix socket), the request
// written as HTTP/1.1 says, and the answer read by http-parser-js (a
// JavaScript port of the parser node itself used), which frames the body by
// Content-Length, chunks or the end of the connection.
//
// Why not node:http: loading it and making the first request of a process
// took about 20 ms of every command (npm run bench:cli), a quarter of what
// `ferry status` adds to node's own start; a command makes one call, or two,
// to a daemon on this machine, and this does that in half the time. The
// daemon serves with node's own HTTP server (fastify); peers talk over undici.

import net from 'node:net';
import { HTTPParser } from 'http-parser-js';

/** Where the admin listener is: a TCP address, or a unix socket (`unix:/path` in config.json). */
export type Endpoint = { readonly host: string; readonly port: number } | { readonly socketPath: string };

export interface Request {
  readonly method: string;
  /** The origin-form target: the path and query, as the route table made it. */
  readonly target: string;
  /** Host, as a browser would send it for this endpoint. */
  readonly host: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** What the exchange reports, in this order: a head (or a failure), body chunks, then end (or a failure). */
export interface AnswerListener {
  head(status: number): void;
  body(chunk: Buffer): void;
  end(): void;
  /** The exchange failed (ExchangeError says whether any of an answer came). */
  fail(err: ExchangeError): void;
}

/** A failed exchange, and whether any byte of an answer had come (a cut or malformed answer) or none (unreachable, silent). */
export class ExchangeError extends Error {
  constructor(
    message: string,
    readonly answered: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ExchangeError';
  }
}

/** A line break or NUL in a head would end the header early and let the rest forge another. */
const unsafeInHead = /[\r\n\0]/;

/** The request's head and body, as bytes on the wire. */
export function requestBytes(req: Request): string {
  const headers: [string, string][] = [['Host', req.host], ...Object.entries(req.headers), ['Connection', 'close']];
  if (req.body !== undefined) headers.push(['Content-Length', String(Buffer.byteLength(req.body))]);
  for (const part of [req.method, req.target, ...headers.flat()]) {
    if (unsafeInHead.test(part)) throw new Error(`a request to the daemon would carry a line break or NUL in its head (${JSON.stringify(part.slice(0, 40))})`);
  }
  if (/\s/.test(req.method) || /\s/.test(req.target)) throw new Error(`a request line of '${req.method} ${req.target}' is not HTTP`);
  return `${req.method} ${req.target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${req.body ?? ''}`;
}

export interface ExchangeOptions {
  /** Ends the exchange when the daemon is silent this long; none for a stream that may be quiet (events). */
  readonly idleMs?: number;
}

/** Sends one request and reports its answer to the listener; `close` ends it early (the listener hears nothing more). */
export function exchange(endpoint: Endpoint, req: Request, listener: AnswerListener, options: ExchangeOptions = {}): { close: () => void } {
  const wire = requestBytes(req);
  const socket = 'socketPath' in endpoint ? net.connect({ path: endpoint.socketPath }) : net.connect({ host: endpoint.host, port: endpoint.port });
  let answered = false;
  let over = false;
  const finish = (report: () => void): void => {
    if (over) return;
    over = true;
    socket.destroy();
    report();
  };

  const parser = new HTTPParser(HTTPParser.RESPONSE);
  parser[HTTPParser.kOnHeadersComplete] = (info) => {
    if (!over) listener.head(info.statusCode);
  };
  parser[HTTPParser.kOnBody] = (chunk, offset, length) => {
    if (!over) listener.body(chunk.subarray(offset, offset + length));
  };
  parser[HTTPParser.kOnMessageComplete] = () => finish(() => listener.end());

  const idleMs = options.idleMs;
  if (idleMs !== undefined) {
    socket.setTimeout(idleMs, () => finish(() => listener.fail(new ExchangeError(`no answer within ${idleMs / 1000} s`, answered))));
  }
  socket.on('connect', () => socket.write(wire));
  socket.on('data', (data: Buffer) => {
    answered = true;
    const parsed = parser.execute(data);
    if (parsed instanceof Error) finish(() => listener.fail(new ExchangeError(`the answer is not HTTP/1.1 (${parsed.message})`, true)));
  });
  socket.on('end', () => {
    if (over) return;
    // A body that runs to the end of the connection ends here (finish() reports it complete); any other answer was cut.
    parser.finish();
    if (!over) finish(() => listener.fail(new ExchangeError(answered ? 'the daemon closed the connection before its answer was complete' : 'the daemon closed the connection without an answer', answered)));
  });
  socket.on('error', (err) => finish(() => listener.fail(new ExchangeError(err.message, answered, { cause: err }))));
  return { close: () => finish(() => undefined) };
}

/** The answer to one request, whole: its status and its body as text (at most maxBytes). */
export function fetchText(endpoint: Endpoint, req: Request, options: ExchangeOptions & { readonly maxBytes: number }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let size = 0;
    const chunks: Buffer[] = [];
    const ex = exchange(
      endpoint,
      req,
      {
        head: (s) => (status = s),
        body: (chunk) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            ex.close();
            reject(new ExchangeError(`the answer is over ${options.maxBytes} bytes`, true));
            return;
          }
          chunks.push(chunk);
        },
        end: () => resolve({ status, text: Buffer.concat(chunks).toString('utf8') }),
        fail: reject,
      },
      options,
    );
  });
}
