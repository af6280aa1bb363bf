// The CLI's one HTTP/1.1 exchange (src/api/http1.ts) against a raw socket
// server that answers with chosen bytes, delivered whole or a byte at a time:
// each way HTTP frames a body, each way an answer goes wrong, and what the
// request looks like on the wire. The real thing, against a daemon, is every
// CLI test in test/e2e.

import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeError, fetchText, requestBytes, type Endpoint, type Request } from '../../src/api/http1.js';

/** A server that records each request's bytes and answers with `reply` (split into single bytes when `trickle`), then closes or holds the connection. */
class CannedServer {
  readonly server: net.Server;
  readonly requests: string[] = [];
  reply = '';
  trickle = false;
  hold = false;

  constructor() {
    this.server = net.createServer((socket) => {
      let seen = '';
      socket.on('data', (b: Buffer) => {
        seen += b.toString('latin1');
        if (!seen.includes('\r\n\r\n')) return;
        this.requests.push(seen);
        if (this.trickle) for (const byte of Buffer.from(this.reply, 'latin1')) socket.write(Buffer.from([byte]));
        else socket.write(Buffer.from(this.reply, 'latin1'));
        if (!this.hold) socket.end();
      });
      socket.on('error', () => undefined);
    });
  }
}

const request = (over: Partial<Request> = {}): Request => ({ method: 'GET', target: '/api/v1/status', host: '127.0.0.1:1', headers: { authorization: 'Bearer t0k3n' }, ...over });

let canned: CannedServer;
let endpoint: Endpoint;

beforeAll(async () => {
  canned = new CannedServer();
  await new Promise<void>((resolve) => canned.server.listen(0, '127.0.0.1', resolve));
  endpoint = { host: '127.0.0.1', port: (canned.server.address() as net.AddressInfo).port };
});

afterAll(async () => {
  await new Promise((resolve) => canned.server.close(resolve));
});

const options = { idleMs: 5_000, maxBytes: 1024 };

describe('an answer, framed every way HTTP/1.1 frames one', () => {
  it.each([
    ['by Content-Length', 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{"a":"\u00e9"}', 200, '{"a":"é"}'],
    ['by chunks', 'HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n', 201, '{"a":1}'],
    ['by chunks with an extension and trailers', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\nx-trailer: 1\r\n\r\n', 200, 'ok'],
    ['by the end of the connection', 'HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\r\n{"code":"NOT_FOUND"}', 404, '{"code":"NOT_FOUND"}'],
    ['with no body', 'HTTP/1.1 204 No Content\r\n\r\n', 204, ''],
    ['with headers folded over lines', 'HTTP/1.1 200 OK\r\nx-long: one\r\n two\r\ncontent-length: 2\r\n\r\nhi', 200, 'hi'],
  ])('%s, whole and a byte at a time', async (_label, reply, status, text) => {
    canned.reply = Buffer.from(reply, 'utf8').toString('latin1');
    for (const trickle of [false, true]) {
      canned.trickle = trickle;
      expect(await fetchText(endpoint, request(), options)).toEqual({ status, text });
    }
    canned.trickle = false;
  });
});

describe('an answer that goes wrong', () => {
  it.each([
    ['cut short of its Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"partial":', /closed the connection before its answer was complete/],
    ['cut inside its chunks', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\n{"par', /closed the connection before its answer was complete/],
    ['cut inside its head', 'HTTP/1.1 200 OK\r\ncontent-le', /closed the connection before its answer was complete/],
    ['not HTTP at all', 'SSH-2.0-OpenSSH_9.2\r\n\r\n', /not HTTP\/1.1/],
    ['with a status line that has no status', 'HTTP/1.1 OK\r\ncontent-length: 0\r\n\r\n', /not HTTP\/1.1/],
    ['over the size allowed', `HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n${'x'.repeat(2000)}`, /over 1024 bytes/],
  ])('%s: refused, as an answer that came', async (_label, reply, message) => {
    canned.reply = reply;
    const err: unknown = await fetchText(endpoint, request(), options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    expect(err).toBeInstanceOf(ExchangeError);
    expect((err as ExchangeError).answered).toBe(true);
  });

  it('a connection that is closed without a byte: not answered', async () => {
    canned.reply = '';
    const err: unknown = await fetchText(endpoint, request(), options).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/without an answer/);
    expect(err).toBeInstanceOf(ExchangeError);
    expect((err as ExchangeError).answered).toBe(false);
  });

  it('a daemon that is silent: given up after the idle time, not answered', async () => {
    canned.reply = '';
    canned.hold = true;
    try {
      const err: unknown = await fetchText(endpoint, request(), { ...options, idleMs: 200 }).catch((e: unknown) => e);
      expect((err as Error).message).toBe('no answer within 0.2 s');
      expect(err).toBeInstanceOf(ExchangeError);
      expect((err as ExchangeError).answered).toBe(false);
    } finally {
      canned.hold = false;
    }
  });

  it('nobody listening: the connection error, not answered', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err: unknown = await fetchText({ host: '127.0.0.1', port }, request(), options).catch((e: unknown) => e);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(err).toBeInstanceOf(ExchangeError);
    expect((err as ExchangeError).answered).toBe(false);
  });
});

describe('the request on the wire', () => {
  it('a request line, Host, the headers given, Connection: close, and the body with its length in bytes', async () => {
    canned.reply = 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n';
    canned.requests.length = 0;
    await fetchText(endpoint, request({ method: 'POST', target: '/api/v1/pools?x=1', headers: { authorization: 'Bearer t0k3n', 'content-type': 'application/json' }, body: '{"name":"é"}' }), options);
    expect(canned.requests).toEqual([
      'POST /api/v1/pools?x=1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\nauthorization: Bearer t0k3n\r\ncontent-type: application/json\r\nConnection: close\r\nContent-Length: 13\r\n\r\n' + Buffer.from('{"name":"é"}').toString('latin1'),
    ]);
  });

  it.each([
    ['a line break in a header value', request({ headers: { authorization: 'Bearer x\r\nx-forged: 1' } })],
    ['a line break in the target', request({ target: '/a\r\nx-forged: 1' })],
    ['a NUL in the host', request({ host: 'a\0b' })],
    ['a space in the target', request({ target: '/a b' })],
  ])('%s is refused before anything is sent', (_label, req) => {
    expect(() => requestBytes(req)).toThrow(/line break or NUL|is not HTTP/);
  });

  it('over a unix socket', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-test-http1-'));
    const unix = new CannedServer();
    unix.reply = 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ntrue';
    try {
      const socketPath = path.join(dir, 'admin.sock');
      await new Promise<void>((resolve) => unix.server.listen(socketPath, resolve));
      expect(await fetchText({ socketPath }, request({ host: 'localhost' }), options)).toEqual({ status: 200, text: 'true' });
      expect(unix.requests[0]).toMatch(/^GET \/api\/v1\/status HTTP\/1.1\r\nHost: localhost\r\n/);
    } finally {
      await new Promise((resolve) => unix.server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
