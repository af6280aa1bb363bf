// The admin API's ports, implemented over this appliance's parts: the
// appliance's status and service switch here; pools, peers, tasks, and
// replicas with trails and restores each in a part of its own
// (pool-admin.ts, peer-admin.ts, task-admin.ts, replica-admin.ts).

import type { Dispatcher } from 'undici';
import type { AdminPorts, CopyView, PoolView, ReplicaView, TaskView } from '../api/ports.js';
import type { CopyBody, PeerView, PolicyBody, PoolAddBody, ReplicaQuery, RestoreBody, RestoreView, RunView, StatusView, TaskAddBody, TaskEditBody, TrailQuery } from '../api/schemas.js';
import type { PeerRemovedView, RunEvent } from '../api/views.js';
import type { Btrfs } from '../btrfs/index.js';
import { fingerprint, publicIdentity, type Identity } from '../crypto/index.js';
import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import type { PeerServer } from '../peer/index.js';
import type { Receiver } from '../receiver/receiver.js';
import type { ReplicationDriver } from '../replication/driver.js';
import type { Config } from '../state/state-dir.js';
import type { Store } from '../store/index.js';
import type { LiveEvents } from './events.js';
import type { HealthReport } from './jobs/reports.js';
import { PeerAdmin } from './peer-admin.js';
import { PoolAdmin } from './pool-admin.js';
import { ReplicaAdmin } from './replica-admin.js';
import type { Restores } from './restores.js';
import type { RunRegistry } from './runs.js';
import { TaskAdmin } from './task-admin.js';

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

export class AdminService implements AdminPorts {
  /** Called after tasks or the service switch changed, so the scheduler can follow. */
  onTasksChanged: () => void = () => undefined;
  /** Called after a pool was added (the daemon checks its health at once). */
  onPoolsChanged: () => void = () => undefined;

  readonly #pools: PoolAdmin;
  readonly #peers: PeerAdmin;
  readonly #tasks: TaskAdmin;
  readonly #replicas: ReplicaAdmin;

  constructor(private readonly d: AdminDeps) {
    const { store } = d;
    // Read when called: the appliance sets onTasksChanged after construction.
    const tasksChanged = (): void => this.onTasksChanged();
    this.#pools = new PoolAdmin(store, d.btrfs, (peer) => store.peers.need(peer), (pool) => {
      const report = d.health();
      const found = report?.pools.find((p) => p.name === pool);
      return report && found ? { checkedAt: report.checkedAt, findings: found.findings, space: found.space } : null;
    });
    this.#peers = new PeerAdmin({
      store,
      identity: d.identity,
      name: d.config.name,
      advertise: () => d.addresses().advertise,
      dispatcher: d.dispatcher,
      stopping: d.stopping,
      peerServer: d.peerServer,
      checkPool: (name) => void this.#pools.view(name),
      tasksChanged,
    });
    this.#tasks = new TaskAdmin({
      store,
      btrfs: d.btrfs,
      driver: d.driver,
      runs: d.runs,
      runNow: d.runNow,
      events: d.events,
      health: d.health,
      serviceEnabled: () => this.serviceEnabled(),
      tasksChanged,
    });
    this.#replicas = new ReplicaAdmin({ store, receiver: d.receiver, restores: d.restores });
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

  // ---- peers

  invite(options: { ttlSeconds?: number | undefined; grantPool?: string | undefined }): Promise<{ invite: string; expiresAt: string; fingerprint: string }> {
    return this.#peers.invite(options);
  }

  accept(invite: string): Promise<PeerView> {
    return this.#peers.accept(invite);
  }

  listPeers(): Promise<PeerView[]> {
    return this.#peers.list();
  }

  removePeer(peer: string, tasks: 'pause' | 'remove' = 'pause'): Promise<PeerRemovedView> {
    return this.#peers.remove(peer, tasks);
  }

  /** The peer removed this appliance (its signed notice): forgotten here too, its tasks paused. */
  peerEndedPairing(peerId: string): { tasksPaused: number } {
    return this.#peers.endedByPeer(peerId);
  }

  setPeerAddress(peer: string, address: string): Promise<PeerView> {
    return this.#peers.setAddress(peer, address);
  }

  // ---- tasks

  addTask(body: TaskAddBody): Promise<{ task: TaskView; warnings: string[] }> {
    return this.#tasks.add(body);
  }

  editTask(name: string, change: TaskEditBody): Promise<TaskView> {
    return this.#tasks.edit(name, change);
  }

  listTasks(): Promise<TaskView[]> {
    return this.#tasks.list();
  }

  showTask(name: string): Promise<TaskView & { recent: SendTrailEntry[] }> {
    return this.#tasks.show(name);
  }

  runTask(name: string): Promise<RunView> {
    return this.#tasks.run(name);
  }

  events(listener: (event: RunEvent) => void): { snapshot: RunEvent[]; unsubscribe: () => void } {
    return this.#tasks.events(listener);
  }

  cancelTask(name: string): Promise<RunView> {
    return this.#tasks.cancel(name);
  }

  getRun(id: string): Promise<RunView> {
    return this.#tasks.getRun(id);
  }

  pauseTask(name: string, paused: boolean): Promise<TaskView> {
    return this.#tasks.pause(name, paused);
  }

  removeTask(name: string): Promise<void> {
    return this.#tasks.remove(name);
  }

  // ---- trails, replicas, restores

  sendTrail(query: TrailQuery): Promise<SendTrailEntry[]> {
    return this.#replicas.sendTrail(query);
  }

  receiveTrail(query: TrailQuery): Promise<ReceiveTrailEntry[]> {
    return this.#replicas.receiveTrail(query);
  }

  listReplicas(query: ReplicaQuery): Promise<ReplicaView[]> {
    return this.#replicas.listReplicas(query);
  }

  copyReplica(body: CopyBody): Promise<CopyView> {
    return this.#replicas.copyReplica(body);
  }

  discardClone(path: string): Promise<CopyView> {
    return this.#replicas.discardClone(path);
  }

  restore(body: RestoreBody): Promise<RestoreView> {
    return this.#replicas.restore(body);
  }

  getRestore(id: string): Promise<RestoreView> {
    return this.#replicas.getRestore(id);
  }
}
