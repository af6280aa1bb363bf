// Prometheus metrics of one appliance (prom-client), named by Prometheus'
// conventions: the `ferry_` prefix, units in the name, counters ending in
// `_total`. Counters and the run histogram count what happened since the
// daemon started (Prometheus' rate() expects that); the gauges are read from
// the store when scraped, so they are right after a restart too: last success
// and replication lag per task, running transfers, replicas held per peer,
// pool health findings. Reading them touches only the database (no btrfs
// command), so a scrape every few seconds costs next to nothing.

import client from 'prom-client';
import { healthSeverities } from '../domain/vocabulary.js';
import type { EndStatus } from '../domain/trail.js';
import { parseSnapshotTime } from '../domain/names.js';
import type { RunView } from '../api/schemas.js';
import type { Store } from '../store/index.js';

export interface MetricSources {
  readonly store: Store;
  /** Runs under way on this appliance (sending). */
  readonly running: () => readonly RunView[];
  /** Transfers this appliance is receiving now. */
  readonly receiving: () => readonly { peer: string }[];
  /** Findings of the last pool health check, per pool. */
  readonly poolHealth: () => readonly { pool: string; findings: readonly { severity: string }[] }[];
}

/** Run durations: a minute-scale incremental up to a day-long first full send. */
const RUN_BUCKETS = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600];

export class ApplianceMetrics {
  readonly registry = new client.Registry();
  readonly #attempts: client.Counter<'task' | 'status' | 'error_code'>;
  readonly #bytes: client.Counter<'task' | 'status'>;
  readonly #runs: client.Histogram<'task' | 'status'>;
  readonly #adminChanges: client.Counter<'route' | 'actor' | 'result'>;
  readonly #connectionsCut: client.Counter<'listener' | 'reason'>;

  constructor(sources: MetricSources, clock: () => Date = () => new Date()) {
    const registers = [this.registry];
    // process_* and nodejs_* (CPU, memory, event loop lag, GC), under the ferry_ prefix.
    // The event-loop lag is sampled every 10 s, not every 10 ms (the default): an
    // idle daemon must sleep, and 100 wakeups a second would keep it awake.
    client.collectDefaultMetrics({ register: this.registry, prefix: 'ferry_', eventLoopMonitoringPrecision: 10_000 });
    this.#attempts = new client.Counter({
      name: 'ferry_attempts_total',
      help: 'Send attempts ended since the daemon started, by task, status and error code ("" when none).',
      labelNames: ['task', 'status', 'error_code'],
      registers,
    });
    this.#bytes = new client.Counter({
      name: 'ferry_sent_bytes_total',
      help: 'Send-stream bytes of the attempts ended since the daemon started, by task and status.',
      labelNames: ['task', 'status'],
      registers,
    });
    this.#runs = new client.Histogram({
      name: 'ferry_run_duration_seconds',
      help: 'How long runs took, retries included, by task and how they ended.',
      labelNames: ['task', 'status'],
      buckets: RUN_BUCKETS,
      registers,
    });

    this.#adminChanges = new client.Counter({
      name: 'ferry_admin_changes_total',
      help: 'State-changing admin requests since the daemon started (the audit trail of the log, counted), by route, actor (token, session, anonymous) and result (ok, refused, failed).',
      labelNames: ['route', 'actor', 'result'],
      registers,
    });
    this.#connectionsCut = new client.Counter({
      name: 'ferry_connections_cut_total',
      help: 'Connections cut before they proved who sent them, by listener and reason (lifetime: too slow; per-address, total: over a cap).',
      labelNames: ['listener', 'reason'],
      registers,
    });

    const { store } = sources;
    new client.Gauge({
      name: 'ferry_task_last_success_timestamp_seconds',
      help: 'When the last successful attempt of each task ended (Unix time); absent for a task that never succeeded.',
      labelNames: ['task'],
      registers,
      collect() {
        this.reset();
        for (const task of store.tasks.list()) {
          const last = store.sendTrail.lastSucceeded(task.name);
          if (last?.endedAt) this.set({ task: task.name }, Date.parse(last.endedAt) / 1000);
        }
      },
    });
    new client.Gauge({
      name: 'ferry_task_replication_lag_seconds',
      help: 'Age of the newest snapshot of each task that reached its peer: how much would be lost if the source died now.',
      labelNames: ['task'],
      registers,
      collect() {
        this.reset();
        const now = clock().getTime();
        for (const task of store.tasks.list()) {
          const last = store.sendTrail.lastSucceeded(task.name);
          if (last?.snapshot) this.set({ task: task.name }, Math.max(0, (now - parseSnapshotTime(last.snapshot).getTime()) / 1000));
        }
      },
    });
    new client.Gauge({
      name: 'ferry_task_paused',
      help: '1 for a paused task, 0 otherwise.',
      labelNames: ['task'],
      registers,
      collect() {
        this.reset();
        for (const task of store.tasks.list()) this.set({ task: task.name }, task.paused ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'ferry_transfers_running',
      help: 'Transfers under way, by direction.',
      labelNames: ['direction'],
      registers,
      collect() {
        this.set({ direction: 'send' }, sources.running().length);
        this.set({ direction: 'receive' }, sources.receiving().length);
      },
    });
    new client.Gauge({
      name: 'ferry_transfer_sent_bytes',
      help: 'Bytes sent so far by each run under way.',
      labelNames: ['task'],
      registers,
      collect() {
        this.reset();
        for (const run of sources.running()) this.set({ task: run.task }, run.bytes);
      },
    });
    new client.Gauge({
      name: 'ferry_transfer_estimated_bytes',
      help: 'Bytes each run under way is expected to send (btrfs send --no-data), when known.',
      labelNames: ['task'],
      registers,
      collect() {
        this.reset();
        for (const run of sources.running()) if (run.estimatedBytes !== null) this.set({ task: run.task }, run.estimatedBytes);
      },
    });
    const held = (): Map<string, { peer: string; pool: string; replicas: number; bytes: number }> => {
      const out = new Map<string, { peer: string; pool: string; replicas: number; bytes: number }>();
      for (const chain of store.chains.list()) {
        const key = `${chain.peer}\0${chain.pool}`;
        const entry = out.get(key) ?? { peer: chain.peer, pool: chain.pool, replicas: 0, bytes: 0 };
        for (const r of store.chains.replicas(chain.id)) {
          entry.replicas++;
          entry.bytes += r.bytes;
        }
        out.set(key, entry);
      }
      return out;
    };
    new client.Gauge({
      name: 'ferry_receiver_replicas',
      help: 'Replicas this appliance holds for each peer, per pool.',
      labelNames: ['peer', 'pool'],
      registers,
      collect() {
        this.reset();
        for (const e of held().values()) this.set({ peer: e.peer, pool: e.pool }, e.replicas);
      },
    });
    new client.Gauge({
      name: 'ferry_receiver_replica_bytes',
      help: 'Send-stream bytes of the replicas this appliance holds for each peer, per pool.',
      labelNames: ['peer', 'pool'],
      registers,
      collect() {
        this.reset();
        for (const e of held().values()) this.set({ peer: e.peer, pool: e.pool }, e.bytes);
      },
    });
    new client.Gauge({
      name: 'ferry_pool_health_findings',
      help: 'Findings of the last health check of each pool, by severity (info, warning, critical).',
      labelNames: ['pool', 'severity'],
      registers,
      collect() {
        this.reset();
        for (const { pool, findings } of sources.poolHealth()) {
          for (const severity of healthSeverities) this.set({ pool, severity }, findings.filter((f) => f.severity === severity).length);
        }
      },
    });
  }

  /** An attempt ended (from the send trail). */
  attemptEnded(task: string, status: EndStatus, errorCode: string | null, bytes: number): void {
    this.#attempts.inc({ task, status, error_code: errorCode ?? '' });
    this.#bytes.inc({ task, status }, bytes);
  }

  /** A run ended, after its retries. */
  runEnded(task: string, status: EndStatus, seconds: number): void {
    this.#runs.observe({ task, status }, seconds);
  }

  /** A state-changing admin request ended (the audit trail). */
  adminChange(route: string, actor: string, result: string): void {
    this.#adminChanges.inc({ route, actor, result });
  }

  /** A listener cut a connection that had not proved who sent it. */
  connectionCut(listener: string, reason: string): void {
    this.#connectionsCut.inc({ listener, reason });
  }

  /** The exposition text, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
