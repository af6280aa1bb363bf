// The admin's side of replication tasks: adding and editing them, running,
// pausing and cancelling them, and how each is shown (schedule, health,
// the source pool's findings, the next run).

import type { HealthView, TaskView } from '../api/ports.js';
import type { RunView, TaskAddBody, TaskEditBody } from '../api/schemas.js';
import type { RunEvent } from '../api/views.js';
import type { Btrfs } from '../btrfs/index.js';
import { FerryError } from '../domain/errors.js';
import { defaultHealthPolicy } from '../domain/health.js';
import { formatDuration } from '../domain/names.js';
import { taskHealth } from '../domain/report.js';
import { defaultKeepLocal, defaultKeepRemote, defaultRetries, defaultRetryBackoffMs, type Task } from '../domain/task.js';
import type { SendTrailEntry } from '../domain/trail.js';
import type { ReplicationDriver } from '../replication/driver.js';
import { nextDue, slotAfter, validateSchedule } from '../scheduler/plan.js';
import type { Store } from '../store/index.js';
import type { LiveEvents } from './events.js';
import type { HealthReport } from './jobs/reports.js';
import type { RunRegistry } from './runs.js';
import { checkShare } from './share-checks.js';

export interface TaskAdminDeps {
  readonly store: Store;
  readonly btrfs: Btrfs;
  readonly driver: ReplicationDriver;
  readonly runs: RunRegistry;
  /** Starts a run now, or queues it behind the concurrency limit. */
  readonly runNow: (task: string) => RunView;
  readonly events: LiveEvents;
  /** The last maintenance health check, if one ran. */
  readonly health: () => HealthReport | null;
  readonly serviceEnabled: () => boolean;
  /** Tasks changed: the scheduler follows. */
  readonly tasksChanged: () => void;
}

export class TaskAdmin {
  constructor(private readonly d: TaskAdminDeps) {}

  async add(body: TaskAddBody): Promise<{ task: TaskView; warnings: string[] }> {
    const { store, btrfs } = this.d;
    if ((body.every === undefined) === (body.cron === undefined)) throw new FerryError('INVALID_INPUT', 'give exactly one of every or cron');
    const peer = this.d.store.peers.need(body.peer);
    if (store.tasks.get(body.name)) throw new FerryError('ALREADY_EXISTS', `a task named ${JSON.stringify(body.name)} exists already`);
    const { sharePath, share, shareUuid } = await checkShare({ btrfs, store }, { sharePath: body.sharePath, shareName: body.shareName, peer: peer.id, peerName: peer.name, pool: body.pool });
    const task: Task = {
      name: body.name,
      sharePath,
      share,
      shareUuid,
      peer: peer.id,
      pool: body.pool,
      schedule: body.every !== undefined ? { kind: 'every', seconds: body.every } : { kind: 'cron', expr: body.cron ?? '' },
      keepLocal: body.keepLocal ?? defaultKeepLocal,
      keepRemote: body.keepRemote ?? defaultKeepRemote,
      paused: false,
      createdAt: new Date().toISOString(),
      healthPolicy: {
        onDegradedSource: body.onDegradedSource ?? defaultHealthPolicy.onDegradedSource,
        onDegradedTarget: body.onDegradedTarget ?? defaultHealthPolicy.onDegradedTarget,
      },
      ...(body.retries === undefined ? {} : { retries: body.retries }),
      ...(body.retryBackoffMs === undefined ? {} : { retryBackoffMs: body.retryBackoffMs }),
    };
    validateSchedule(task.schedule);
    store.tasks.add(task);
    this.d.tasksChanged();
    const warnings = this.d.serviceEnabled() ? [] : ["the replication service is disabled: no scheduled run starts until 'ferry service enable'"];
    return { task: this.view(task), warnings };
  }

  edit(name: string, change: TaskEditBody): Promise<TaskView> {
    const task = this.#task(name);
    const policy = task.healthPolicy ?? defaultHealthPolicy;
    const edited: Task = {
      ...task,
      schedule: change.every !== undefined ? { kind: 'every', seconds: change.every } : change.cron !== undefined ? { kind: 'cron', expr: change.cron } : task.schedule,
      keepLocal: change.keepLocal ?? task.keepLocal,
      keepRemote: change.keepRemote ?? task.keepRemote,
      healthPolicy: { onDegradedSource: change.onDegradedSource ?? policy.onDegradedSource, onDegradedTarget: change.onDegradedTarget ?? policy.onDegradedTarget },
      ...(change.retries === undefined ? {} : { retries: change.retries }),
      ...(change.retryBackoffMs === undefined ? {} : { retryBackoffMs: change.retryBackoffMs }),
    };
    validateSchedule(edited.schedule);
    if (!this.d.store.tasks.update(edited)) throw new FerryError('NOT_FOUND', `no task named '${name}'`);
    this.d.tasksChanged();
    return Promise.resolve(this.view(this.#task(name)));
  }

  list(): Promise<TaskView[]> {
    return Promise.resolve(this.d.store.tasks.list().map((t) => this.view(t)));
  }

  show(name: string): Promise<TaskView & { recent: SendTrailEntry[] }> {
    const task = this.#task(name);
    return Promise.resolve({ ...this.view(task), recent: this.d.store.sendTrail.list({ task: name, limit: 20 }) });
  }

  run(name: string): Promise<RunView> {
    this.#task(name);
    return Promise.resolve(this.d.runNow(name));
  }

  events(listener: (event: RunEvent) => void): { snapshot: RunEvent[]; unsubscribe: () => void } {
    const live = this.d.runs.live();
    return { snapshot: this.d.events.snapshot(live), unsubscribe: this.d.events.subscribe(listener) };
  }

  cancel(name: string): Promise<RunView> {
    this.#task(name);
    return this.d.runs.cancel(name);
  }

  getRun(id: string): Promise<RunView> {
    return Promise.resolve(this.d.runs.get(id));
  }

  pause(name: string, paused: boolean): Promise<TaskView> {
    this.#task(name);
    this.d.store.tasks.setPaused(name, paused);
    this.d.tasksChanged();
    return Promise.resolve(this.view(this.#task(name)));
  }

  remove(name: string): Promise<void> {
    if (!this.d.store.tasks.remove(name)) throw new FerryError('NOT_FOUND', `no task named '${name}'`);
    this.d.tasksChanged();
    return Promise.resolve();
  }

  #task(name: string): Task {
    const task = this.d.store.tasks.get(name);
    if (!task) throw new FerryError('NOT_FOUND', `no task named '${name}'`);
    return task;
  }

  #sourceHealth(task: string): HealthView | null {
    const report = this.d.health();
    const found = report?.sources.find((s) => s.task === task);
    return report && found ? { checkedAt: report.checkedAt, findings: found.findings, space: found.space } : null;
  }

  /** A task as the admin API shows it: its schedule, last attempts, health and next run. */
  view(task: Task): TaskView {
    const recent = this.d.store.sendTrail.list({ task: task.name, limit: 10 });
    return {
      name: task.name,
      share: task.share,
      sharePath: task.sharePath,
      peer: this.d.store.peers.get(task.peer)?.name ?? task.peer,
      pool: task.pool,
      schedule: task.schedule.kind === 'every' ? `every ${formatDuration(task.schedule.seconds)}` : `cron ${task.schedule.expr}`,
      keepLocal: task.keepLocal,
      keepRemote: task.keepRemote,
      onDegradedSource: (task.healthPolicy ?? defaultHealthPolicy).onDegradedSource,
      onDegradedTarget: (task.healthPolicy ?? defaultHealthPolicy).onDegradedTarget,
      retries: task.retries ?? defaultRetries,
      retryBackoffMs: task.retryBackoffMs ?? defaultRetryBackoffMs,
      paused: task.paused,
      running: this.d.driver.isRunning(task.name),
      health: taskHealth(recent, new Date(), { peerPaired: this.d.store.peers.get(task.peer) !== undefined }),
      sourceHealth: this.#sourceHealth(task.name),
      lastSucceeded: this.d.store.sendTrail.lastSucceeded(task.name)?.endedAt ?? null,
      lastAttempt: recent[0] ?? null,
      ...this.#timing(task),
    };
  }

  /** The schedule's fields, its period, and when the next scheduled run starts (as the scheduler computes it, before jitter). */
  #timing(task: Task): Pick<TaskView, 'every' | 'cron' | 'periodSeconds' | 'nextRunAt'> {
    const { schedule } = task;
    const fields = { every: schedule.kind === 'every' ? schedule.seconds : null, cron: schedule.kind === 'cron' ? schedule.expr : null };
    try {
      const now = new Date();
      const next = nextDue(schedule, this.d.store.tasks.lastSlot(task.name), new Date(task.createdAt), now);
      const periodSeconds = schedule.kind === 'every' ? schedule.seconds : Math.round((slotAfter(schedule, next, next).getTime() - next.getTime()) / 1000);
      const scheduled = !task.paused && this.d.serviceEnabled();
      return { ...fields, periodSeconds, nextRunAt: scheduled ? new Date(Math.max(next.getTime(), now.getTime())).toISOString() : null };
    } catch {
      // A schedule the scheduler cannot arm (it logs why) has no next run.
      return { ...fields, periodSeconds: null, nextRunAt: null };
    }
  }
}
