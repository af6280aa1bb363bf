// Maintenance: the health of every pool (those that receive, and those the
// tasks' shares live on), between runs, so that an admin sees a degraded pool
// before a run is held for it. Reads only.
import path from 'node:path';
import { Btrfs } from '../../btrfs/index.js';
import { adminCheck } from '../../domain/health.js';
import { toFerryError } from '../../domain/errors.js';
import type { HealthReport } from './reports.js';
import { runJob } from './worker.js';

type Checked = Omit<HealthReport['pools'][number], 'name'>;

const btrfs = new Btrfs();

async function check(role: 'source' | 'target', at: string): Promise<Checked> {
  try {
    return adminCheck(role, await btrfs.poolHealth(at));
  } catch (err) {
    // Not a finding of the pool's own: the check could not look (the path is gone, btrfs failed).
    return { findings: [{ severity: 'critical', code: 'POOL_UNREADABLE', message: `the health of ${at} could not be read: ${toFerryError(err).message}` }], space: null };
  }
}

await runJob(async (store) => ({
  job: 'health',
  checkedAt: new Date().toISOString(),
  pools: await Promise.all(store.pools.list().map(async (p) => ({ name: p.name, ...(await check('target', p.path)) }))),
  sources: await Promise.all(store.tasks.list().map(async (t) => ({ task: t.name, ...(await check('source', path.dirname(t.sharePath))) }))),
}));
