// `ferry restore`, both ends of it (the receiver layer's half is in
// src/receiver/restores.ts).
//
// The asker (the appliance that sent the share) checks everything it can
// before anything travels: the peer, the task that sent the share, the
// snapshot name, the target path. It registers what it expects with its
// receiver, asks the holder, and once the holder agreed follows the transfer
// to its end; then it makes the writable share, a writable snapshot of the
// restored read-only one, which stays in the task's snapshot directory as the
// common parent for the next incremental run.
//
// The holder plans (from the asker's own chains only), answers at once, and
// then sends the replica back as a transfer of its own: open with the
// restore's id, `btrfs send [-p parent]` of its replicas, sealed and signed
// like any replica stream, through the same carriage as a run's attempts
// (src/replication/transfer.ts) and retried as they are: a cut link costs a
// try, and the asker waits for the next one. Both sides keep a trail entry of
// kind 'restore' per try.
//
// Over 300 lines because both ends of a restore's exchange read best in one
// place, with the checks the asker makes before anything travels.

import { mkdir, lstat, readdir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { RESTORE_HAVE_LIMIT } from '../../proto/messages.js';
import type { RestoreView } from '../api/schemas.js';
import type { Btrfs } from '../btrfs/index.js';
import { FerryError, describeError, toFerryError } from '../domain/errors.js';
import { endStatusOf } from '../domain/trail.js';
import { isSnapshotName } from '../domain/names.js';
import type { Task } from '../domain/task.js';
import type { RestorePlan, RestoreQuery, TransferRequest } from '../domain/transfer.js';
import type { Logger } from '../log/logger.js';
import type { PeerClient } from '../peer/index.js';
import type { Receiver } from '../receiver/receiver.js';
import { discardIncoming, isIncomingName } from '../receiver/jail.js';
import type { RestoreArrival } from '../receiver/restores.js';
import type { Sender } from '../sender/sender.js';
import { restoredSnapshotDir, taskSnapshotDir } from '../sender/paths.js';
import type { Peer, Store } from '../store/index.js';
import { carry } from '../replication/transfer.js';
import { defaultRetryPolicy, retrying, type RetryPolicy } from '../replication/retry-policy.js';
import { ByteCounter } from '../util/bytes.js';
import type { Readable } from 'node:stream';

export interface RestoreInput {
  readonly share: string;
  /** The peer holding the replicas, by id or name. */
  readonly from: string;
  readonly pool?: string | undefined;
  readonly snapshot?: string | undefined;
  readonly to: string;
}

export interface RestoreDeps {
  readonly store: Store;
  readonly btrfs: Btrfs;
  readonly receiver: Receiver;
  readonly sender: Sender;
  readonly clientFor: (peer: Peer) => PeerClient;
  readonly isRunning: (task: string) => boolean;
  readonly logger: Logger;
  readonly stopping: AbortSignal;
  /** How long the holder's transfer may take to open once it agreed, and to open again after a try failed. */
  readonly openWaitMs?: number;
  /** How often the holder tries to send a restore; a run's default when absent. */
  readonly retry?: RetryPolicy;
}

const KEEP = 100;

/**
 * Where a restore lands on the asker: the task's snapshot directory, or with
 * no task, `.ferry-snapshots/<share>/.restored` beside the target.
 */
interface Home {
  readonly task: Task | null;
  /** The peer's id. */
  readonly peer: string;
  readonly share: string;
  /** The holder's pool, when known before asking (the task's, or --pool). */
  readonly pool: string | null;
  readonly dir: string;
  /** What the asker's receive trail names as the entry's task. */
  readonly trailTask: string;
}

/** A home once the holder said which pool the replica comes from. */
interface Landed extends Home {
  readonly pool: string;
}

export class Restores {
  readonly #views = new Map<string, RestoreView>();
  readonly #sending = new Set<Promise<void>>();

  constructor(private readonly d: RestoreDeps) {}

  get(id: string): RestoreView {
    const view = this.#views.get(id);
    if (!view) throw new FerryError('NOT_FOUND', `no restore '${id.slice(0, 64)}' (restores are followed only while the daemon runs; see 'ferry trail receive')`);
    return view;
  }

  /** Sends still under way on the holder, for a clean stop. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#sending]);
  }

  // ---- the asker ---------------------------------------------------------------

  /** Everything checked and the holder agreed: the view of a restore under way (or done, when nothing had to travel). */
  async start(input: RestoreInput): Promise<RestoreView> {
    const peer = this.d.store.peers.need(input.from);
    const task = this.#task(input, peer);
    if (input.snapshot !== undefined && !isSnapshotName(input.snapshot)) {
      throw new FerryError('INVALID_NAME', `'${input.snapshot}' is not a snapshot name (they look like 2026-11-29T23-00-00Z; see 'ferry replica list' on ${peer.name})`);
    }
    const to = await this.#checkTarget(input.to, task);
    if (task && this.d.isRunning(task.name)) throw new FerryError('TASK_BUSY', `task '${task.name}' is running: restore once its run ended`);
    const home: Home = task
      ? { task, peer: peer.id, share: task.share, pool: task.pool, dir: taskSnapshotDir(task), trailTask: task.name }
      : { task: null, peer: peer.id, share: input.share, pool: input.pool ?? null, dir: restoredSnapshotDir(to, input.share), trailTask: input.share };
    const { dir } = home;
    // Before asking: the holder's transfer may open before its answer is read here.
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    await this.#dropStaging(dir);
    // The newest ones (oldest first), as many as a request may carry.
    const have = new Map((await this.#held(home)).slice(-RESTORE_HAVE_LIMIT).map((s) => [s.uuid, s.name]));
    const restoreId = randomUUID();
    const startedAt = new Date().toISOString();
    let view: RestoreView = {
      id: restoreId,
      share: home.share,
      peer: peer.name,
      pool: home.pool ?? '',
      snapshot: input.snapshot ?? '',
      parent: null,
      mode: 'full',
      state: 'running',
      bytes: 0,
      path: to,
      startedAt,
      endedAt: null,
      errorCode: null,
      error: null,
    };
    const arrival = this.d.receiver.expectRestore({
      restoreId,
      peer: peer.id,
      pool: home.pool,
      share: home.share,
      snapshot: input.snapshot ?? null,
      task: home.trailTask,
      dir,
      have,
      onProgress: (bytes) => this.#update(restoreId, { bytes }),
    });
    arrival.catch(() => undefined);
    const query: RestoreQuery = { restoreId, share: home.share, pool: home.pool, snapshot: input.snapshot ?? null, have: [...have.keys()] };
    let plan: RestorePlan;
    try {
      plan = await this.d.clientFor(peer).restore(query, this.d.stopping);
    } catch (thrown) {
      const err = toFerryError(thrown);
      this.d.receiver.cancelRestore(restoreId, err);
      if (created !== undefined) await removeMade(dir, created);
      throw err;
    }
    const local = plan.sending ? null : (have.get(plan.snapshotUuid) ?? null);
    const landed: Landed = { ...home, pool: plan.pool ?? home.pool ?? '' };
    view = { ...view, pool: landed.pool, snapshot: plan.snapshot, parent: plan.parent?.name ?? null, mode: local !== null ? 'local' : plan.parent ? 'incremental' : 'full' };
    this.#views.set(restoreId, view);
    this.#trim();
    if (local !== null) {
      this.d.receiver.cancelRestore(restoreId, new FerryError('ABORTED', 'nothing to send: the snapshot is here'));
      await this.#finish(restoreId, landed, to, path.join(dir, local), plan, async () => {
        this.#localTrail(restoreId, landed, peer, plan, to, startedAt);
        return Promise.resolve();
      });
      return this.get(restoreId);
    }
    this.d.receiver.restoreStarted(restoreId, this.d.openWaitMs ?? 60_000);
    void arrival.then(
      (arrived: RestoreArrival) => this.#finish(restoreId, landed, to, arrived.path, plan, () => Promise.resolve(), arrived.bytes),
      (err: unknown) => this.#failed(restoreId, toFerryError(err)),
    );
    return this.get(restoreId);
  }

  /** The restored snapshot is here: the writable share is a snapshot of it, never the received subvolume made writable. */
  async #finish(id: string, landed: Landed, to: string, snapshotPath: string, plan: RestorePlan, record: () => Promise<void>, bytes = 0): Promise<void> {
    const { task } = landed;
    try {
      await this.d.btrfs.snapshot(snapshotPath, to, { readOnly: false });
      const info = await this.d.btrfs.show(to);
      this.d.store.copies.add({
        path: to,
        uuid: info.uuid,
        kind: 'restore',
        peer: landed.peer,
        pool: landed.pool,
        share: landed.share,
        snapshot: plan.snapshot,
        basePath: snapshotPath,
        baseIdentity: plan.snapshotUuid,
        createdAt: new Date().toISOString(),
      });
      // Restored in place: the task goes on with the new subvolume, which the peer's chain follows (its origin is the chain's replica).
      if (task && path.resolve(task.sharePath) === to) this.d.store.tasks.setShareUuid(task.name, info.uuid);
      await record();
      this.#update(id, { state: 'succeeded', bytes, endedAt: new Date().toISOString() });
      this.d.logger.info('share restored', { restoreId: id, task: task?.name ?? null, snapshot: plan.snapshot, to, bytes });
    } catch (thrown) {
      this.#failed(id, toFerryError(thrown));
    }
  }

  #failed(id: string, err: FerryError): void {
    this.#update(id, { state: 'failed', endedAt: new Date().toISOString(), errorCode: err.code, error: err.message });
    this.d.logger.warn('restore failed', { restoreId: id, code: err.code, error: err.message });
  }

  #update(id: string, change: Partial<RestoreView>): void {
    const view = this.#views.get(id);
    if (view) this.#views.set(id, { ...view, ...change });
  }

  #trim(): void {
    for (const id of this.#views.keys()) {
      if (this.#views.size <= KEEP) break;
      if (this.#views.get(id)?.state !== 'running') this.#views.delete(id);
    }
  }

  /** Nothing travelled: the trail still says what was restored, from where. */
  #localTrail(id: string, landed: Landed, peer: Peer, plan: RestorePlan, to: string, startedAt: string): void {
    this.d.store.receiveTrail.start({ id, kind: 'restore', task: landed.trailTask, share: landed.share, snapshot: plan.snapshot, parent: null, mode: null, peer: peer.id, pool: landed.pool, reason: `restore ${id}: the snapshot was still here, nothing travelled; to ${to}`, startedAt });
    this.d.store.receiveTrail.finish(id, { status: 'succeeded', endedAt: new Date().toISOString(), bytes: 0, errorCode: null, error: null, replicaPath: to });
  }

  /**
   * The task that sends the share to the peer: its snapshot directory receives
   * the restore. Null when none does (removed, or this appliance was rebuilt):
   * any replica the peer holds of this appliance's can still come back.
   */
  #task(input: RestoreInput, peer: Peer): Task | null {
    const tasks = this.d.store.tasks.list().filter((t) => t.peer === peer.id && t.share === input.share && (input.pool === undefined || t.pool === input.pool));
    if (tasks.length > 1) throw new FerryError('INVALID_INPUT', `share '${input.share}' goes to ${peer.name} into pools ${tasks.map((t) => `'${t.pool}'`).join(' and ')}: say which with --pool`);
    return tasks[0] ?? null;
  }

  /** The snapshots the restore may build on, by identity: the task's, or those of earlier restores into the same directory. */
  async #held(home: Home): Promise<{ readonly uuid: string; readonly name: string }[]> {
    if (home.task) return (await this.d.sender.listSnapshots(home.task)).filter((s) => s.basePath === undefined);
    return this.d.sender.snapshotsIn(home.dir);
  }

  /** A new path on a btrfs pool; with a task, beside the share, on its filesystem (a snapshot cannot cross filesystems). */
  async #checkTarget(to: string, task: Task | null): Promise<string> {
    const target = path.resolve(to);
    if (await lstat(target).then(() => true, () => false)) throw new FerryError('ALREADY_EXISTS', `${target} exists already: a restore never overwrites; choose a path that does not exist`);
    const parent = await stat(path.dirname(target)).catch(() => null);
    if (!parent?.isDirectory()) throw new FerryError('NOT_FOUND', `${path.dirname(target)} is not a directory`);
    const there = await this.d.btrfs.filesystemOf(path.dirname(target));
    if (!task) {
      if (!there) throw new FerryError('INVALID_INPUT', `${target} is not on a btrfs pool: restore to a path on one`);
      return target;
    }
    const share = await this.d.btrfs.filesystemOf(path.dirname(task.sharePath));
    if (!there) throw new FerryError('INVALID_INPUT', `${target} is not on a btrfs pool: restore to a path on the pool of ${task.sharePath}${share ? ` (${share.mountPoint})` : ''}`);
    if (!share || there.device !== share.device) {
      throw new FerryError('INVALID_INPUT', `${target} is on another filesystem than the share's snapshots (${share?.mountPoint ?? path.dirname(task.sharePath)}): restore to a path on that pool`);
    }
    return target;
  }

  /** What a restore interrupted by a crash left in the task's snapshot directory: jails, and subvolumes moved out of them. */
  async #dropStaging(dir: string): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (isIncomingName(name)) await discardIncoming(this.d.btrfs, path.join(dir, name));
  }

  // ---- the holder ----------------------------------------------------------------

  /** A restore the peer asks of its own chain: the plan now, the transfer after. */
  async serve(peerId: string, query: RestoreQuery): Promise<RestorePlan> {
    const source = await this.d.receiver.planRestore(peerId, query);
    if (source.plan.sending) {
      const peer = this.d.store.peers.get(peerId);
      if (!peer) {
        source.release();
        throw new FerryError('NOT_PAIRED', 'this appliance no longer knows you');
      }
      // The chain stays locked from the plan to the end of the send.
      const sending = this.#send(peer, query, source).finally(() => {
        source.release();
        this.#sending.delete(sending);
      });
      this.#sending.add(sending);
    }
    return source.plan;
  }

  /**
   * The replica back to the asker as a transfer like any other (carry, in
   * src/replication/transfer.ts), retried as a run's attempts are: a cut
   * link costs a try, not the restore. Each try is an attempt of its own in
   * both trails.
   */
  async #send(peer: Peer, query: RestoreQuery, source: Awaited<ReturnType<Receiver['planRestore']>>): Promise<void> {
    const { plan } = source;
    const client = this.d.clientFor(peer);
    const signal = this.d.stopping;
    const endpoint = {
      open: (request: TransferRequest, s: AbortSignal) => client.open(request, s),
      transfer: (id: string, stream: Readable, s: AbortSignal) => client.transfer(id, stream, s),
      // Refused before any byte (the replica changed since the plan): the asker's open transfer ends now.
      drop: (id: string, reason: unknown) => client.abort(id, signal, toFerryError(reason).code === 'REPLICA_CHANGED' ? 'replica-changed' : undefined),
    };
    const trail = this.d.store.sendTrail;
    try {
      const receipt = await retrying(this.d.retry ?? defaultRetryPolicy, signal, async (i) => {
        const attemptId = randomUUID();
        trail.start({
          id: attemptId,
          kind: 'restore',
          task: query.share,
          share: query.share,
          snapshot: plan.snapshot,
          parent: plan.parent?.name ?? null,
          mode: plan.parent ? 'incremental' : 'full',
          peer: peer.id,
          pool: source.pool,
          reason: `restore ${query.restoreId} asked by ${peer.name}${i > 0 ? `, try ${i + 1}` : ''}`,
          startedAt: new Date().toISOString(),
        });
        const counter = new ByteCounter({ onProgress: (bytes) => trail.progress(attemptId, bytes) });
        try {
          const got = await carry({
            receiver: endpoint,
            request: {
              attemptId,
              task: 'restore',
              share: query.share,
              shareUuid: source.sourceUuid,
              shareOrigin: null,
              restoreId: query.restoreId,
              pool: source.pool,
              snapshot: plan.snapshot,
              snapshotUuid: plan.snapshotUuid,
              parent: plan.parent,
              keepRemote: 1,
              sizeEstimate: source.bytes > 0 ? source.bytes : null,
            },
            source: async (streaming) => {
              // The asker took as long as it liked to answer the open: the replica must still be the one planned.
              await this.d.receiver.checkRestoreSource(source);
              const sent = this.d.btrfs.send({ path: source.replicaPath, ...(source.parentPath ? { parent: source.parentPath } : {}), signal: streaming });
              // Its failure also errors the stream, which the carriage reports.
              sent.done.catch(() => undefined);
              return sent.stream;
            },
            counter,
            signal,
          });
          trail.finish(attemptId, { status: 'succeeded', endedAt: new Date().toISOString(), bytes: got.bytes, errorCode: null, error: null });
          return got;
        } catch (thrown) {
          const err = toFerryError(thrown);
          trail.finish(attemptId, { status: endStatusOf(err.code), endedAt: new Date().toISOString(), bytes: counter.bytes, errorCode: err.code, error: describeError(err) });
          this.d.logger.warn('restore send failed', { restoreId: query.restoreId, peer: peer.id, attemptId, code: err.code, error: err.message });
          throw err;
        }
      });
      this.d.logger.info('restore sent', { restoreId: query.restoreId, peer: peer.id, snapshot: plan.snapshot, bytes: receipt.bytes });
    } catch {
      // Each try said why in the trail and the log; the asker hears it from its own end.
    }
  }
}

/** Removes the empty directories mkdir made, from `dir` up to `created`, so that a refused restore leaves nothing behind. */
async function removeMade(dir: string, created: string): Promise<void> {
  for (let d = dir; d.startsWith(created); d = path.dirname(d)) {
    if (!(await rmdir(d).then(() => true, () => false))) return;
  }
}
