// Appliances for peer-layer tests: an identity, a real store in a temp file, the
// real Receiver, and the peer server listening on 127.0.0.1 (port 0), joined by
// the same small adapters the daemon needs (PeerDirectory, NonceCache,
// ReceiverPort, PairingPort over the store and the Receiver). Also the pieces to
// forge requests: signed headers with any field overridden, and raw requests.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { fromBase64url } from '../../proto/ids.js';
import { Btrfs } from '../../src/btrfs/index.js';
import { generateIdentity, type Identity } from '../../src/crypto/index.js';
import type { FerryError } from '../../src/domain/errors.js';
import { createLogger } from '../../src/log/logger.js';
import {
  acceptInvite,
  createInvite,
  createPeerServer,
  fromPeerRecord,
  idOf,
  PeerClient,
  signRequest,
  toPeerRecord,
  type PairingPort,
  type PeerClientOptions,
  type PeerDirectory,
  type PeerRecord,
  type PeerServer,
  type PeerServerLimits,
  type ReceiverPort,
  type SignRequestInput,
} from '../../src/peer/index.js';
import type { ReceiverOptions } from '../../src/receiver/limits.js';
import { Receiver } from '../../src/receiver/receiver.js';
import { openStore, type Store } from '../../src/store/index.js';

export interface LogRecord {
  readonly level: string;
  readonly msg: string;
  readonly code?: string;
  readonly [field: string]: unknown;
}

const unix = (ms: number): number => Math.floor(ms / 1000);

/** The peer directory over the store: looked up per request, so removal is immediate. */
export function peerDirectory(store: Store): PeerDirectory {
  return {
    get: (id) => {
      const stored = store.peers.get(id);
      return stored === undefined ? undefined : toPeerRecord(stored);
    },
  };
}

/** Pairing state over the store: the invite is used and the peer stored in one transaction. */
export function pairingPort(store: Store, clock: () => number = Date.now): PairingPort {
  return {
    inviteSecret: (inviteId) => {
      const secret = store.invites.secretOf(inviteId, unix(clock()));
      return secret === undefined ? undefined : (fromBase64url(secret) ?? undefined);
    },
    recordFailure: (inviteId) => {
      store.invites.recordFailure(inviteId);
    },
    complete: (inviteId, accepter) =>
      store.transaction(() => {
        if (!store.invites.markUsed(inviteId, unix(clock()))) return false;
        // Pairing again (say, after a reinstall kept the identity) replaces the old record.
        store.peers.remove(accepter.id);
        store.peers.add(fromPeerRecord(accepter));
        return true;
      }),
  };
}

/**
 * The local Receiver as the peer server's port. `keepRemote` does not travel on
 * the wire (proto's OpenTransferRequest has no such field), so the receiving
 * side supplies its own retention count. `abort` is the Receiver's own, as the
 * daemon wires it (src/daemon/peer-ports.ts): the opened transfer is dropped,
 * its trail entry records the reason with its code, and the share lock is freed.
 */
export function receiverPort(receiver: Receiver, keepRemote: number): ReceiverPort {
  return {
    holdings: (peer, req) => receiver.holdings(peer, req),
    open: (peer, req) => receiver.open(peer, { ...req, keepRemote }),
    transfer: (peer, transferId, stream, signal) => receiver.transfer(peer, transferId, stream, signal),
    abort: (peer: string, transferId: string, reason: FerryError) => receiver.abort(peer, transferId, reason),
  };
}

export interface TestAppliance {
  readonly name: string;
  readonly identity: Identity;
  readonly id: string;
  readonly store: Store;
  readonly receiver: Receiver;
  readonly server: PeerServer;
  readonly address: string;
  readonly logs: LogRecord[];
  /** Logged refusals, optionally of one code. */
  refusals(code?: string): LogRecord[];
  /** This appliance as the other side stores it. */
  record(): PeerRecord;
  /** A client of `other` signed with this appliance's identity. */
  clientFor(other: TestAppliance, options?: Partial<PeerClientOptions>): PeerClient;
  close(): Promise<void>;
}

export async function startAppliance(options: {
  name: string;
  pools?: { name: string; path: string }[];
  limits?: PeerServerLimits;
  btrfs?: Btrfs;
  receiverOptions?: ReceiverOptions;
  keepRemote?: number;
  identity?: Identity;
}): Promise<TestAppliance> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-peer-'));
  const store = openStore(path.join(stateDir, 'ferry.db'));
  for (const pool of options.pools ?? []) store.pools.add(pool);
  const identity = options.identity ?? generateIdentity();
  const logs: LogRecord[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as LogRecord), fields: { appliance: options.name } });
  const receiver = new Receiver({ btrfs: options.btrfs ?? new Btrfs(), store, logger, ...(options.receiverOptions ? { options: options.receiverOptions } : {}) });
  const server = createPeerServer({
    identity,
    name: options.name,
    peers: peerDirectory(store),
    nonces: store.nonces,
    receiver: receiverPort(receiver, options.keepRemote ?? 10),
    pairing: pairingPort(store),
    logger,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  const id = idOf(identity);
  const self: TestAppliance = {
    name: options.name,
    identity,
    id,
    store,
    receiver,
    server,
    address,
    logs,
    refusals: (code) => logs.filter((l) => l.msg === 'peer request refused' && (code === undefined || l.code === code)),
    record: () => ({ id, name: options.name, address, signingPublicKey: identity.signing.publicKey, boxPublicKey: identity.box.publicKey }),
    clientFor: (other, clientOptions = {}) => new PeerClient({ identity, peer: other.record(), ...clientOptions }),
    close: async () => {
      await server.close();
      store.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  return self;
}

/** Pairs two appliances through the real invite exchange. */
export async function pairByInvite(inviter: TestAppliance, accepter: TestAppliance): Promise<void> {
  const { line, invite, secret } = createInvite({ identity: inviter.identity, name: inviter.name, address: inviter.address });
  inviter.store.invites.create({ inviteId: invite.inviteId, secret, expiresAt: invite.expiresAt });
  const record = await acceptInvite({ identity: accepter.identity, name: accepter.name, address: accepter.address, invite: line });
  accepter.store.peers.add(fromPeerRecord(record));
}

// ---- forging -------------------------------------------------------------------------

/** Signed headers from `from` to `to`, with any signing field overridden. */
export function signedHeaders(
  from: Identity,
  to: { id: string },
  input: Omit<SignRequestInput, 'identity' | 'audience'> & { audience?: string },
): Record<string, string> {
  return signRequest({ ...input, identity: from, audience: input.audience ?? to.id });
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: { code?: string; message?: string; [k: string]: unknown } | undefined;
}

/** One request exactly as given: no signing, no checks. */
export async function rawRequest(
  to: { address: string },
  options: { method: string; path: string; headers?: Record<string, string>; body?: Buffer | string | Readable | null },
): Promise<RawResponse> {
  const response = await request(to.address + options.path, {
    method: options.method as 'GET',
    headers: options.headers ?? {},
    body: options.body ?? null,
  });
  const text = await response.body.text();
  let json: RawResponse['json'];
  try {
    json = JSON.parse(text) as RawResponse['json'];
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

/** A signed JSON request from `from` to `to`; `tamper` changes what is sent after signing. */
export function signedJson(
  from: Identity,
  to: TestAppliance,
  options: {
    method?: string;
    path: string;
    body?: unknown;
    raw?: Buffer | string;
    sign?: Partial<Omit<SignRequestInput, 'identity'>>;
    sendPath?: string;
    sendBody?: Buffer | string;
    headers?: Record<string, string>;
  },
): Promise<RawResponse> {
  const method = options.method ?? 'POST';
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers = {
    ...signedHeaders(from, to, { method, target: options.path, ...(body === undefined ? {} : { body }), ...options.sign }),
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...options.headers,
  };
  return rawRequest(to, { method, path: options.sendPath ?? options.path, headers, body: options.sendBody ?? body ?? null });
}
