// The daemon's maintenance: bree jobs in worker threads (src/daemon/jobs/),
// each on its own interval. Only the pools' health also runs at start (it
// only reads: an admin must not see "not checked yet" for a quarter of an
// hour); the others wait until they are due (an idle daemon writes nothing). What they report comes back here: the trail
// pruning and purges are logged when they deleted something, the staging the
// sweep found is deleted by the receiver (which knows the transfers under
// way), and the pools' health is kept for `pool list` and `task show`.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toFerryError } from '../domain/errors.js';
import type { Logger } from '../log/logger.js';
import type { Receiver } from '../receiver/receiver.js';
import type { BreeTimers } from '../scheduler/bree-timers.js';
import { JobReport, type HealthReport, type JobData } from './jobs/reports.js';
import type { Config } from '../state/state-dir.js';

/** A year of hourly runs, and then some. */
export const defaultTrailLimits = { keepDays: 400, keepPerTask: 10_000 };

export class Maintenance {
  #health: HealthReport | null = null;
  #timers: BreeTimers | null = null;

  constructor(
    private readonly deps: { config: Config; databasePath: string; receiver: Receiver; logger: Logger },
  ) {}

  /** The last health check's findings; null until the first one. */
  get health(): HealthReport | null {
    return this.#health;
  }

  /** Adds the jobs to bree; a job whose worker file is missing (running from sources) is said and skipped. */
  schedule(timers: BreeTimers): void {
    this.#timers = timers;
    const m = this.deps.config.maintenance ?? {};
    const data: JobData = {
      databasePath: this.deps.databasePath,
      trails: { keepDays: m.trailKeepDays ?? defaultTrailLimits.keepDays, keepPerTask: m.trailKeepPerTask ?? defaultTrailLimits.keepPerTask },
    };
    const jobs = [
      { name: 'trails', everyS: m.trailsEverySeconds ?? 86_400 },
      { name: 'purge', everyS: m.purgeEverySeconds ?? 3_600 },
      { name: 'sweep', everyS: m.sweepEverySeconds ?? 3_600 },
      { name: 'health', everyS: m.healthEverySeconds ?? 900 },
    ];
    for (const job of jobs) {
      const file = fileURLToPath(new URL(`./jobs/${job.name}.js`, import.meta.url));
      if (!existsSync(file)) {
        this.deps.logger.warn('maintenance job not scheduled: its worker file is missing (run the built daemon)', { job: job.name, file });
        continue;
      }
      timers.addJob({ name: `maintenance:${job.name}`, path: file, everyMs: job.everyS * 1000, workerData: { data } });
      if (job.name === 'health') this.checkHealthNow();
    }
  }

  /** Runs the health check now (at start, and when a task or pool was added): what is new is not "not checked yet" for 15 minutes. */
  checkHealthNow(): void {
    void this.#timers?.runJob('maintenance:health').catch((err: unknown) => this.deps.logger.warn('a health check could not start', { error: String(err) }));
  }

  /** What a job's worker posted. */
  async report(job: string, message: unknown): Promise<void> {
    const parsed = JobReport.safeParse(message);
    if (!parsed.success) {
      this.deps.logger.error('a maintenance job reported something unexpected', { job });
      return;
    }
    const report = parsed.data;
    const log = this.deps.logger;
    switch (report.job) {
      case 'trails':
        if (report.send + report.receive > 0) log.info('maintenance: trail entries past their limits deleted', { send: report.send, receive: report.receive });
        return;
      case 'purge':
        if (report.nonces + report.invites > 0) log.info('maintenance: expired nonces and invites deleted', { nonces: report.nonces, invites: report.invites });
        return;
      case 'sweep':
        try {
          const cleaned = await this.deps.receiver.cleanStaging(report.staging);
          if (cleaned > 0) log.warn('maintenance: partial subvolumes left by a crash deleted', { cleaned });
        } catch (err) {
          log.error('maintenance: the sweep could not delete staging', { error: toFerryError(err).message });
        }
        return;
      case 'health': {
        const before = new Set(this.#health?.pools.flatMap((p) => p.findings.map((f) => `${p.name} ${f.code}`)) ?? []);
        this.#health = report;
        // Said when a finding appears, not every quarter hour while it stands.
        for (const p of report.pools) {
          for (const f of p.findings) if (!before.has(`${p.name} ${f.code}`)) log.warn('pool health', { pool: p.name, severity: f.severity, code: f.code, message: f.message });
        }
        return;
      }
    }
  }
}
