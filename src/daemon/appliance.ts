// One appliance, wired: the one place that builds the concrete parts (store,
// btrfs, sender, receiver, driver, peer server, admin API) and starts and
// stops them in order.

import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { Agent } from 'undici';
import { createAdminApi } from '../api/server.js';
import { Btrfs } from '../btrfs/index.js';
import { applianceId, parseIdentity, type Identity } from '../crypto/index.js';
import { FerryError } from '../domain/errors.js';
import type { Task } from '../domain/task.js';
import { createLogger, type Logger } from '../log/logger.js';
import { createPeerServer, PeerClient, toPeerRecord, type PeerServer } from '../peer/index.js';
import { Receiver } from '../receiver/receiver.js';
import type { ReceiverEndpoint } from '../replication/endpoints.js';
import { ReplicationDriver } from '../replication/driver.js';
import { BreeTimers } from '../scheduler/bree-timers.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { RunView } from '../api/schemas.js';
import { Sender } from '../sender/sender.js';
import { openStore, type Store } from '../store/index.js';
import { AdminService } from './admin.js';
import { splitHostPort } from './addresses.js';
import { nonceCache, pairingPort, peerDirectory, receiverPort } from './peer-ports.js';
import { Maintenance } from './maintenance.js';
import { keepPeerConfig } from './config-backup.js';
import { promotionBases, sentSnapshots } from './failback.js';
import { Restores } from './restores.js';
import { RunRegistry } from './runs.js';
import type { Config, StateDir } from '../state/state-dir.js';

export interface ApplianceOptions {
  readonly logger?: Logger;
}

export class Appliance {
  readonly admin: AdminService;
  readonly store: Store;
  readonly receiver: Receiver;
  readonly driver: ReplicationDriver;
  readonly runs = new RunRegistry();
  readonly restores: Restores;
  readonly scheduler: Scheduler;
  readonly maintenance: Maintenance;
  readonly id: string;
  #timers: BreeTimers | null = null;
  #peerServer: PeerServer | null = null;
  #adminServer: FastifyInstance | null = null;
  readonly #logger: Logger;
  /** Fires at stop: every run under way is aborted and its attempt ends 'interrupted'. */
  readonly #stopping = new AbortController();
  /** One connection pool for every peer, closed at stop so no keep-alive socket holds the process. */
  readonly #dispatcher = new Agent({ connect: { timeout: 10_000 }, keepAliveTimeout: 10_000 });

  private constructor(
    readonly state: StateDir,
    readonly config: Config,
    readonly identity: Identity,
    token: string,
    options: ApplianceOptions,
  ) {
    this.#logger = options.logger ?? createLogger({ fields: { appliance: config.name } });
    this.id = applianceId(identity.signing.publicKey);
    this.store = openStore(state.databasePath);
    const btrfs = new Btrfs({ logger: this.#logger });
    this.receiver = new Receiver({ btrfs, store: this.store, logger: this.#logger, sentSnapshots: sentSnapshots(this.store, btrfs) });
    const sender = new Sender({ btrfs, logger: this.#logger, bases: promotionBases(this.store) });
    this.driver = new ReplicationDriver({
      sender,
      receiverFor: (task) => this.#receiverFor(task),
      trail: this.store.sendTrail,
      logger: this.#logger,
      onProgress: (task, bytes) => this.runs.progress(task, bytes),
      onEstimate: (task, bytes) => this.runs.estimate(task, bytes),
    });
    this.restores = new Restores({
      store: this.store,
      btrfs,
      receiver: this.receiver,
      sender,
      clientFor: (peer) => new PeerClient({ identity: this.identity, peer: toPeerRecord(peer), dispatcher: this.#dispatcher }),
      isRunning: (task) => this.driver.isRunning(task),
      logger: this.#logger,
      stopping: this.#stopping.signal,
    });
    this.maintenance = new Maintenance({ config, databasePath: state.databasePath, receiver: this.receiver, logger: this.#logger });
    this.admin = new AdminService({
      config,
      identity,
      id: this.id,
      store: this.store,
      btrfs,
      receiver: this.receiver,
      driver: this.driver,
      runs: this.runs,
      restores: this.restores,
      runNow: (name) => this.runNow(name),
      health: () => this.maintenance.health,
      peerServer: () => this.#peerServer,
      stopping: this.#stopping.signal,
      dispatcher: this.#dispatcher,
    });
    this.scheduler = new Scheduler({
      onDue: (name) => this.#runDue(name),
      slots: { get: (name) => this.store.tasks.lastSlot(name), set: (name, slot) => this.store.tasks.setLastSlot(name, slot) },
      maxConcurrent: config.scheduler?.maxConcurrentRuns ?? 2,
      jitterMaxMs: (config.scheduler?.jitterSeconds ?? 30) * 1000,
      timers: (events) => {
        this.#timers = new BreeTimers({
          ...events,
          logger: this.#logger,
          onMessage: (job, message) => void this.maintenance.report(job, message),
        });
        return this.#timers;
      },
      logger: this.#logger,
    });
    this.admin.onTasksChanged = () => this.#reschedule();
    this.#adminServer = createAdminApi({ ports: this.admin, token, logger: this.#logger });
  }

  /** A run the scheduler started (scheduled, or run-now in its turn): on the main thread. */
  async #runDue(name: string): Promise<void> {
    const task = this.store.tasks.get(name);
    if (!task || this.#stopping.signal.aborted) {
      this.runs.cancelQueued(name, task ? 'the appliance is stopping' : 'the task was removed');
      return;
    }
    if (this.runs.skipTurn(name)) return;
    await this.runs.begin(name, (cancelled) => this.driver.run(task, AbortSignal.any([this.#stopping.signal, cancelled])));
  }

  /**
   * "Run now": through the scheduler, so it takes its place under the
   * concurrency limit, and a slot that passes during it still runs after it.
   * TASK_BUSY while a run of the task is under way.
   */
  runNow(name: string): RunView {
    if (!this.store.tasks.get(name)) throw new FerryError('NOT_FOUND', `no task named '${name}'`);
    if (this.scheduler.isRunning(name)) throw new FerryError('TASK_BUSY', `task '${name}' is already running`);
    const view = this.runs.queue(name);
    this.scheduler.runNow(name);
    return this.runs.get(view.id);
  }

  /** After any change to tasks or the service switch: the scheduler follows the store. */
  #reschedule(): void {
    this.scheduler.setTasks(this.store.tasks.list());
    this.scheduler.setScheduleEnabled(this.admin.serviceEnabled());
  }

  static async open(state: StateDir, options: ApplianceOptions = {}): Promise<Appliance> {
    const config = await state.readConfig();
    const identity = parseIdentity(await readFile(state.identityPath, 'utf8'));
    const token = await state.readToken();
    return new Appliance(state, config, identity, token, options);
  }

  #receiverFor(task: Task): ReceiverEndpoint {
    const stored = this.store.peers.get(task.peer);
    if (!stored) throw new FerryError('NOT_PAIRED', `task '${task.name}' sends to peer ${task.peer}, which is no longer paired`);
    return new PeerClient({ identity: this.identity, peer: toPeerRecord(stored), dispatcher: this.#dispatcher });
  }

  async start(): Promise<void> {
    const interrupted = this.store.markRunningInterrupted(new Date());
    if (interrupted.send + interrupted.receive > 0) this.#logger.warn('attempts left running by a stop or crash marked interrupted', interrupted);
    const cleaned = await this.receiver.cleanStaging();
    if (cleaned > 0) this.#logger.warn('partial subvolumes left by a crash deleted', { cleaned });

    this.#peerServer = createPeerServer({
      identity: this.identity,
      name: this.config.name,
      peers: peerDirectory(this.store),
      nonces: nonceCache(this.store),
      receiver: receiverPort(this.receiver, () => this.admin.serviceEnabled(), this.restores, (peer, sealed) => keepPeerConfig(this.state, peer, sealed)),
      pairing: pairingPort(this.store),
      logger: this.#logger,
    });
    try {
      await listenOn(this.#peerServer, this.config.listen, 'for peers');
      if (this.#adminServer) await listenOn(this.#adminServer, this.config.admin, 'for the admin API');
    } catch (err) {
      // Half started is not started: nothing may keep the process alive.
      await this.#close();
      throw err;
    }
    this.#reschedule();
    this.scheduler.start();
    if (this.#timers) this.maintenance.schedule(this.#timers);
    this.#logger.info('appliance started', { id: this.id, listen: this.config.listen, admin: this.config.admin });
  }

  /** The daemon's logger, for what its launcher has to say. */
  get logger(): Logger {
    return this.#logger;
  }

  /**
   * Stops cleanly: runs under way are aborted (their attempts end
   * 'interrupted' on both sides, never 'running'), then the servers close.
   */
  async stop(): Promise<void> {
    await this.scheduler.stop();
    this.#stopping.abort(new FerryError('INTERRUPTED', 'the appliance is stopping'));
    await this.runs.settled(20_000);
    await this.restores.settled();
    await this.#close();
    this.#logger.info('appliance stopped', { id: this.id });
  }

  async #close(): Promise<void> {
    await this.#adminServer?.close();
    await this.#peerServer?.close();
    await this.#dispatcher.close();
    this.store.close();
  }
}

/** Listens on HOST:PORT, or says in one sentence why it cannot. */
async function listenOn(server: FastifyInstance, address: string, what: string): Promise<void> {
  const { host, port } = splitHostPort(address);
  try {
    await server.listen({ host, port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? "the address is in use (is another 'ferry serve' running, or another program on that port?)"
        : code === 'EADDRNOTAVAIL'
          ? 'this machine has no such address'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw new FerryError('LISTEN_FAILED', `cannot listen ${what} on ${address}: ${why}`, { cause: err });
  }
}
