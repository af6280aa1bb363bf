// Restores, both ends of them as the receiver layer sees them.
//
// A restore is a transfer in the other direction: the appliance that sent a
// share (the asker) asks the one holding its replicas (the holder) for one of
// them back; the holder answers with a plan at once and then opens an
// ordinary transfer on the asker, carrying the restore's id, and streams the
// replica through the same signed, sealed path as any replica (proto:
// routes.restore).
//
// On the holder, planRestore picks the replica, and the parent for an
// incremental stream: the newest older replica whose identity the asker
// still holds. Only the signer's own chains are ever read, so a peer can
// restore only what it sent itself.
//
// On the asker, the RestoreInbox holds what was asked: an open with a
// restoreId is taken only when this appliance asked that peer for it, for
// that share, with a parent among the snapshots it said it holds. The
// replica is received into the task's own snapshot directory, where it
// becomes a snapshot like any other and the next run's incremental parent.

import path from 'node:path';
import type { ChainReplica } from '../domain/chain.js';
import { FerryError } from '../domain/errors.js';
import { isSnapshotName } from '../domain/names.js';
import type { RestorePlan, RestoreQuery, TransferRequest } from '../domain/transfer.js';

/** What the asker expects: set before the request leaves, since the holder's open may arrive before its answer. */
export interface RestoreExpectation {
  readonly restoreId: string;
  readonly peer: string;
  /** The pool on the holder (null: the one the holder finds the share in), and the share's name there. */
  readonly pool: string | null;
  readonly share: string;
  /** The replica asked for; any when null (the holder sends its newest). */
  readonly snapshot: string | null;
  /** The local task the restore belongs to: its trail entry names it. */
  readonly task: string;
  /** Where the replica is received and committed: the task's snapshot directory. */
  readonly dir: string;
  /** Identity -> name of each snapshot held in `dir`: the parents a stream may name. */
  readonly have: ReadonlyMap<string, string>;
  /** Bytes received so far, as they arrive. */
  readonly onProgress?: (bytes: number) => void;
}

/** A restored snapshot, committed read-only in the task's snapshot directory. */
export interface RestoreArrival {
  readonly restoreId: string;
  readonly attemptId: string;
  readonly snapshot: string;
  readonly path: string;
  readonly receivedUuid: string;
  readonly parent: string | null;
  readonly bytes: number;
}

interface Waiting {
  readonly expectation: RestoreExpectation;
  readonly resolve: (arrival: RestoreArrival) => void;
  readonly reject: (err: FerryError) => void;
  timer: NodeJS.Timeout | null;
  opened: boolean;
  /** How long the holder's transfer may take to open (again); set when the holder agreed. */
  waitMs: number | null;
}

export class RestoreInbox {
  readonly #waiting = new Map<string, Waiting>();

  /**
   * Registers a restore about to be asked for. The promise settles when its
   * replica is committed, when its transfer fails, or when no transfer came
   * within `waitMs` of `started()`.
   */
  expect(expectation: RestoreExpectation): Promise<RestoreArrival> {
    return new Promise<RestoreArrival>((resolve, reject) => {
      this.#waiting.set(expectation.restoreId, { expectation, resolve, reject, timer: null, opened: false, waitMs: null });
    });
  }

  /** The holder answered: from now its transfer has `waitMs` to open. */
  started(restoreId: string, waitMs: number): void {
    const waiting = this.#waiting.get(restoreId);
    if (!waiting) return;
    waiting.waitMs = waitMs;
    if (waiting.opened) return;
    this.#wait(
      waiting,
      () =>
        new FerryError(
          'PEER_UNREACHABLE',
          `peer ${waiting.expectation.peer} accepted the restore but its transfer did not arrive within ${Math.round(waitMs / 1000)} s: can it reach this appliance's peer address?`,
        ),
    );
  }

  #wait(waiting: Waiting, why: () => FerryError): void {
    if (waiting.timer) clearTimeout(waiting.timer);
    waiting.timer = setTimeout(() => this.fail(waiting.expectation.restoreId, why()), waiting.waitMs ?? 0);
    waiting.timer.unref();
  }

  /**
   * The restore's transfer failed. When the failure is one the holder tries
   * again after (a cut link, a stall: transient), the restore waits for its
   * next open as long as for the first; otherwise, or when none comes, it fails.
   */
  interrupted(restoreId: string, err: FerryError): void {
    const waiting = this.#waiting.get(restoreId);
    if (!waiting) return;
    if (err.errorClass !== 'transient' || waiting.waitMs === null) return this.fail(restoreId, err);
    waiting.opened = false;
    const seconds = Math.round(waiting.waitMs / 1000);
    this.#wait(waiting, () => new FerryError(err.code, `the restore's transfer failed and peer ${waiting.expectation.peer} did not try again within ${seconds} s: ${err.message}`));
  }

  /** Takes an open that carries a restore id; NOT_FOUND unless this appliance asked that peer for it. */
  claim(peer: string, request: TransferRequest): RestoreExpectation {
    const waiting = request.restoreId === undefined ? undefined : this.#waiting.get(request.restoreId);
    if (!waiting || waiting.expectation.peer !== peer) {
      throw new FerryError('NOT_FOUND', 'this appliance asked you for no such restore');
    }
    if (waiting.opened) throw new FerryError('SHARE_BUSY', 'the transfer of this restore is already open');
    const exp = waiting.expectation;
    try {
      checkRestoreOpen(exp, request);
    } catch (err) {
      this.fail(exp.restoreId, err as FerryError);
      throw err;
    }
    waiting.opened = true;
    if (waiting.timer) clearTimeout(waiting.timer);
    return exp;
  }

  arrived(arrival: RestoreArrival): void {
    const waiting = this.#waiting.get(arrival.restoreId);
    if (!waiting) return;
    this.#settle(arrival.restoreId);
    waiting.resolve(arrival);
  }

  fail(restoreId: string, err: FerryError): void {
    const waiting = this.#waiting.get(restoreId);
    if (!waiting) return;
    this.#settle(restoreId);
    waiting.reject(err);
  }

  #settle(restoreId: string): void {
    const waiting = this.#waiting.get(restoreId);
    if (waiting?.timer) clearTimeout(waiting.timer);
    this.#waiting.delete(restoreId);
  }
}

/** The open must be the restore that was asked: its share and pool, the snapshot asked for, a parent the asker holds. */
function checkRestoreOpen(exp: RestoreExpectation, request: TransferRequest): void {
  if (request.share !== exp.share || (exp.pool !== null && request.pool !== exp.pool)) {
    throw new FerryError('INVALID_INPUT', `the restore asked for share '${exp.share}'${exp.pool === null ? '' : ` of pool '${exp.pool}'`}, but the transfer is of '${request.share}' of '${request.pool}'`);
  }
  if (!isSnapshotName(request.snapshot)) throw new FerryError('INVALID_NAME', `'${request.snapshot}' is not a snapshot name`);
  if (exp.snapshot !== null && request.snapshot !== exp.snapshot) {
    throw new FerryError('INVALID_INPUT', `the restore asked for replica '${exp.snapshot}', but the transfer is of '${request.snapshot}'`);
  }
  if (exp.have.has(request.snapshotUuid) || [...exp.have.values()].includes(request.snapshot)) {
    throw new FerryError('ALREADY_EXISTS', `snapshot '${request.snapshot}' is here already, in ${exp.dir}`);
  }
  if (request.parent) {
    // By identity: that is how btrfs receive finds the parent.
    if (!exp.have.has(request.parent.uuid)) {
      throw new FerryError('PARENT_MISSING', `the restore's parent '${request.parent.name}' is not one of the snapshots this appliance said it holds`);
    }
  }
}

/** What the holder sends for a restore, and from where. */
export interface RestoreSource {
  readonly plan: RestorePlan;
  /** The holder's pool the replica is in. */
  readonly pool: string;
  readonly replicaPath: string;
  readonly parentPath: string | null;
  /** The replica's and the parent's own UUIDs, as the chain recorded them: what the paths must still name when the send starts. */
  readonly replicaUuid: string;
  readonly parentUuid: string | null;
  /** The chain's source share UUID, which the transfer names as its share. */
  readonly sourceUuid: string;
  readonly bytes: number;
}

/** On the holder: the replica asked for (the newest by default) and the newest older one the asker holds, as parent. */
export function planRestore(query: RestoreQuery & { readonly pool: string }, replicas: readonly ChainReplica[], dir: string, sourceUuid: string): RestoreSource {
  const names = replicas.map((r) => r.name).join(', ') || 'none';
  if (replicas.length === 0) throw new FerryError('NOT_FOUND', `this appliance holds no replica of share '${query.share}' from you in pool '${query.pool}'`);
  if (query.snapshot !== null && !isSnapshotName(query.snapshot)) {
    throw new FerryError('INVALID_NAME', `'${query.snapshot}' is not a snapshot name; replicas of '${query.share}' held: ${names}`);
  }
  const index = query.snapshot === null ? replicas.length - 1 : replicas.findIndex((r) => r.name === query.snapshot);
  const replica = replicas[index];
  if (!replica) throw new FerryError('NOT_FOUND', `no replica '${query.snapshot}' of '${query.share}' is held here; there are: ${names}`);
  const have = new Set(query.have);
  const sending = !have.has(replica.receivedUuid);
  const parent = sending ? (replicas.slice(0, index).reverse().find((r) => have.has(r.receivedUuid)) ?? null) : null;
  return {
    plan: {
      restoreId: query.restoreId,
      pool: query.pool,
      snapshot: replica.name,
      snapshotUuid: replica.receivedUuid,
      parent: parent ? { name: parent.name, uuid: parent.receivedUuid } : null,
      sending,
    },
    pool: query.pool,
    replicaPath: path.join(dir, replica.name),
    parentPath: parent ? path.join(dir, parent.name) : null,
    replicaUuid: replica.uuid,
    parentUuid: parent?.uuid ?? null,
    sourceUuid,
    bytes: replica.bytes,
  };
}
