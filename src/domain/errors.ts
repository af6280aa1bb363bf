// The one catalogue of Ferry's error codes. Codes are stable: scripts, trails
// and the UI key on them, so a code is never renamed or reused for another
// meaning. Each code also says what to do about it: `transient` errors are
// retried within a run with backoff, `permanent` ones stop the run. Transient
// means another try in a few seconds can succeed on its own: the peer came
// back, a cut stream is sent again, a busy share is free, a restarted
// receiver answers again. A full pool, a disabled service, an ungranted pool,
// a refused stream, bad input and a pool held by the task's health policy
// stay as they are until an admin acts, so they fail the run at once; the
// next scheduled run tries again.

export type ErrorClass = 'transient' | 'permanent';

interface CodeInfo {
  readonly class: ErrorClass;
  readonly summary: string;
}

export const errorCatalogue = {
  // input
  INVALID_NAME: { class: 'permanent', summary: 'a name is not acceptable' },
  INVALID_INPUT: { class: 'permanent', summary: 'the input failed validation' },
  NOT_FOUND: { class: 'permanent', summary: 'the named thing does not exist' },
  ALREADY_EXISTS: { class: 'permanent', summary: 'the named thing exists already' },
  // the admin's own access (admin API token, web UI login)
  UNAUTHORIZED: { class: 'permanent', summary: 'the admin API needs its token, or a signed-in web UI session' },
  LOGIN_REQUIRED: { class: 'permanent', summary: 'the web UI session is missing or has ended: sign in again' },
  NO_PASSWORD: { class: 'permanent', summary: "no web UI password is set: run 'ferry admin password' on the appliance" },
  WRONG_PASSWORD: { class: 'permanent', summary: 'the web UI password is wrong' },
  CSRF_REQUIRED: { class: 'permanent', summary: "a change from the web UI lacked its session's CSRF token or came from another site" },
  RATE_LIMITED: { class: 'permanent', summary: 'too many sign-in attempts: wait a minute' },
  UNKNOWN_HOST: { class: 'permanent', summary: 'the request named a host this listener does not answer to (a guard against DNS rebinding): use the address the appliance gave' },
  WRONG_PASSPHRASE: { class: 'permanent', summary: 'the passphrase does not open the sealed configuration export' },
  // btrfs
  BTRFS_MISSING: { class: 'permanent', summary: 'btrfs-progs is not installed' },
  BTRFS_COMMAND_FAILED: { class: 'permanent', summary: 'a btrfs command failed' },
  NOT_BTRFS: { class: 'permanent', summary: 'the path is not on a btrfs filesystem' },
  NOT_A_SUBVOLUME: { class: 'permanent', summary: 'the path is not a btrfs subvolume' },
  SHARE_MISSING: { class: 'permanent', summary: 'the share to replicate does not exist' },
  SNAPSHOT_FAILED: { class: 'transient', summary: 'taking the read-only snapshot failed' },
  SEND_FAILED: { class: 'transient', summary: 'btrfs send failed' },
  RECEIVE_FAILED: { class: 'transient', summary: 'btrfs receive failed' },
  NO_SPACE: { class: 'permanent', summary: 'the target pool ran out of space' },
  RECEIVED_MISMATCH: { class: 'permanent', summary: 'the received subvolume is not the announced snapshot' },
  REPLICA_CHANGED: { class: 'permanent', summary: 'a replica to send is no longer the planned subvolume (a link in its path, another UUID): nothing was sent' },
  STREAM_REFUSED: {
    class: 'permanent',
    summary: 'the send stream breaks the receiver\'s rules: a clone from outside its chain, an absolute or ".." path, a second subvolume, bytes after the end, an unknown command or a malformed attribute',
  },
  UUID_CONFLICT: { class: 'permanent', summary: 'a UUID in the transfer names another subvolume on the receiving pool, so btrfs receive could resolve it to data of another share or peer' },
  // replication
  PARENT_MISSING: { class: 'permanent', summary: 'the receiver does not hold the announced parent' },
  SHARE_BUSY: { class: 'transient', summary: 'another transfer of this share is running' },
  PEER_BUSY: { class: 'transient', summary: 'the sending peer has as many transfers open on the receiver as it may: later ones wait their turn' },
  TRANSFER_DEADLINE: { class: 'transient', summary: 'the transfer ran past the deadline the receiver set from its announced size' },
  TASK_BUSY: { class: 'transient', summary: 'a run of this task is already under way' },
  POOL_NOT_GRANTED: { class: 'permanent', summary: 'the pool is not granted to this peer on the receiver' },
  SHARE_MISMATCH: { class: 'permanent', summary: 'the replica chain on the receiver belongs to another source share' },
  QUOTA_EXCEEDED: { class: 'permanent', summary: "the transfer would pass the peer's quota on the receiving pool" },
  ABORTED: { class: 'transient', summary: 'the attempt was aborted' },
  CANCELLED: { class: 'permanent', summary: 'an admin cancelled the run (ferry task cancel)' },
  INTERRUPTED: { class: 'transient', summary: 'the attempt was interrupted by a stop or crash' },
  INTERNAL: { class: 'permanent', summary: 'an unexpected internal error' },
  LISTEN_FAILED: { class: 'permanent', summary: 'the daemon could not listen on an address it was configured with' },
  DATABASE_DAMAGED: { class: 'permanent', summary: 'the state dir\'s database is damaged: move it aside and import the appliance\'s export' },
  DAEMON_RUNNING: { class: 'permanent', summary: "another 'ferry serve' is running on this state dir" },
  // peers, keys and sealed streams
  BAD_KEY: { class: 'permanent', summary: 'a key or identity file is malformed or unusable' },
  BAD_STREAM: { class: 'transient', summary: 'a sealed stream failed to open: tampered, truncated, reordered or spliced' },
  NOT_PAIRED: { class: 'permanent', summary: 'the other appliance is not a paired peer' },
  BAD_SIGNATURE: { class: 'permanent', summary: 'a signature does not verify with the peer key' },
  STALE_TIME: { class: 'permanent', summary: 'a signed time is too far from this clock' },
  REPLAYED_NONCE: { class: 'transient', summary: 'a signed request reused a nonce' },
  WRONG_AUDIENCE: { class: 'permanent', summary: 'a request was signed for another appliance' },
  UNSUPPORTED_VERSION: { class: 'permanent', summary: 'the peer speaks another protocol version' },
  DIGEST_MISMATCH: { class: 'transient', summary: 'a body does not match its signed digest' },
  INVITE_INVALID: { class: 'permanent', summary: 'the invite is unknown, used, expired or its proof is wrong' },
  TRANSFER_NOT_FOUND: { class: 'permanent', summary: 'no open transfer has this id' },
  PEER_UNREACHABLE: { class: 'transient', summary: 'the peer could not be reached, or the connection broke' },
  SERVICE_DISABLED: { class: 'permanent', summary: 'the replication service is disabled on the appliance' },
  // pool health
  POOL_UNHEALTHY: { class: 'permanent', summary: "a run was held: a pool is read-only, or degraded and the task's policy says hold" },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof errorCatalogue;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCatalogue, value);
}

/** Every refusal and failure Ferry reports carries one of the catalogue's codes. */
/**
 * Marks FerryErrors by a registry symbol, not by class identity: the `ferry`
 * command is one bundled file that loads the daemon's compiled modules for
 * `serve`, `init` and `config` (tools/bundle-cli.js), so a FerryError may come
 * from the other copy of this module and must still be recognised.
 */
const FERRY_ERROR = Symbol.for('ferry.error');

export class FerryError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep the ordinary prototype check.
    if (this !== FerryError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[FERRY_ERROR] === true;
  }

  readonly [FERRY_ERROR] = true;
  readonly code: ErrorCode;
  /** Extra text that explains the failure, such as a command's stderr. */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; detail?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FerryError';
    this.code = code;
    this.detail = options.detail;
  }

  get errorClass(): ErrorClass {
    return errorCatalogue[this.code].class;
  }
}

/** Any thrown value as a FerryError, keeping the code when it has one. */
export function toFerryError(err: unknown): FerryError {
  if (err instanceof FerryError) return err;
  if (err instanceof Error && err.name === 'AbortError') {
    return new FerryError('ABORTED', 'the attempt was aborted', { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new FerryError('INTERNAL', message, { cause: err });
}

/** Text for a trail's `error` field: the message, then the detail that explains it. */
export function describeError(err: FerryError): string {
  return err.detail ? `${err.message}\n${err.detail}` : err.message;
}
