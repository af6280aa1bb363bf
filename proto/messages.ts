// The peer API: routes and the zod schemas of every JSON body. All bodies are
// UTF-8 JSON (content-type application/json) except the stream upload, whose
// body is a sealed stream (frame.ts). Every request except `hello` is signed
// (signing.ts), and so is every response to a signed request. Schemas are
// strict: an unknown field is refused, so that a field added without a version
// bump is noticed rather than ignored.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { API_PREFIX, PROTOCOL_VERSION } from './version.js';
import { WIRE_ERROR_CODES } from './errors.js';
import { APPLIANCE_ID_PATTERN, BASE64URL_PATTERN, fromBase64url, toBase64url } from './ids.js';
import { SALT_LENGTH, TRANSFER_ID_PATTERN } from './frame.js';

// ---- field types ----------------------------------------------------------

/**
 * A share, pool, task, snapshot or replica name. It becomes one path component on
 * the receiver, so the wire refuses what can never be one: empty, "." and "..",
 * "/", NUL and control characters (C0, DEL, C1), unpaired surrogates, a leading
 * "." (hidden, and Ferry's own working names) or "-" (read as an option by
 * btrfs-progs), white space at either end, and more than NAME_MAX_BYTES of UTF-8.
 * Any other Unicode is fine, as it is in src/domain/names.ts; each side still
 * applies its own, possibly shorter, per-kind limits.
 */
export const NAME_MAX_BYTES = 255;

export function isWireName(text: string): boolean {
  return (
    text.length > 0 &&
    !text.includes('/') &&
    !hasControl(text) &&
    !/\p{Cs}/u.test(text) &&
    !/^[.-]/.test(text) &&
    !/^\s|\s$/u.test(text) &&
    Buffer.byteLength(text, 'utf8') <= NAME_MAX_BYTES
  );
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

export const name = z.string().refine(isWireName, 'not an acceptable name');

/** A btrfs subvolume UUID, lowercase, as `btrfs subvolume show` prints it. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const uuid = z.string().regex(UUID_PATTERN, 'not a lowercase UUID');

export const applianceId = z.string().regex(APPLIANCE_ID_PATTERN, 'not an appliance id');
export const transferId = z.string().regex(TRANSFER_ID_PATTERN, 'not a transfer id');

/** base64url of exactly `length` bytes. */
export function bytesOf(length: number) {
  return z
    .string()
    .regex(BASE64URL_PATTERN)
    .refine((text) => fromBase64url(text)?.length === length, `must be ${length} bytes, base64url`);
}

export const publicKey = bytesOf(32);
export const unixSeconds = z.number().int().nonnegative();
/** The largest stream size an open may announce (1 PiB): a bound, so no announced size is absurd. */
export const MAX_SIZE_ESTIMATE = 2 ** 50;
/** An http(s) base URL where the appliance's peer API answers, without a trailing slash. */
export const address = z
  .string()
  .max(2048)
  .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*[^\s?#/])?$/, 'not an http(s) base URL without a trailing slash');

// ---- routes ----------------------------------------------------------------

export const routes = {
  /** Unsigned: who answers here and which version it speaks. */
  hello: { method: 'GET', path: `${API_PREFIX}/hello` },
  pairAccept: { method: 'POST', path: `${API_PREFIX}/pair/accept` },
  holdings: { method: 'POST', path: `${API_PREFIX}/holdings` },
  /** The health of a pool the receiver granted, as findings: the sender's task policy decides whether to hold. */
  poolHealth: { method: 'POST', path: `${API_PREFIX}/pool-health` },
  openTransfer: { method: 'POST', path: `${API_PREFIX}/transfers` },
  /** Body: the sealed stream; the signed digest is that of its stream header. Answers a Receipt. */
  uploadStream: { method: 'PUT', path: (id: string) => `${API_PREFIX}/transfers/${id}/stream` },
  /** Empty body; answers 204. The receiver deletes staging and frees the share lock. */
  abortTransfer: { method: 'DELETE', path: (id: string, reason?: AbortReason) => `${API_PREFIX}/transfers/${id}${reason === undefined ? '' : `?reason=${reason}`}` },
  /**
   * "Send me back a replica of what I sent you." Answers a RestorePlan at once;
   * the holder then opens a transfer on the asker (OpenTransferRequest with
   * the restoreId) and uploads the replica's stream, as any transfer.
   */
  restore: { method: 'POST', path: `${API_PREFIX}/restores` },
  /**
   * "Keep my sealed configuration export": the receiving side stores it as
   * it is (it cannot open it) under the signer's id, replacing the last one,
   * so that the configuration lives offsite with the data.
   */
  configBackup: { method: 'POST', path: `${API_PREFIX}/config-backup` },
  /**
   * "I removed you": the signer's admin ended the pairing. The receiving side
   * forgets the signer too (its tasks to it paused), so that neither lists a
   * pair only one of them still has. Answered before the signer forgets.
   */
  unpair: { method: 'POST', path: `${API_PREFIX}/unpair` },
} as const;

// ---- hello -----------------------------------------------------------------

export const Hello = z.strictObject({
  protocol: z.number().int().positive(),
  applianceId,
  name: z.string().min(1).max(128),
});
export type Hello = z.infer<typeof Hello>;

// ---- holdings ----------------------------------------------------------------

/**
 * "What do you hold of this share from me?" The sender is the signer; no peer can ask about another's replicas.
 * `shareUuid` is the share subvolume's UUID on the sender: the receiver answers only for the chain of that share.
 */
export const HoldingsRequest = z.strictObject({
  share: name,
  pool: name,
  shareUuid: uuid,
  /** The identity of the subvolume the share was made from (a restored or promoted share), else null. */
  shareOrigin: uuid.nullable(),
});
export type HoldingsRequest = z.infer<typeof HoldingsRequest>;

export const Replica = z.strictObject({ name, receivedUuid: uuid });
export type Replica = z.infer<typeof Replica>;

export const HoldingsResponse = z.strictObject({
  share: name,
  pool: name,
  /** Oldest first; a replica that is still in staging is not listed. */
  replicas: z.array(Replica).max(100_000),
});
export type HoldingsResponse = z.infer<typeof HoldingsResponse>;

// ---- pool health -------------------------------------------------------------------

export const PoolHealthRequest = z.strictObject({ pool: name });
export type PoolHealthRequest = z.infer<typeof PoolHealthRequest>;

export const HealthFinding = z.strictObject({
  severity: z.enum(['info', 'warning', 'critical']),
  /** A stable code such as POOL_DEGRADED, POOL_MISSING_DEVICE, POOL_READ_ONLY. */
  code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/),
  message: z.string().max(1000),
});
export type HealthFinding = z.infer<typeof HealthFinding>;

export const PoolHealthResponse = z.strictObject({ pool: name, findings: z.array(HealthFinding).max(64) });
export type PoolHealthResponse = z.infer<typeof PoolHealthResponse>;

// ---- transfers -------------------------------------------------------------------

export const OpenTransferRequest = z.strictObject({
  attemptId: uuid,
  task: name,
  share: name,
  /** The UUID of the subvolume the snapshot was taken of: the replica chain's identity on the receiver. */
  shareUuid: uuid,
  /**
   * The identity (received UUID, else UUID) of the subvolume the share was
   * made from, when it is a writable snapshot (a restored or promoted share);
   * else null. A chain follows its share to such a descendant of its own replica.
   */
  shareOrigin: uuid.nullable(),
  /** Set when this transfer answers a RestoreRequest of the receiving side: the restore it belongs to. */
  restoreId: uuid.optional(),
  pool: name,
  snapshot: name,
  snapshotUuid: uuid,
  /** The newest common snapshot: its source name and UUID (== the replica's received UUID); null for a full send. */
  parent: z.strictObject({ name, uuid }).nullable(),
  /** Bytes the sender expects to send, for the receiver's free-space check; null when unknown. At most 2^50 (1 PiB): no one stream is larger. */
  sizeEstimate: z.number().int().nonnegative().max(MAX_SIZE_ESTIMATE).nullable(),
  /** The task's keep-remote count: a request; the receiver prunes this share's replicas to it, or to its own floor if that is higher. */
  keepRemote: z.number().int().min(1).max(10_000).optional(),
});
export type OpenTransferRequest = z.infer<typeof OpenTransferRequest>;

export const OpenTransferResponse = z.strictObject({
  transferId,
  /** The stream header's salt: chosen by the receiver, so each key is fresh even if the sender's randomness is not. */
  salt: bytesOf(SALT_LENGTH),
  /** The upload must start before this time (unix seconds) or the transfer is dropped. */
  expiresAt: unixSeconds,
});
export type OpenTransferResponse = z.infer<typeof OpenTransferResponse>;

/**
 * The answer to a stream upload, sent only after the final chunk verified, btrfs
 * receive exited 0, and the received subvolume is read-only with received UUID ==
 * the announced snapshot UUID and has been moved into the replica directory.
 */
export const Receipt = z.strictObject({
  transferId,
  attemptId: uuid,
  snapshot: name,
  receivedUuid: uuid,
  /** Plaintext bytes received (the btrfs send stream). */
  bytes: z.number().int().nonnegative(),
  /** Where the replica now lives on the receiver, for the sender's trail. */
  replicaPath: z.string().min(1).max(4096),
  /** What the receiver's retention kept and deleted after the commit, and why; null when it deleted nothing. */
  retention: z.string().max(4096).nullable(),
});
export type Receipt = z.infer<typeof Receipt>;

// ---- restore -------------------------------------------------------------------

/** How many snapshot identities a RestoreRequest may carry: well inside the JSON body limit. */
export const RESTORE_HAVE_LIMIT = 1000;

/** Sent by the appliance that sent a share, to the one holding its replicas. */
export const RestoreRequest = z.strictObject({
  restoreId: uuid,
  share: name,
  /** The holder's pool; null: the one pool holding the share (an asker with no task for the share does not know it). */
  pool: name.nullable(),
  /** The replica wanted; the newest when null. */
  snapshot: name.nullable(),
  /** Identities (received UUID, else UUID) of the snapshots the asker still holds (its newest ones): a parent for an incremental stream. */
  have: z.array(uuid).max(RESTORE_HAVE_LIMIT),
});
export type RestoreRequest = z.infer<typeof RestoreRequest>;

export const RestorePlan = z.strictObject({
  restoreId: uuid,
  /** The pool the replica is in (the one asked for, or the one found); absent from an older holder, which needs one asked for. */
  pool: name.optional(),
  snapshot: name,
  /** The replica's identity: its received UUID, the UUID the stream will carry. */
  snapshotUuid: uuid,
  /** The parent of the incremental stream (one of `have`), or null for a full one. */
  parent: z.strictObject({ name, uuid }).nullable(),
  /** False when the asker holds the snapshot itself (its identity is in `have`): nothing is sent. */
  sending: z.boolean(),
});
export type RestorePlan = z.infer<typeof RestorePlan>;

// ---- unpairing -------------------------------------------------------------------

export const UnpairRequest = z.strictObject({});
export type UnpairRequest = z.infer<typeof UnpairRequest>;

/** How many of the answering side's tasks to the signer were paused with the pairing's end. */
export const UnpairResponse = z.strictObject({ tasksPaused: z.number().int().nonnegative() });
export type UnpairResponse = z.infer<typeof UnpairResponse>;

// ---- configuration backup ------------------------------------------------------

/** The body limit of the config-backup route (other JSON bodies stay at 64 KiB). */
/** Why a sender drops a transfer, when it is not a failure: its admin cancelled the run. */
/**
 * Why a sender drops a transfer it opened: `cancelled` (its admin cancelled),
 * `replica-changed` (a restore's holder found the replica was no longer the
 * subvolume it planned, and sent nothing). Without one: a failure or a stop.
 */
export const AbortReason = z.enum(['cancelled', 'replica-changed']);
export type AbortReason = z.infer<typeof AbortReason>;
/** The query of `DELETE /transfers/{id}`: without a reason, the transfer was aborted (a failure or a stop on the sender). */
export const AbortQuery = z.strictObject({ reason: AbortReason.optional() });

export const CONFIG_BACKUP_LIMIT = 1 << 20;

/** A sealed export (`ferry config export`), as text: opaque to the receiving side. */
export const ConfigBackupRequest = z.strictObject({ sealed: z.string().min(1).max(CONFIG_BACKUP_LIMIT - 4096) });
export type ConfigBackupRequest = z.infer<typeof ConfigBackupRequest>;

export const ConfigBackupResponse = z.strictObject({ bytes: z.number().int().nonnegative(), storedAt: z.string() });
export type ConfigBackupResponse = z.infer<typeof ConfigBackupResponse>;

// ---- pairing ----------------------------------------------------------------

export const INVITE_PREFIX = 'ferry-invite-v1:';
export const PAIRING_PROOF_PREFIX = 'ferry-pair-v1';

/** What one side prints: everything the other needs to reach it, trust it, and prove it saw the invite. */
export const Invite = z.strictObject({
  protocol: z.literal(PROTOCOL_VERSION),
  address,
  applianceId,
  name: z.string().min(1).max(128),
  signingPublicKey: publicKey,
  boxPublicKey: publicKey,
  /** Names the invite on the inviter, so it can find the secret; public. */
  inviteId: z.string().regex(/^[A-Za-z0-9_-]{8,32}$/),
  /** Single-use, 32 bytes; never sent back, only used as the HMAC key of the proof. */
  secret: bytesOf(32),
  expiresAt: unixSeconds,
});
export type Invite = z.infer<typeof Invite>;

/**
 * Sent by the accepting side to the inviter's address, signed with the accepter's
 * key (the signing headers as usual; the inviter verifies with the key in the body).
 */
export const PairAcceptRequest = z.strictObject({
  inviteId: z.string().regex(/^[A-Za-z0-9_-]{8,32}$/),
  applianceId,
  name: z.string().min(1).max(128),
  address,
  signingPublicKey: publicKey,
  boxPublicKey: publicKey,
  /** base64url HMAC-SHA256(invite secret, pairingProofString(...)). */
  proof: bytesOf(32),
});
export type PairAcceptRequest = z.infer<typeof PairAcceptRequest>;

/** The inviter's answer, signed as a response; the accepter checks it against the invite. */
export const PairAcceptResponse = z.strictObject({
  applianceId,
  name: z.string().min(1).max(128),
  signingPublicKey: publicKey,
  boxPublicKey: publicKey,
});
export type PairAcceptResponse = z.infer<typeof PairAcceptResponse>;

export function encodeInvite(invite: Invite): string {
  return INVITE_PREFIX + Buffer.from(JSON.stringify(Invite.parse(invite)), 'utf8').toString('base64url');
}

/** Parses a pasted invite line; whitespace around it is forgiven, anything else is not. */
export function decodeInvite(line: string): Invite {
  const text = line.trim();
  if (!text.startsWith(INVITE_PREFIX)) throw new Error(`an invite starts with ${INVITE_PREFIX}`);
  const bytes = fromBase64url(text.slice(INVITE_PREFIX.length));
  if (!bytes) throw new Error('the invite is not valid base64url');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Error('the invite is not valid JSON');
  }
  const parsed = Invite.safeParse(json);
  if (!parsed.success) {
    // One sentence, not zod's list of issues: the first says enough (a cut or altered invite).
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? `its field ${issue.path.join('.')} ` : '';
    throw new Error(`the invite does not hold what an invite holds: ${field}${issue?.message ?? 'is malformed'} (copy the whole line 'ferry pair invite' printed)`);
  }
  return parsed.data;
}

/**
 * The string the proof is computed over: lines joined by "\n":
 *   ferry-pair-v1, inviteId, inviter id, accepter id, accepter signing key, accepter box key.
 * Binding the accepter's keys means a captured proof cannot pair another key.
 */
export function pairingProofString(input: {
  inviteId: string;
  inviterId: string;
  accepterId: string;
  accepterSigningPublicKey: string;
  accepterBoxPublicKey: string;
}): string {
  return [
    PAIRING_PROOF_PREFIX,
    input.inviteId,
    input.inviterId,
    input.accepterId,
    input.accepterSigningPublicKey,
    input.accepterBoxPublicKey,
  ].join('\n');
}

export function pairingProof(secret: Uint8Array, proofString: string): string {
  return toBase64url(createHmac('sha256', secret).update(proofString, 'utf8').digest());
}

/** Constant-time check of a received proof, so its bytes cannot be guessed one by one from timing. */
export function verifyPairingProof(secret: Uint8Array, proofString: string, proof: string): boolean {
  const expected = Buffer.from(pairingProof(secret, proofString), 'base64url');
  const given = fromBase64url(proof);
  return given !== null && given.length === expected.length && timingSafeEqual(given, expected);
}

// ---- errors -----------------------------------------------------------------

/** The body of every non-2xx answer. */
export const ErrorBody = z.strictObject({
  code: z.enum(WIRE_ERROR_CODES),
  message: z.string().max(4096),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
