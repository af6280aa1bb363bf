// One appliance, wired: the one place that builds the concrete parts (store,
// btrfs, sender, receiver, driver, peer server, admin API) and starts and
// stops them in order.
//
// Over 300 lines because it is the composition root: a line or two per part,
// and the order they start and stop in; what each part does is its own file.

import { readFile, rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { Agent } from 'undici';
import { createAdminApi, type AdminApiOptions } from '../api/server.js';
import { Btrfs } from '../btrfs/index.js';
import { applianceId, parseIdentity, type Identity } from '../crypto/index.js';
import { FerryError } from '../domain/errors.js';
import type { Task } from '../domain/task.js';
import { createLogger, logLevelFrom, type LogLevel, type Logger } from '../log/logger.js';
import { createPeerServer, PeerClient, toPeerRecord, type PeerServer } from '../peer/index.js';
import { Receiver } from '../receiver/receiver.js';
import type { ReceiverEndpoint } from '../replication/endpoints.js';
import { ReplicationDriver } from '../replication/driver.js';
import { BreeTimers } from '../scheduler/bree-timers.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { RunView } from '../api/schemas.js';
import { Sender } from '../sender/sender.js';
import { lockStateDir, openStore, type ServeLock, type Store } from '../store/index.js';
import { AdminService } from './admin.js';
import { splitHostPort } from './addresses.js';
import { listenAdmin, listenOn } from './listen.js';
import { nonceCache, pairingPort, peerDirectory, receiverPort } from './peer-ports.js';
import { Maintenance } from './maintenance.js';
import { keepPeerConfig } from './config-backup.js';
import { promotionBases, sentSnapshots } from './failback.js';
import { Restores } from './restores.js';
import { RunRegistry } from './runs.js';
import { LiveEvents } from './events.js';
import { notifySystemd } from './systemd.js';
import { ApplianceMetrics } from './metrics.js';
import { createMetricsServer } from './metrics-server.js';
import { meteredTrail } from './metered-trail.js';
import type { EndStatus } from '../domain/trail.js';
import { adminSocketPath, choosesPort, writeSecret, type Bound, type Config, type StateDir } from '../state/state-dir.js';
import { webAssetsDir } from './web-assets.js';
import { webUi } from '../web/server.js';
import type { BrowserAccess } from '../api/browser.js';
import { passwordStamp, readPasswordHash, verifyPassword } from '../state/ui-password.js';
import { isLoopbackHost } from '../state/state-dir.js';
import type { HostAllowlist } from '../api/hosts.js';
import { adminHosts, uiHosts } from './listener-hosts.js';
import { cutReporter } from './connection-log.js';

export interface ApplianceOptions {
  readonly logger?: Logger;
}

export class Appliance {
  readonly admin: AdminService;
  readonly store: Store;
  readonly receiver: Receiver;
  readonly driver: ReplicationDriver;
  readonly runs = new RunRegistry();
  readonly events = new LiveEvents();
  readonly restores: Restores;
  readonly scheduler: Scheduler;
  readonly maintenance: Maintenance;
  readonly id: string;
  #timers: BreeTimers | null = null;
  #peerServer: PeerServer | null = null;
  #adminServer: FastifyInstance | null = null;
  #metricsServer: FastifyInstance | null = null;
  /** The web UI's TLS listener for the LAN (config `ui`), made at start. */
  #uiServer: FastifyInstance | null = null;
  #uiFingerprint: string | null = null;
  readonly #token: string;
  #bound: Bound | null = null;
  /** This daemon's hold on its state dir, from open to the end of stop. */
  readonly #lock: ServeLock;
  readonly metrics: ApplianceMetrics;
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
    lock: ServeLock,
  ) {
    this.#lock = lock;
    this.#logger = options.logger ?? createLogger({ level: levelFromEnv(), fields: { appliance: config.name } });
    this.#token = token;
    this.id = applianceId(identity.signing.publicKey);
    this.store = openStore(state.databasePath);
    const btrfs = new Btrfs({ logger: this.#logger });
    this.receiver = new Receiver({ btrfs, store: this.store, logger: this.#logger, sentSnapshots: sentSnapshots(this.store, btrfs) });
    const sender = new Sender({ btrfs, logger: this.#logger, bases: promotionBases(this.store) });
    this.metrics = new ApplianceMetrics({
      store: this.store,
      running: () => this.runs.running(),
      receiving: () => this.receiver.active,
      poolHealth: () => (this.maintenance.health?.pools ?? []).map((p) => ({ pool: p.name, findings: p.findings })),
    });
    this.runs.onChange = (view) => this.events.publish(view);
    this.runs.onEnded = (view, seconds) => this.metrics.runEnded(view.task, view.state as EndStatus, seconds);
    this.driver = new ReplicationDriver({
      sender,
      receiverFor: (task) => this.#receiverFor(task),
      trail: meteredTrail(this.store.sendTrail, this.metrics),
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
      addresses: () => this.addresses,
      events: this.events,
      ui: async () => {
        const { admin, ui } = this.addresses;
        return {
          local: this.#uiOnAdmin() ? `http://${admin}/` : null,
          lan: ui ? `https://${ui}/` : null,
          tlsFingerprint: this.#uiFingerprint,
          passwordSet: (await passwordStamp(this.state.root)) !== null,
        };
      },
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
    this.admin.onTasksChanged = () => {
      this.#reschedule();
      // A new task's source pool is checked now, not at the next quarter hour.
      this.maintenance.checkHealthNow();
    };
    this.admin.onPoolsChanged = () => this.maintenance.checkHealthNow();
    const hosts = adminHosts(config);
    this.#adminServer = createAdminApi({
      ...this.#adminApiOptions('admin', hosts),
      metrics: () => this.metrics.scrape(),
      ...(this.#uiOnAdmin() ? { browser: this.#browserAccess(false, hosts) } : {}),
    });
    if (config.metrics) this.#metricsServer = createMetricsServer(() => this.metrics.scrape());
  }

  /**
   * The web UI rides on the admin listener only where no other machine
   * reaches it (loopback): on the LAN it needs the TLS listener of config `ui`.
   */
  #uiOnAdmin(): boolean {
    const { admin } = this.config;
    return adminSocketPath(admin) === null && isLoopbackHost(splitHostPort(admin).host);
  }

  /** What the admin listener and the UI's TLS listener share: the ports, the token, the audit and the connection budget's report. */
  #adminApiOptions(listener: 'admin' | 'ui', hosts: HostAllowlist): AdminApiOptions {
    return {
      listener,
      ports: this.admin,
      token: this.#token,
      logger: this.#logger,
      hosts,
      onAudit: (event) => this.metrics.adminChange(event.route, event.actor, event.result),
      onConnectionCut: cutReporter(listener, this.#logger, this.metrics),
    };
  }

  #browserAccess(secure: boolean, hosts: HostAllowlist): BrowserAccess {
    const root = this.state.root;
    return webUi({
      assetsDir: webAssetsDir(),
      secure,
      hosts,
      password: {
        stamp: () => passwordStamp(root),
        verify: async (password) => {
          const hash = await readPasswordHash(root);
          return hash !== null && (await verifyPassword(password, hash));
        },
      },
      onLoginFailed: (request, code) => this.#logger.warn('web UI sign-in refused', { code, from: request.ip }),
    });
  }

  /** The web UI's LAN listener: TLS with the admin's certificate, or the self-signed one of the state dir. */
  async #listenUi(address: string): Promise<string> {
    const { ui } = this.config;
    // Loaded only here: certificate handling (selfsigned, pkijs) adds ~0.2 s to a start that has no LAN listener to serve.
    const { ensureSelfSigned, loadTls } = await import('../state/ui-tls.js');
    const files = ui?.cert && ui.key ? { cert: ui.cert, key: ui.key } : await ensureSelfSigned(this.state.root, this.config.name);
    const tls = await loadTls(files);
    this.#uiFingerprint = tls.fingerprint;
    const hosts = uiHosts(this.config);
    this.#uiServer = createAdminApi({
      ...this.#adminApiOptions('ui', hosts),
      browser: this.#browserAccess(true, hosts),
      https: { cert: tls.cert, key: tls.key },
    });
    return listenOn(this.#uiServer, address, 'for the web UI');
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
    const config = state.readConfig();
    const identity = parseIdentity(await readFile(state.identityPath, 'utf8'));
    const token = state.readToken();
    // Before anything is touched: a second daemon on this state dir stops here.
    const lock = lockStateDir(state.root);
    try {
      return new Appliance(state, config, identity, token, options, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
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
      pairing: pairingPort(this.store, (peer) => this.admin.peerEndedPairing(peer)),
      logger: this.#logger,
      onConnectionCut: cutReporter('peer', this.#logger, this.metrics),
    });
    try {
      const listen = await listenOn(this.#peerServer, this.config.listen, 'for peers');
      const admin = this.#adminServer ? await listenAdmin(this.#adminServer, this.config, this.#logger) : this.config.admin;
      const metrics = this.#metricsServer && this.config.metrics ? await listenOn(this.#metricsServer, this.config.metrics, 'for Prometheus') : null;
      const ui = this.config.ui ? await this.#listenUi(this.config.ui.listen) : null;
      // Advertised with port 0: the port the peer server got.
      const advertise = choosesPort(this.config.advertise) ? `${this.config.advertise.slice(0, -2)}:${splitHostPort(listen).port}` : this.config.advertise;
      this.#bound = { pid: process.pid, listen, admin, advertise, metrics, ui };
      await writeSecret(this.state.boundPath, JSON.stringify(this.#bound, null, 2) + '\n');
    } catch (err) {
      // Half started is not started: nothing may keep the process alive.
      await this.#close();
      throw err;
    }
    this.#reschedule();
    this.scheduler.start();
    if (this.#timers) this.maintenance.schedule(this.#timers);
    const { listen, admin, advertise, metrics, ui } = this.addresses;
    this.#logger.info('appliance started', {
      id: this.id,
      listen,
      admin,
      ...(advertise !== listen ? { advertise } : {}),
      ...(metrics ? { metrics } : {}),
      ...(ui ? { ui: `https://${ui}/`, uiFingerprint: this.#uiFingerprint } : {}),
    });
    await notifySystemd({ ready: true, status: `listening for peers on ${listen}, admin API on ${admin}` }, this.#logger);
  }

  /** Where this appliance listens and is reached: config.json's addresses, with the ports chosen at start for port 0. */
  get addresses(): { listen: string; admin: string; advertise: string; metrics: string | null; ui: string | null } {
    const bound = this.#bound;
    if (bound) return { ...bound, ui: bound.ui ?? null };
    return { listen: this.config.listen, admin: this.config.admin, advertise: this.config.advertise, metrics: this.config.metrics ?? null, ui: this.config.ui?.listen ?? null };
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
    // A server that never listened has nothing to release, and closing it would first load all its routes.
    if (this.#bound) await rm(this.state.boundPath, { force: true });
    if (this.#adminServer?.server.listening) await this.#adminServer.close();
    if (this.#metricsServer?.server.listening) await this.#metricsServer.close();
    if (this.#uiServer?.server.listening) await this.#uiServer.close();
    await this.#peerServer?.close();
    await this.#dispatcher.close();
    this.store.close();
    this.#lock.release();
  }
}

/** FERRY_LOG_LEVEL, or a refusal with a stable code. */
function levelFromEnv(): LogLevel {
  try {
    return logLevelFrom(process.env);
  } catch (err) {
    throw new FerryError('INVALID_INPUT', (err as Error).message);
  }
}
