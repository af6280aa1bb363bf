// The admin API's ports, implemented over this appliance's parts.

import type { AdminPorts, CopyView, HealthView, PoolView, ReplicaView, TaskView } from '../api/ports.js';
import type { CopyBody, RestoreBody, RestoreView, PeerView, PolicyBody, PoolAddBody, ReplicaQuery, RunView, StatusView, TaskAddBody, TaskEditBody, TrailQuery } from '../api/schemas.js';
import type { Dispatcher } from 'undici';
import type { Btrfs } from '../btrfs/index.js';
import { fingerprint, publicIdentity, type Identity } from '../crypto/index.js';
import type { WritableCopy } from '../domain/chain.js';
import { FerryError, describeError, toFerryError } from '../domain/errors.js';
import { defaultHealthPolicy } from '../domain/health.js';
import { formatDuration } from '../domain/names.js';
import { taskHealth } from '../domain/report.js';
import { defaultKeepLocal, defaultKeepRemote, defaultRetries, defaultRetryBackoffMs, type Task } from '../domain/task.js';
import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import { acceptInvite, createInvite, toPeerRecord, fromPeerRecord, PeerClient, type PeerServer } from '../peer/index.js';
import type { Receiver } from '../receiver/receiver.js';
import type { ReplicationDriver } from '../replication/driver.js';
import type { Peer, Store } from '../store/index.js';
import type { TrailListOptions } from '../store/trail-table.js';
import { hostPortOf, peerUrl } from './addresses.js';
import { nextDue, slotAfter, validateSchedule } from '../scheduler/plan.js';
import type { HealthReport } from './jobs/reports.js';
import { PoolAdmin } from './pool-admin.js';
import type { Restores } from './restores.js';
import type { RunRegistry } from './runs.js';
import type { LiveEvents } from './events.js';
import type { PeerRemovedView, RunEvent } from '../api/views.js';
import { checkShare } from './share-checks.js';
import type { Config } from '../state/state-dir.js';

export const SERVICE_SETTING = 'service.enabled';

export interface AdminDeps {
  readonly config: Config;
  readonly identity: Identity;
  readonly id: string;
  readonly store: Store;
  readonly btrfs: Btrfs;
  readonly receiver: Receiver;
  readonly driver: ReplicationDriver;
  readonly runs: RunRegistry;
  readonly restores: Restores;
  /** Starts a run now, or queues it behind the concurrency limit. */
  readonly runNow: (task: string) => RunView;
  /** Where the appliance listens and is reached now (ports chosen at start for port 0). */
  readonly addresses: () => { listen: string; admin: string; advertise: string };
  readonly events: LiveEvents;
  /** Where the web UI answers, and whether a password is set. */
  readonly ui: () => Promise<StatusView['ui']>;
  /** The last maintenance health check, if one ran. */
  readonly health: () => HealthReport | null;
  readonly peerServer: () => PeerServer | null;
  readonly dispatcher: Dispatcher;
  /** Aborts runs when the appliance stops. */
  readonly stopping: AbortSignal;
}

/** How long `peer remove` waits for the peer to hear of it: an unreachable peer does not hold the removal up. */
const TELL_PEER_MS = 10_000;

export class AdminService implements AdminPorts {
  /** Called after tasks or the service switch changed, so the scheduler can follow. */
  onTasksChanged: () => void = () => undefined;
  /** Called after a pool was added (the daemon checks its health at once). */
  onPoolsChanged: () => void = () => undefined;

  readonly #pools: PoolAdmin;

  constructor(private readonly d: AdminDeps) {
    this.#pools = new PoolAdmin(d.store, d.btrfs, (peer) => this.#peer(peer), (pool) => {
      const report = d.health();
      const found = report?.pools.find((p) => p.name === pool);
      return report && found ? { checkedAt: report.checkedAt, findings: found.findings, space: found.space } : null;
    });
  }

  serviceEnabled(): boolean {
    return this.d.store.settings.get(SERVICE_SETTING) !== 'false';
  }

  async status(): Promise<StatusView> {
    const { config, identity, id, receiver, runs } = this.d;
    const { listen, advertise, admin } = this.d.addresses();
    const ui = await this.d.ui();
    return {
      id,
      name: config.name,
      fingerprint: fingerprint(publicIdentity(identity)),
      listen,
      advertise,
      admin,
      ui,
      service: this.serviceEnabled() ? 'enabled' : 'disabled',
      transfers: [
        ...runs.running().map((r) => {
          const task = this.d.store.tasks.get(r.task);
          return { direction: 'send' as const, task: r.task, peer: task?.peer ?? '-', share: task?.share ?? '-', snapshot: r.snapshot ?? '-', bytes: r.bytes };
        }),
        ...receiver.active.map((t) => ({ direction: 'receive' as const, peer: t.peer, share: t.share, snapshot: t.snapshot })),
      ],
    };
  }

  setService(enabled: boolean): Promise<void> {
    this.d.store.settings.set(SERVICE_SETTING, enabled ? 'true' : 'false');
    this.onTasksChanged();
    return Promise.resolve();
  }

  async addPool(body: PoolAddBody): Promise<PoolView> {
    const added = await this.#pools.add(body);
    this.onPoolsChanged();
    return added;
  }

  listPools(): Promise<PoolView[]> {
    return Promise.resolve(this.#pools.list());
  }

  removePool(name: string): Promise<void> {
    this.#pools.remove(name);
    return Promise.resolve();
  }

  grantPool(pool: string, peer: string): Promise<PoolView> {
    return Promise.resolve(this.#pools.grant(pool, peer));
  }

  revokePool(pool: string, peer: string): Promise<PoolView> {
    return Promise.resolve(this.#pools.revoke(pool, peer));
  }

  setPoolPolicy(pool: string, change: PolicyBody): Promise<PoolView> {
    return Promise.resolve(this.#pools.setPolicy(pool, change));
  }

  invite(options: { ttlSeconds?: number | undefined; grantPool?: string | undefined }): Promise<{ invite: string; expiresAt: string; fingerprint: string }> {
    // The pool must exist now; the grant is made when the invite is accepted.
    if (options.grantPool !== undefined) this.#pools.view(options.grantPool);
    const created = createInvite({
      identity: this.d.identity,
      name: this.d.config.name,
      address: peerUrl(this.d.addresses().advertise),
      ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
    });
    this.d.store.invites.purgeExpired();
    this.d.store.invites.create({
      inviteId: created.invite.inviteId,
      secret: created.secret,
      expiresAt: created.invite.expiresAt,
      grantPool: options.grantPool ?? null,
    });
    return Promise.resolve({
      invite: created.line,
      expiresAt: new Date(created.invite.expiresAt * 1000).toISOString(),
      fingerprint: fingerprint(publicIdentity(this.d.identity)),
    });
  }

  async accept(invite: string): Promise<PeerView> {
    const record = await acceptInvite({
      identity: this.d.identity,
      name: this.d.config.name,
      address: peerUrl(this.d.addresses().advertise),
      invite,
      dispatcher: this.d.dispatcher,
    });
    const store = this.d.store;
    store.transaction(() => {
      if (store.peers.get(record.id)) store.peers.remove(record.id);
      store.peers.add(fromPeerRecord(record));
    });
    return this.#peerView(this.#peer(record.id));
  }

  listPeers(): Promise<PeerView[]> {
    return Promise.resolve(this.d.store.peers.list().map((p) => this.#peerView(p)));
  }

  /**
   * Unpairs: the peer is told first (while this appliance can still sign to
   * it), so that it forgets this one too instead of listing a pair that no
   * longer works; then it is forgotten here whether or not it could be told.
   */
  async removePeer(peer: string, tasks: 'pause' | 'remove' = 'pause'): Promise<PeerRemovedView> {
    const found = this.#peer(peer);
    let told: PeerRemovedView['told'];
    try {
      const answered = await this.#client(found).unpair(AbortSignal.any([this.d.stopping, AbortSignal.timeout(TELL_PEER_MS)]));
      told = { reached: true, tasksPaused: answered.tasksPaused, error: null };
    } catch (thrown) {
      told = { reached: false, tasksPaused: 0, error: describeError(toFerryError(thrown)) };
    }
    const stranded = this.#forget(found, tasks);
    const action = tasks === 'remove' ? ('removed' as const) : ('paused' as const);
    return { ...this.#peerView(found), tasks: stranded.map((t) => ({ name: t.name, action })), told };
  }

  /** The peer removed this appliance (its signed notice): forgotten here too, its tasks paused. */
  peerEndedPairing(peerId: string): { tasksPaused: number } {
    const found = this.d.store.peers.get(peerId);
    if (!found) return { tasksPaused: 0 };
    return { tasksPaused: this.#forget(found, 'pause').length };
  }

  /** Forgets a peer here; returns the tasks that sent to it. */
  #forget(found: Peer, tasks: 'pause' | 'remove'): Task[] {
    const { store } = this.d;
    // Its tasks could only fail NOT_PAIRED from now on: paused (kept, to point at another peer or pair again) or removed.
    const stranded = store.tasks.list().filter((t) => t.peer === found.id);
    store.transaction(() => {
      store.peers.remove(found.id);
      store.grants.removePeer(found.id);
      store.policies.removePeer(found.id);
      for (const t of stranded) {
        if (tasks === 'remove') store.tasks.remove(t.name);
        else store.tasks.setPaused(t.name, true);
      }
    });
    // Removal from the store refuses its next request; this ends what is in flight.
    this.d.peerServer()?.abortPeer(found.id);
    if (stranded.length > 0) this.onTasksChanged();
    return stranded;
  }

  #client(peer: Peer): PeerClient {
    return new PeerClient({ identity: this.d.identity, peer: toPeerRecord(peer), dispatcher: this.d.dispatcher });
  }

  setPeerAddress(peer: string, address: string): Promise<PeerView> {
    const found = this.#peer(peer);
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address)) throw new FerryError('INVALID_INPUT', `'${address}' is not HOST:PORT`);
    this.d.store.peers.setAddress(found.id, peerUrl(address));
    return Promise.resolve(this.#peerView(this.#peer(found.id)));
  }

  async addTask(body: TaskAddBody): Promise<{ task: TaskView; warnings: string[] }> {
    const { store, btrfs } = this.d;
    if ((body.every === undefined) === (body.cron === undefined)) throw new FerryError('INVALID_INPUT', 'give exactly one of every or cron');
    const peer = this.#peer(body.peer);
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
    this.onTasksChanged();
    const warnings = this.serviceEnabled() ? [] : ["the replication service is disabled: no scheduled run starts until 'ferry service enable'"];
    return { task: this.#taskView(task), warnings };
  }

  editTask(name: string, change: TaskEditBody): Promise<TaskView> {
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
    this.onTasksChanged();
    return Promise.resolve(this.#taskView(this.#task(name)));
  }

  listTasks(): Promise<TaskView[]> {
    return Promise.resolve(this.d.store.tasks.list().map((t) => this.#taskView(t)));
  }

  showTask(name: string): Promise<TaskView & { recent: SendTrailEntry[] }> {
    const task = this.#task(name);
    return Promise.resolve({ ...this.#taskView(task), recent: this.d.store.sendTrail.list({ task: name, limit: 20 }) });
  }

  runTask(name: string): Promise<RunView> {
    this.#task(name);
    return Promise.resolve(this.d.runNow(name));
  }

  events(listener: (event: RunEvent) => void): { snapshot: RunEvent[]; unsubscribe: () => void } {
    const live = this.d.runs.live();
    return { snapshot: this.d.events.snapshot(live), unsubscribe: this.d.events.subscribe(listener) };
  }

  cancelTask(name: string): Promise<RunView> {
    this.#task(name);
    return this.d.runs.cancel(name);
  }

  getRun(id: string): Promise<RunView> {
    return Promise.resolve(this.d.runs.get(id));
  }

  pauseTask(name: string, paused: boolean): Promise<TaskView> {
    this.#task(name);
    this.d.store.tasks.setPaused(name, paused);
    this.onTasksChanged();
    return Promise.resolve(this.#taskView(this.#task(name)));
  }

  removeTask(name: string): Promise<void> {
    if (!this.d.store.tasks.remove(name)) throw new FerryError('NOT_FOUND', `no task named '${name}'`);
    this.onTasksChanged();
    return Promise.resolve();
  }

  sendTrail(query: TrailQuery): Promise<SendTrailEntry[]> {
    return Promise.resolve(this.d.store.sendTrail.list({ ...(query.task ? { task: query.task } : {}), ...trailRange(query), limit: query.limit ?? 50 }));
  }

  receiveTrail(query: TrailQuery): Promise<ReceiveTrailEntry[]> {
    const peer = query.peer ? this.#peerIdOrRaw(query.peer) : undefined;
    return Promise.resolve(
      this.d.store.receiveTrail.list({ ...(peer ? { peer } : {}), ...(query.share ? { share: query.share } : {}), ...trailRange(query), limit: query.limit ?? 50 }),
    );
  }

  async listReplicas(query: ReplicaQuery): Promise<ReplicaView[]> {
    const filter = { ...(query.peer ? { peer: this.#peerIdOrRaw(query.peer) } : {}), ...(query.share ? { share: query.share } : {}) };
    return (await this.d.receiver.chains(filter)).map((c) => ({
      peer: c.peer,
      peerName: this.d.store.peers.get(c.peer)?.name ?? null,
      pool: c.pool,
      share: c.share,
      sourceUuid: c.sourceUuid,
      snapshots: c.replicas.map((r, i) => ({ name: r.name, receivedUuid: r.receivedUuid, path: r.path, committedAt: r.committedAt, bytes: r.bytes, newest: i === c.replicas.length - 1 })),
      copies: this.d.store.copies
        .list()
        .filter((k) => k.peer === c.peer && k.pool === c.pool && k.share === c.share)
        .map((k) => copyView(k)),
    }));
  }

  async copyReplica(body: CopyBody): Promise<CopyView> {
    const peer = this.#peerIdOrRaw(body.peer);
    if (!this.d.store.peers.get(peer) && this.d.store.chains.list({ peer }).length === 0) {
      throw new FerryError('NOT_FOUND', `no peer with id or name '${body.peer}' (see 'ferry peer list')`);
    }
    const copy = await this.d.receiver.copy({ kind: body.kind, peer, share: body.share, pool: body.pool, snapshot: body.snapshot, to: body.to });
    // Promoted in place of a task's share (taking over after a failback): the task goes on with the new subvolume.
    for (const task of this.d.store.tasks.list()) if (task.sharePath === copy.path) this.d.store.tasks.setShareUuid(task.name, copy.uuid);
    return copyView(copy);
  }

  async discardClone(path: string): Promise<CopyView> {
    return copyView(await this.d.receiver.discard(path));
  }

  restore(body: RestoreBody): Promise<RestoreView> {
    return this.d.restores.start(body);
  }

  getRestore(id: string): Promise<RestoreView> {
    return Promise.resolve(this.d.restores.get(id));
  }

  #task(name: string): Task {
    const task = this.d.store.tasks.get(name);
    if (!task) throw new FerryError('NOT_FOUND', `no task named '${name}'`);
    return task;
  }

  /** A peer by id or by name. */
  #peer(idOrName: string): Peer {
    return this.d.store.peers.need(idOrName);
  }

  #sourceHealth(task: string): HealthView | null {
    const report = this.d.health();
    const found = report?.sources.find((s) => s.task === task);
    return report && found ? { checkedAt: report.checkedAt, findings: found.findings, space: found.space } : null;
  }

  #peerIdOrRaw(idOrName: string): string {
    return this.d.store.peers.find(idOrName)?.id ?? idOrName;
  }

  #peerView(peer: Peer): PeerView {
    return {
      id: peer.id,
      name: peer.name,
      address: hostPortOf(peer.address),
      fingerprint: fingerprint(toPeerRecord(peer)),
      pairedAt: peer.pairedAt,
      grants: this.d.store.grants.poolsOf(peer.id),
    };
  }

  #taskView(task: Task): TaskView {
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
      const scheduled = !task.paused && this.serviceEnabled();
      return { ...fields, periodSeconds, nextRunAt: scheduled ? new Date(Math.max(next.getTime(), now.getTime())).toISOString() : null };
    } catch {
      // A schedule the scheduler cannot arm (it logs why) has no next run.
      return { ...fields, periodSeconds: null, nextRunAt: null };
    }
  }
}


/** The status, time range and page cursor of a trail query, as the store takes them. */
function trailRange(query: TrailQuery): TrailListOptions {
  return {
    ...(query.status ? { status: query.status } : {}),
    ...(query.since ? { since: query.since } : {}),
    ...(query.until ? { until: query.until } : {}),
    ...(query.before ? { before: query.before } : {}),
  };
}

function copyView(copy: WritableCopy): CopyView {
  return { path: copy.path, kind: copy.kind, peer: copy.peer, share: copy.share, snapshot: copy.snapshot, createdAt: copy.createdAt };
}
