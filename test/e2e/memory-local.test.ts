// Streaming 1 GiB keeps memory flat: the peak RSS of a process that
// replicates 1 GiB is within a small margin of one that replicates 1 MiB.

import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Btrfs } from '../../src/btrfs/index.js';
import { createPool, type Pool } from '../support/pools.js';
import { run } from '../support/run.js';

const pools: Pool[] = [];

beforeAll(async () => {
  for (let i = 0; i < 4; i++) pools.push(await createPool({ sizeMiB: i < 2 ? 1536 : 256 }));
});

afterAll(async () => {
  for (const pool of pools) await pool.destroy();
});

async function replicate(source: Pool, target: Pool, mib: number): Promise<{ status: string; bytes: number; peakRssKiB: number }> {
  const btrfs = new Btrfs();
  await btrfs.create(path.join(source.path, 'share'));
  await run('dd', ['if=/dev/urandom', `of=${path.join(source.path, 'share', 'data.bin')}`, 'bs=1M', `count=${mib}`, 'status=none']);
  const out = await run(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../support/replicate-once.ts'), source.path, target.path]);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { status: string; bytes: number; peakRssKiB: number };
}

it('replicates 1 GiB with the same peak RSS as 1 MiB, give or take 64 MiB', async () => {
  const [bigSource, bigTarget, smallSource, smallTarget] = pools as [Pool, Pool, Pool, Pool];
  const small = await replicate(smallSource, smallTarget, 1);
  const big = await replicate(bigSource, bigTarget, 1024);
  expect(small.status).toBe('succeeded');
  expect(big.status).toBe('succeeded');
  expect(big.bytes).toBeGreaterThan(1 << 30);
  console.log(`peak RSS: 1 MiB run ${(small.peakRssKiB / 1024).toFixed(1)} MiB, 1 GiB run ${(big.peakRssKiB / 1024).toFixed(1)} MiB`);
  expect(big.peakRssKiB - small.peakRssKiB).toBeLessThan(64 * 1024);
});
