// Pairing by invite (proto/README.md, Pairing). The inviter prints an invite
// line; the accepter sends a signed PairAcceptRequest with an HMAC proof that it
// saw the invite's secret; the inviter checks signature, id and proof, marks the
// invite used and stores the accepter; the accepter checks the signed answer
// against the invite and stores the inviter.

import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { applianceIdOf, fromBase64url, toBase64url } from '../../proto/ids.js';
import {
  decodeInvite,
  encodeInvite,
  PairAcceptRequest,
  PairAcceptResponse,
  pairingProof,
  pairingProofString,
  routes,
  verifyPairingProof,
  type Invite,
} from '../../proto/messages.js';
import { NONCE_RETENTION_SECONDS, MAX_CLOCK_SKEW_SECONDS, type SignedRequestHeaders } from '../../proto/signing.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';
import type { Identity } from '../crypto/index.js';
import { FerryError } from '../domain/errors.js';
import { nameProblem } from '../domain/names.js';
import { answer, defaultTimeouts, exchange, type PeerTimeouts } from './http.js';
import type { NonceCache, PairingPort, PeerRecord } from './ports.js';
import { idOf, unixNow, verifyRequestSignature } from './signing.js';

/** Default life of an invite: long enough to walk to the other appliance, short enough not to linger. */
export const DEFAULT_INVITE_TTL_SECONDS = 15 * 60;

export interface CreatedInvite {
  readonly invite: Invite;
  /** The line to print: `ferry-invite-v1:...`. */
  readonly line: string;
  /** The raw secret, for the store (InviteRepo.create). */
  readonly secret: Uint8Array;
}

/** A fresh invite of this appliance (the caller stores inviteId, secret and expiresAt). */
export function createInvite(input: {
  identity: Identity;
  name: string;
  address: string;
  ttlSeconds?: number;
  clock?: () => number;
}): CreatedInvite {
  const secret = new Uint8Array(randomBytes(32));
  const invite: Invite = {
    protocol: PROTOCOL_VERSION,
    address: input.address,
    applianceId: idOf(input.identity),
    name: input.name,
    signingPublicKey: toBase64url(input.identity.signing.publicKey),
    boxPublicKey: toBase64url(input.identity.box.publicKey),
    inviteId: toBase64url(randomBytes(12)),
    secret: toBase64url(secret),
    expiresAt: unixNow(input.clock) + (input.ttlSeconds ?? DEFAULT_INVITE_TTL_SECONDS),
  };
  let line: string;
  try {
    line = encodeInvite(invite);
  } catch (cause) {
    throw new FerryError('INVALID_INPUT', 'cannot make an invite: the name or address is not acceptable', { cause });
  }
  return { invite, line, secret };
}

/** The answer of the inviter: who it is. */
export function pairAcceptResponse(identity: Identity, name: string): PairAcceptResponse {
  return {
    applianceId: idOf(identity),
    name,
    signingPublicKey: toBase64url(identity.signing.publicKey),
    boxPublicKey: toBase64url(identity.box.publicKey),
  };
}

/** When a nonce may be forgotten: past the time check's reach for the signed time too. */
export function nonceExpiry(now: number, signedTime: number): number {
  return Math.max(now + NONCE_RETENTION_SECONDS, signedTime + MAX_CLOCK_SKEW_SECONDS + 1);
}

/**
 * The inviter's checks of a PairAcceptRequest whose headers passed the stateless
 * checks and whose body matched the signed digest: the body names the signer,
 * the id derives from the key in the body, nonce, signature (with that key), the
 * invite is live, nonce, signature (with that key), the accepter's name, then the
 * proof (constant time). A wrong proof
 * counts against the invite. On success the invite is used and the accepter
 * stored (PairingPort.complete); returns its record.
 */
export function verifyAcceptRequest(input: {
  /** The inviter's (this appliance's) id. */
  self: string;
  signed: SignedRequestHeaders;
  request: { method: string; target: string };
  body: PairAcceptRequest;
  nonces: NonceCache;
  pairing: PairingPort;
  /** Unix seconds. */
  now: number;
  /** Called once the request's signature verified with the key in its body: its answer may be signed from then on. */
  onSignatureVerified?: () => void;
}): PeerRecord {
  const { signed, body } = input;
  if (body.applianceId !== signed.sender) {
    throw new FerryError('INVALID_INPUT', `the body names ${body.applianceId}, but the request is signed by ${signed.sender}`);
  }
  const signingKey = fromBase64url(body.signingPublicKey);
  const boxKey = fromBase64url(body.boxPublicKey);
  if (signingKey?.length !== 32 || boxKey?.length !== 32) throw new FerryError('INVALID_INPUT', 'the accepter keys are not 32 bytes each');
  if (applianceIdOf(signingKey) !== body.applianceId) {
    throw new FerryError('INVALID_INPUT', `appliance id ${body.applianceId} does not derive from the signing key in the body`);
  }
  if (body.applianceId === input.self) throw new FerryError('INVALID_INPUT', 'an appliance cannot pair with itself');
  // Before any signature work or nonce stored: without a live invite, an unknown
  // signer costs one lookup and leaves nothing behind.
  const secret = input.pairing.inviteSecret(body.inviteId);
  if (secret === undefined) throw new FerryError('INVITE_INVALID', 'the invite is unknown, used, expired, or burned by wrong proofs');
  if (input.nonces.has(signed.sender, signed.nonce)) throw new FerryError('REPLAYED_NONCE', 'the request nonce was seen already');
  if (!verifyRequestSignature(signed, input.request, signingKey)) {
    throw new FerryError('BAD_SIGNATURE', 'the signature does not verify with the signing key in the body');
  }
  input.onSignatureVerified?.();
  if (!input.nonces.remember(signed.sender, signed.nonce, nonceExpiry(input.now, signed.time))) {
    throw new FerryError('REPLAYED_NONCE', 'the request nonce was seen already');
  }
  const problem = nameProblem('peer', body.name);
  if (problem !== null) throw new FerryError('INVALID_INPUT', `the accepter's ${problem}`);

  const proofString = pairingProofString({
    inviteId: body.inviteId,
    inviterId: input.self,
    accepterId: body.applianceId,
    accepterSigningPublicKey: body.signingPublicKey,
    accepterBoxPublicKey: body.boxPublicKey,
  });
  if (!verifyPairingProof(secret, proofString, body.proof)) {
    input.pairing.recordFailure(body.inviteId);
    throw new FerryError('INVITE_INVALID', 'the pairing proof is wrong');
  }
  const record: PeerRecord = { id: body.applianceId, name: body.name, address: body.address, signingPublicKey: signingKey, boxPublicKey: boxKey };
  if (!input.pairing.complete(body.inviteId, record)) throw new FerryError('INVITE_INVALID', 'the invite was used meanwhile');
  return record;
}

/**
 * The accepter's side: checks the invite (its id derives from its key, it has not
 * expired), sends the signed PairAcceptRequest with the proof, checks the signed
 * answer against the invite, and returns the inviter's record for the caller to
 * store. Throws INVALID_INPUT for a malformed invite, INVITE_INVALID when it is
 * refused, PEER_UNREACHABLE when the inviter cannot be reached.
 */
export async function acceptInvite(input: {
  identity: Identity;
  /** This appliance's name, as the inviter will show it. */
  name: string;
  /** This appliance's peer API base URL, as the inviter will store it. */
  address: string;
  /** The invite line as pasted. */
  invite: string;
  clock?: () => number;
  dispatcher?: Dispatcher;
  timeouts?: PeerTimeouts;
  signal?: AbortSignal;
}): Promise<PeerRecord> {
  let invite: Invite;
  try {
    invite = decodeInvite(input.invite);
  } catch (cause) {
    throw new FerryError('INVALID_INPUT', `not a valid invite: ${cause instanceof Error ? cause.message.slice(0, 300) : String(cause)}`, { cause });
  }
  const signingKey = fromBase64url(invite.signingPublicKey) as Uint8Array;
  const boxKey = fromBase64url(invite.boxPublicKey) as Uint8Array;
  if (applianceIdOf(signingKey) !== invite.applianceId) {
    throw new FerryError('INVITE_INVALID', `the invite's appliance id ${invite.applianceId} does not derive from its signing key`);
  }
  const self = idOf(input.identity);
  if (invite.applianceId === self) throw new FerryError('INVALID_INPUT', 'this is an invite of this appliance itself');
  if (invite.expiresAt <= unixNow(input.clock)) throw new FerryError('INVITE_INVALID', 'the invite has expired');
  const nameIssue = nameProblem('peer', invite.name);
  if (nameIssue !== null) throw new FerryError('INVITE_INVALID', `the inviter's ${nameIssue}`);

  const signingPublicKey = toBase64url(input.identity.signing.publicKey);
  const boxPublicKey = toBase64url(input.identity.box.publicKey);
  const body: PairAcceptRequest = {
    inviteId: invite.inviteId,
    applianceId: self,
    name: input.name,
    address: input.address,
    signingPublicKey,
    boxPublicKey,
    proof: pairingProof(
      fromBase64url(invite.secret) as Uint8Array,
      pairingProofString({ inviteId: invite.inviteId, inviterId: invite.applianceId, accepterId: self, accepterSigningPublicKey: signingPublicKey, accepterBoxPublicKey: boxPublicKey }),
    ),
  };
  const checked = PairAcceptRequest.safeParse(body);
  if (!checked.success) throw new FerryError('INVALID_INPUT', `cannot accept: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);

  const timeout = input.timeouts?.requestMs ?? defaultTimeouts.requestMs;
  const label = `inviter ${invite.name} (${invite.applianceId})`;
  const exchanged = await exchange({
    identity: input.identity,
    responder: { id: invite.applianceId, signingPublicKey: signingKey, label },
    address: invite.address,
    method: 'POST',
    path: routes.pairAccept.path,
    json: checked.data,
    dispatcher: input.dispatcher,
    signal: input.signal,
    clock: input.clock,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  const response = answer(exchanged, PairAcceptResponse, 'pairing answer', label);
  if (response.applianceId !== invite.applianceId || response.signingPublicKey !== invite.signingPublicKey || response.boxPublicKey !== invite.boxPublicKey) {
    throw new FerryError('INVITE_INVALID', 'the inviter answered with other keys than its invite carries');
  }
  const responseName = nameProblem('peer', response.name) === null ? response.name : invite.name;
  return { id: invite.applianceId, name: responseName, address: invite.address, signingPublicKey: signingKey, boxPublicKey: boxKey };
}
