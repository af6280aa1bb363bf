// The run/attempt driver: one due execution of a task (a run) made of one or
// more tries (attempts). It decides nothing about snapshots itself (the pure
// planner and retention do) and knows the two ends only by their interfaces.
//
// Over 300 lines because a run's attempts share one RunState through their
// preparation, estimate, send, settling and pruning; how an attempt ends is
// endings.ts, how often it retries retry-policy.ts.

import { FerryError, describeError, toFerryError } from '../domain/errors.js';
import { newAttemptId } from '../domain/ids.js';
import { snapshotName } from '../domain/names.js';
import { defaultHealthPolicy, decide, describeFindings, type HealthCode, type HealthFinding } from '../domain/health.js';
import { planSend, type Plan } from '../domain/planner.js';
import { senderRetention } from '../domain/retention.js';
import type { LocalSnapshot, Replica } from '../domain/snapshot.js';
import type { Task } from '../domain/task.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { backoffDelay, sleep } from '../util/backoff.js';
import { ByteCounter } from '../util/bytes.js';
import { KeyedLock } from '../util/lock.js';
import type { TransferReceipt } from '../domain/transfer.js';
import type { EndStatus } from '../domain/trail.js';
import type { ReceiverEndpoint, SenderEndpoint, SendTrailWriter } from './endpoints.js';
import { endedBy, errorOf } from './endings.js';
import { carry } from './transfer.js';
import { defaultRetryPolicy, retryPolicyFor, type RetryPolicy } from './retry-policy.js';

export interface AttemptOutcome {
  readonly attemptId: string;
  readonly status: EndStatus;
  readonly mode: Plan['mode'] | null;
  readonly errorCode: string | null;
  readonly error: string | null;
}

export interface RunOutcome {
  readonly task: string;
  readonly status: EndStatus;
  readonly snapshot: string | null;
  readonly attempts: readonly AttemptOutcome[];
  readonly receipt: TransferReceipt | null;
}

export interface DriverDeps {
  readonly sender: SenderEndpoint;
  readonly receiverFor: (task: Task) => ReceiverEndpoint;
  readonly trail: SendTrailWriter;
  readonly logger?: Logger;
  readonly clock?: () => Date;
  readonly retry?: RetryPolicy;
  /** Called with the bytes sent so far, for progress displays. */
  readonly onProgress?: (task: string, bytes: number) => void;
  /** Called before each attempt streams, with the bytes it is expected to send (null: no estimate). */
  readonly onEstimate?: (task: string, bytes: number | null) => void;
}

export class ReplicationDriver {
  readonly #deps: DriverDeps;
  readonly #logger: Logger;
  readonly #clock: () => Date;
  readonly #retry: RetryPolicy;
  /** One run per task at a time. */
  readonly #running = new KeyedLock();

  constructor(deps: DriverDeps) {
    this.#deps = deps;
    this.#logger = deps.logger ?? silentLogger;
    this.#clock = deps.clock ?? (() => new Date());
    this.#retry = deps.retry ?? defaultRetryPolicy;
  }

  isRunning(task: string): boolean {
    return this.#running.isHeld(task);
  }

  /** Runs a task once (with retries). Refuses with TASK_BUSY while a run of it is under way. */
  async run(task: Task, signal: AbortSignal = new AbortController().signal): Promise<RunOutcome> {
    const release = this.#running.tryAcquire(task.name);
    if (!release) throw new FerryError('TASK_BUSY', `task '${task.name}' is already running`);
    try {
      return await this.#run(task, signal);
    } finally {
      release();
    }
  }

  async #run(task: Task, signal: AbortSignal): Promise<RunOutcome> {
    const attempts: AttemptOutcome[] = [];
    // The snapshot is taken once per run and reused by its retries, so a run
    // that needed three tries still ships the state of the moment it was due.
    const state: RunState = { snapshot: null, shareUuid: null, shareOrigin: null };
    const retry = retryPolicyFor(task, this.#retry);
    for (let i = 0; i < retry.maxAttempts; i++) {
      const attemptId = newAttemptId();
      try {
        const receipt = await this.#attempt(task, attemptId, state, signal, attempts);
        return { task: task.name, status: 'succeeded', snapshot: receipt.snapshot, attempts, receipt };
      } catch (thrown) {
        const err = errorOf(thrown, signal);
        const interrupted = signal.aborted;
        this.#logger.warn('attempt failed', { task: task.name, attemptId, code: err.code, error: err.message });
        const last = attempts.at(-1);
        if (!last || last.attemptId !== attemptId) {
          attempts.push({ attemptId, status: endedBy(signal), mode: null, errorCode: err.code, error: describeError(err) });
        }
        const retryable = !interrupted && err.errorClass === 'transient' && i + 1 < retry.maxAttempts;
        if (!retryable) {
          if (!interrupted && (await this.#committedAfterAll(task, state, attempts, signal))) {
            return { task: task.name, status: 'succeeded', snapshot: state.snapshot?.name ?? null, attempts, receipt: null };
          }
          return { task: task.name, status: endedBy(signal), snapshot: null, attempts, receipt: null };
        }
        try {
          await sleep(backoffDelay(i, { baseMs: retry.baseDelayMs, maxMs: retry.maxDelayMs }), signal);
        } catch {
          return { task: task.name, status: endedBy(signal) === 'cancelled' ? 'cancelled' : 'interrupted', snapshot: null, attempts, receipt: null };
        }
      }
    }
    // Unreachable while maxAttempts >= 1; kept so the types close.
    throw new FerryError('INTERNAL', 'retry policy allows no attempt');
  }

  async #attempt(
    task: Task,
    attemptId: string,
    state: RunState,
    signal: AbortSignal,
    attempts: AttemptOutcome[],
  ): Promise<TransferReceipt> {
    const { sender, trail } = this.#deps;
    let prepared: Prepared;
    try {
      prepared = await this.#prepare(task, state, signal);
    } catch (thrown) {
      // Nothing was planned (the receiver could not be asked, a pool is held):
      // the attempt still goes into the trail, with what is known and why.
      const err = errorOf(thrown, signal);
      const status = endedBy(signal);
      const held = err instanceof HeldError ? err : null;
      trail.start({
        id: attemptId,
        task: task.name,
        share: task.share,
        snapshot: state.snapshot?.name ?? null,
        parent: held?.plan.parent?.name ?? null,
        mode: held?.plan.mode ?? null,
        peer: task.peer,
        pool: task.pool,
        reason: held ? held.plan.reason : `not planned: ${err.message}`,
        findings: held?.findings ?? null,
        startedAt: this.#clock().toISOString(),
      });
      trail.finish(attemptId, { status, endedAt: this.#clock().toISOString(), bytes: 0, errorCode: err.code, error: describeError(err) });
      attempts.push({ attemptId, status, mode: null, errorCode: err.code, error: describeError(err) });
      throw err;
    }
    const { receiver, remote, plan, findings } = prepared;
    const snapshot = prepared.snapshot;

    trail.start({
      id: attemptId,
      ...(plan.parent?.basePath === undefined ? {} : { kind: 'failback' as const }),
      task: task.name,
      share: task.share,
      snapshot: snapshot.name,
      parent: plan.parent?.name ?? null,
      mode: plan.mode,
      peer: task.peer,
      pool: task.pool,
      reason: plan.reason,
      findings,
      startedAt: this.#clock().toISOString(),
    });
    const sizeEstimate = await this.#estimate(task, snapshot.name, plan.parent?.name ?? null, signal);
    this.#deps.onEstimate?.(task.name, sizeEstimate);
    const counter = new ByteCounter({
      onProgress: (bytes) => {
        trail.progress(attemptId, bytes);
        this.#deps.onProgress?.(task.name, bytes);
      },
    });
    try {
      const receipt = await carry({
        receiver,
        request: {
          attemptId,
          task: task.name,
          share: task.share,
          // What the snapshot was taken of: the share as it was then.
          shareUuid: snapshot.sourceUuid ?? prepared.shareUuid,
          shareOrigin: state.shareOrigin,
          pool: task.pool,
          snapshot: snapshot.name,
          snapshotUuid: snapshot.uuid,
          parent: plan.parent ? { name: plan.parent.name, uuid: plan.parent.uuid } : null,
          keepRemote: task.keepRemote,
          sizeEstimate,
        },
        source: (streaming) => sender.send(task, snapshot.name, plan.parent?.name ?? null, streaming),
        counter,
        signal,
      });
      this.#deps.onProgress?.(task.name, counter.bytes);
      trail.finish(attemptId, {
        status: 'succeeded',
        endedAt: this.#clock().toISOString(),
        bytes: counter.bytes,
        errorCode: null,
        error: null,
        retention: receipt.retention,
      });
      attempts.push({ attemptId, status: 'succeeded', mode: plan.mode, errorCode: null, error: null });
      // The snapshots listed before this attempt and its own: no second listing for retention.
      const local = prepared.local.some((s) => s.name === snapshot.name) ? prepared.local : [...prepared.local, snapshot];
      await this.#pruneLocal(task, [...remote, { name: snapshot.name, receivedUuid: snapshot.uuid }], local);
      return receipt;
    } catch (thrown) {
      const err = errorOf(thrown, signal);
      const status = endedBy(signal);
      trail.finish(attemptId, { status, endedAt: this.#clock().toISOString(), bytes: counter.bytes, errorCode: err.code, error: describeError(err) });
      attempts.push({ attemptId, status, mode: plan.mode, errorCode: err.code, error: describeError(err) });
      throw err;
    }
  }

  /**
   * What the stream will weigh, for progress and the receiver's quota. Never
   * fails an attempt: without an estimate the run goes on, showing bytes only.
   */
  async #estimate(task: Task, snapshot: string, parent: string | null, signal: AbortSignal): Promise<number | null> {
    if (!this.#deps.sender.estimate) return null;
    try {
      return await this.#deps.sender.estimate(task, snapshot, parent, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      this.#logger.warn('no size estimate for this attempt', { task: task.name, snapshot, error: toFerryError(err).message });
      return null;
    }
  }

  /**
   * Everything before the first byte: ask the receiver what it holds, settle
   * what earlier attempts left behind, weigh pool health, plan, and take the
   * run's snapshot (once per run).
   */
  async #prepare(task: Task, state: RunState, signal: AbortSignal): Promise<Prepared> {
    const { sender } = this.#deps;
    const receiver = this.#deps.receiverFor(task);
    const { uuid: shareUuid, origin: shareOrigin } = await sender.shareIdentity(task);
    state.shareUuid = shareUuid;
    state.shareOrigin = shareOrigin;
    // Ask first, snapshot second: an unreachable receiver must not make
    // snapshots pile up on the source (btrbk #607).
    const remote = await receiver.holdings({ share: task.share, pool: task.pool, shareUuid, shareOrigin }, signal);
    // Three questions that wait on nothing but the holdings: asked at once, not one after another.
    const [listed, sourceHealth, targetHealth] = await Promise.all([sender.listSnapshots(task), sender.poolHealth?.(task), receiver.poolHealth?.({ pool: task.pool }, signal)]);
    const local = await this.#settle(task, listed, remote, state.snapshot?.name ?? null);

    const findings: HealthFinding[] = [...(sourceHealth ?? []), ...(targetHealth ?? []).map((f) => ({ ...f, pool: 'target' as const, code: f.code as HealthCode }))];
    const decision = decide(findings, task.healthPolicy ?? defaultHealthPolicy);
    const described = [describeFindings(findings), decision.reason].filter((t): t is string => t !== null).join('; ') || null;

    const candidates = state.snapshot ? local.filter((s) => s.name !== state.snapshot?.name) : local;
    const plan = planSend({ local: candidates, remote });
    if (!decision.proceed) throw new HeldError(decision.reason ?? 'a pool is unhealthy', plan, described);
    if (!state.snapshot) {
      const name = snapshotName(this.#clock(), local.map((s) => s.name));
      state.snapshot = await sender.takeSnapshot(task, name);
    }
    return { receiver, remote, local, plan, snapshot: state.snapshot, findings: described, shareUuid };
  }

  /**
   * What earlier attempts left behind, settled against the receiver's answer:
   * an attempt recorded failed or interrupted whose snapshot the receiver
   * holds did succeed (its receipt was lost): the trail says so and the
   * snapshot stays, a parent for the next send instead of a resend. A local
   * snapshot newer than every one the receiver holds, and not this run's, was
   * left by an attempt that never committed: nobody's parent, so it goes.
   */
  async #settle(task: Task, local: LocalSnapshot[], remote: readonly Replica[], current: string | null): Promise<LocalSnapshot[]> {
    const { trail, sender } = this.#deps;
    const held = new Set(remote.map((r) => r.receivedUuid));
    const heldNames = new Set<string | null>(local.filter((s) => held.has(s.uuid)).map((s) => s.name));
    const unsettled = [
      ...trail.list({ task: task.name, status: 'interrupted', limit: 100 }),
      ...trail.list({ task: task.name, status: 'cancelled', limit: 100 }),
      ...trail.list({ task: task.name, status: 'failed', limit: 100 }),
    ];
    for (const entry of unsettled) {
      if (!heldNames.has(entry.snapshot)) continue;
      if (trail.reconcile(entry.id, `reconciled at ${this.#clock().toISOString()}: the receiver holds this snapshot, so the attempt did commit (its receipt was lost)`)) {
        this.#logger.warn('attempt reconciled as succeeded', { task: task.name, attemptId: entry.id, snapshot: entry.snapshot });
      }
    }
    // Only snapshots that no attempt ever committed are orphans: one that was
    // replicated once and later pruned on the receiver is still local history.
    const committed = new Set(trail.list({ task: task.name, status: 'succeeded', limit: 10_000 }).map((e) => e.snapshot));
    const tried = new Set(unsettled.map((e) => e.snapshot));
    const orphans = local.filter((s) => !held.has(s.uuid) && s.name !== current && tried.has(s.name) && !committed.has(s.name)).map((s) => s.name);
    if (orphans.length === 0) return local;
    await sender.deleteSnapshots(task, orphans);
    this.#logger.info('snapshots of attempts that never committed deleted', { task: task.name, snapshots: orphans });
    return local.filter((s) => !orphans.includes(s.name));
  }

  /**
   * After a run's last attempt failed: did the receiver commit the snapshot
   * anyway (the answer was lost on the way back)? If it holds it, the attempt
   * is reconciled and the run succeeded. If it does not, the snapshot is
   * nobody's parent and is dropped rather than take a retention slot. If the
   * receiver cannot be asked, the snapshot stays and the next run settles it.
   */
  async #committedAfterAll(task: Task, state: RunState, attempts: AttemptOutcome[], signal: AbortSignal): Promise<boolean> {
    const { snapshot } = state;
    if (!snapshot) return false;
    let remote: readonly Replica[];
    try {
      const shareUuid = snapshot.sourceUuid ?? state.shareUuid;
      if (shareUuid === null) return false;
      remote = await this.#deps.receiverFor(task).holdings({ share: task.share, pool: task.pool, shareUuid, shareOrigin: state.shareOrigin }, signal);
    } catch {
      return false;
    }
    if (remote.some((r) => r.receivedUuid === snapshot.uuid)) {
      const last = attempts.at(-1);
      if (last && this.#deps.trail.reconcile(last.attemptId, `reconciled at ${this.#clock().toISOString()}: the receiver holds this snapshot, so the attempt did commit (its receipt was lost)`)) {
        attempts[attempts.length - 1] = { ...last, status: 'succeeded', errorCode: null, error: null };
      }
      await this.#pruneLocal(task, [...remote]);
      return true;
    }
    try {
      await this.#deps.sender.deleteSnapshots(task, [snapshot.name]);
    } catch (err) {
      this.#logger.warn('could not delete the snapshot of a failed run', { task: task.name, snapshot: snapshot.name, error: String(err) });
    }
    return false;
  }

  async #pruneLocal(task: Task, remote: { name: string; receivedUuid: string }[], listed?: readonly LocalSnapshot[]): Promise<void> {
    try {
      const local = listed ?? (await this.#deps.sender.listSnapshots(task));
      const { remove } = senderRetention({ local, remote, keep: task.keepLocal, inFlight: [] });
      if (remove.length > 0) await this.#deps.sender.deleteSnapshots(task, remove);
    } catch (err) {
      // Retention failing must not turn a committed replica into a failed run.
      this.#logger.warn('local retention failed', { task: task.name, error: String(err) });
    }
  }
}

/** What one run carries from attempt to attempt. */
interface RunState {
  /** Taken once per run and reused by its retries. */
  snapshot: LocalSnapshot | null;
  /** The share's UUID as last seen, and the identity of what it was made from. */
  shareUuid: string | null;
  shareOrigin: string | null;
}

interface Prepared {
  readonly shareUuid: string;
  readonly receiver: ReceiverEndpoint;
  readonly remote: readonly Replica[];
  /** The task's snapshots as listed before the plan, settled (the run's own not among them on its first attempt). */
  readonly local: readonly LocalSnapshot[];
  readonly plan: Plan;
  readonly snapshot: LocalSnapshot;
  readonly findings: string | null;
}

/** A run held by the pool health policy: it carries the plan it would have run and the findings. */
class HeldError extends FerryError {
  constructor(
    message: string,
    readonly plan: Plan,
    readonly findings: string | null,
  ) {
    super('POOL_UNHEALTHY', message);
  }
}
