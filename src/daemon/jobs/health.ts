// Maintenance: the health of every pool (those that receive, and those the
// tasks' shares live on), between runs, so that an admin sees a degraded pool
// before a run is held for it. Reads only.
import path from 'node:path';
import { Btrfs } from '../../btrfs/index.js';
import { assessPool } from '../../domain/health.js';
import { toFerryError } from '../../domain/errors.js';
import type { HealthReport } from './reports.js';
import { runJob } from './worker.js';

type Finding = HealthReport['pools'][number]['findings'][number];

const btrfs = new Btrfs();

async function findings(role: 'source' | 'target', at: string): Promise<Finding[]> {
  try {
    return assessPool(role, await btrfs.poolHealth(at), { mountSafety: true }).map(({ severity, code, message }) => ({ severity, code, message }));
  } catch (err) {
    // Not a finding of the pool's own: the check could not look (the path is gone, btrfs failed).
    return [{ severity: 'critical', code: 'POOL_UNREADABLE', message: `the health of ${at} could not be read: ${toFerryError(err).message}` }];
  }
}

await runJob(async (store) => ({
  job: 'health',
  checkedAt: new Date().toISOString(),
  pools: await Promise.all(store.pools.list().map(async (p) => ({ name: p.name, findings: await findings('target', p.path) }))),
  sources: await Promise.all(store.tasks.list().map(async (t) => ({ task: t.name, findings: await findings('source', path.dirname(t.sharePath)) }))),
}));
