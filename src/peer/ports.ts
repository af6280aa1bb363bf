// What the peer layer needs from the rest of the appliance, as small interfaces
// the daemon implements (with the store and the local Receiver). The peer layer
// imports neither: it sees only these ports.

import type { Readable } from 'node:stream';
import type { HealthFinding, HoldingsRequest, OpenTransferRequest, PoolHealthRequest, Replica, RestorePlan, RestoreRequest } from '../../proto/messages.js';
import type { FerryError } from '../domain/errors.js';
import type { TransferReceipt } from '../domain/transfer.js';

/** A paired appliance, with the keys this appliance trusts for it. */
export interface PeerRecord {
  /** Appliance id (derived from signingPublicKey). */
  readonly id: string;
  readonly name: string;
  /** Base URL of its peer API, e.g. `https://nas2.example:7443`, no trailing slash. */
  readonly address: string;
  /** Ed25519, 32 bytes. */
  readonly signingPublicKey: Uint8Array;
  /** X25519, 32 bytes. */
  readonly boxPublicKey: Uint8Array;
}

/** Looked up on every request, so an unpairing takes effect at once. */
export interface PeerDirectory {
  get(id: string): PeerRecord | undefined;
}

/** Nonces seen per sender (the store's NonceRepo fits). Expiries are unix seconds. */
export interface NonceCache {
  /** Whether the nonce was seen: checked before the signature, but not remembered yet. */
  has(sender: string, nonce: string): boolean;
  /** Remembers the nonce once the signature verified; false when it was there already. Must be atomic. */
  remember(sender: string, nonce: string, expiresAt: number): boolean;
}

/**
 * The local receiving end, called with the verified sender's id as `peer` (never
 * a field of a body). It takes the wire's requests as parsed (proto/messages.ts)
 * and answers the domain's receipt (src/domain/transfer.ts); the server adds
 * the transfer id. The daemon adapts src/receiver/Receiver to it. Errors are
 * FerryErrors; the server maps their codes onto wire codes (proto/errors.ts).
 */
export interface ReceiverPort {
  holdings(peer: string, request: HoldingsRequest): Promise<readonly Replica[]>;
  /**
   * A restore asked by `peer` of its own chain: the plan, answered at once;
   * the holder then sends the replica as a transfer of its own.
   */
  restore?(peer: string, request: RestoreRequest): Promise<RestorePlan>;
  /** Keeps the peer's sealed configuration export, replacing its last one. */
  keepConfig?(peer: string, sealed: string): Promise<{ bytes: number; storedAt: string }>;
  /** Findings about a granted pool's health (degraded, missing devices, read-only, ...); none when absent. */
  poolHealth?(peer: string, request: PoolHealthRequest): Promise<readonly HealthFinding[]>;
  /** Checks and reserves a transfer; the id must match proto's TRANSFER_ID_PATTERN (a UUID does). */
  open(peer: string, request: OpenTransferRequest): Promise<{ transferId: string }>;
  /**
   * Receives the opened (authenticated, decrypted) send stream. `signal` fires when
   * the sender disconnects, stalls, aborts the transfer, or is unpaired.
   */
  transfer(peer: string, transferId: string, stream: Readable, signal: AbortSignal): Promise<TransferReceipt>;
  /**
   * Drops a transfer that was opened but will never stream (its upload was
   * refused before any payload, the sender sent DELETE, it expired, or the peer
   * was unpaired): record `reason` in the trail and free the share lock.
   * Optional: without it the receiver's own open timeout does the same later.
   */
  abort?(peer: string, transferId: string, reason: FerryError): Promise<void> | void;
}

/**
 * The inviter's side of pairing, backed by the store's invites and peers. The
 * peer layer checks the signature and the proof; the port only keeps state.
 */
export interface PairingPort {
  /** The 32-byte secret of an invite that can still be used (known, unused, unexpired, not burned); else undefined. */
  inviteSecret(inviteId: string): Uint8Array | undefined;
  /** Counts a wrong proof against the invite (the store burns it after 5). */
  recordFailure(inviteId: string): void;
  /**
   * Marks the invite used and stores the accepter as a peer, atomically (one
   * transaction). False when the invite was used, burned or expired meanwhile;
   * then nothing is stored. May throw FerryError (e.g. ALREADY_EXISTS for a name clash).
   */
  complete(inviteId: string, accepter: PeerRecord): boolean;
  /** The peer removed this appliance: forget it here too, its tasks paused. Absent: nothing is forgotten. */
  unpaired?(peerId: string): { tasksPaused: number };
}
