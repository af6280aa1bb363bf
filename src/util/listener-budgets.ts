// Every listener's budget, in one place (the README's security section
// states them): how long a request may take to arrive, how long an idle
// keep-alive connection stays, how long and how many connections may stay
// before they prove who sent them, and how large a body may be before the
// sender is known. The numbers are chosen so that nothing legitimate comes
// near them: a peer's signed JSON request is a few KiB sent at once, a
// browser's sign-in a few hundred bytes, and every admin request small.

import type { UntrustedBudget } from './connection-guard.js';

export interface ListenerBudget {
  /** The whole header block of a request must arrive within this. */
  readonly headersMs: number;
  /** The whole request, body included; 0: none (the peer server's uploads last as long as they last, the stall watch judges them). */
  readonly requestMs: number;
  /** A keep-alive connection with no request under way is closed after this. */
  readonly keepAliveMs: number;
  /** A connection that moves no byte for this long is closed; 0: never (a peer waits minutes for a commit on a quiet connection). */
  readonly socketIdleMs: number;
  /** A TLS handshake must end within this. */
  readonly handshakeMs: number;
  /** Connections held at once, trusted or not. */
  readonly maxConnections: number;
  readonly untrusted: UntrustedBudget;
  /** The largest body read before its sender is known (pairing, sign-in), and how long it may take. */
  readonly anonymousBodyBytes: number;
  /** The largest JSON body of a verified sender, and how long it may take to arrive. */
  readonly bodyBytes: number;
  readonly bodyMs: number;
}

/** The peer listener: the one an appliance exposes to the LAN or the WAN. */
export const peerBudget: ListenerBudget = {
  headersMs: 10_000,
  requestMs: 0,
  keepAliveMs: 5_000,
  socketIdleMs: 0,
  handshakeMs: 10_000,
  maxConnections: 512,
  untrusted: { lifetimeMs: 10_000, perAddress: 32, total: 256 },
  anonymousBodyBytes: 16 * 1024,
  bodyBytes: 64 * 1024,
  bodyMs: 15_000,
};

/**
 * The admin listener (loopback or a unix socket) and the web UI's TLS
 * listener: only an admin's tools and browser should talk to them, so a
 * request is small and quick; an event stream stays open, moving a
 * heartbeat every 15 s.
 */
export const adminBudget: ListenerBudget = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
  socketIdleMs: 120_000,
  handshakeMs: 10_000,
  maxConnections: 256,
  untrusted: { lifetimeMs: 15_000, perAddress: 64, total: 128 },
  anonymousBodyBytes: 4 * 1024,
  bodyBytes: 64 * 1024,
  bodyMs: 30_000,
};

/**
 * The settings of a fastify server (and the node server beneath it) that
 * carry a budget. For TLS, node's settings ride in the https options.
 */
export function serverSettings(budget: ListenerBudget, tls?: { cert: string; key: string }) {
  // Node checks the headers and request deadlines on its own 30 s round (connectionsCheckingInterval):
  // a shorter round would wake an idle daemon every time. A stranger's connection is cut on time
  // by its lifetime (connection-guard.ts) instead; these deadlines bound a paired peer's or the
  // admin's own connection, where 30 s late is no harm.
  const node = { headersTimeout: budget.headersMs, requestTimeout: budget.requestMs, keepAliveTimeout: budget.keepAliveMs };
  return {
    bodyLimit: budget.bodyBytes,
    keepAliveTimeout: budget.keepAliveMs,
    requestTimeout: budget.requestMs,
    connectionTimeout: budget.socketIdleMs,
    ...(tls ? { https: { ...tls, ...node, handshakeTimeout: budget.handshakeMs } } : { http: node }),
  };
}
