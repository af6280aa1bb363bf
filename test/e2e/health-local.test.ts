// Pool health before each run, on real btrfs: a degraded raid1 target (one of
// its two devices missing) holds writes by default and says why in the
// trail; a task whose policy says 'replicate' writes anyway, findings noted.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPair, type LocalPair } from '../support/pair.js';
import { createPool, createRaid1Pool, type Pool, type Raid1Pool } from '../support/pools.js';

let source: Pool;
let target: Raid1Pool;
let pair: LocalPair;

beforeAll(async () => {
  source = await createPool({ sizeMiB: 256 });
  target = await createRaid1Pool({ sizeMiB: 256 });
  pair = await localPair({ source, target });
  await pair.btrfs.create(path.join(source.path, 'share'));
  await writeFile(path.join(source.path, 'share', 'file.txt'), 'precious\n');
});

afterAll(async () => {
  await pair?.close();
  await source?.destroy();
  await target?.destroy();
});

describe('a degraded target', () => {
  it('replicates while the raid1 target is whole, with no findings', async () => {
    const outcome = await pair.driver.run(pair.task());
    expect(outcome.status, JSON.stringify(outcome.attempts)).toBe('succeeded');
    const [entry] = pair.senderStore.sendTrail.list({ limit: 1 });
    expect(entry?.findings).toBeNull();
  });

  it('holds writes by default once a device is missing, and the trail says so', async () => {
    await target.degrade();
    const outcome = await pair.driver.run(pair.task());
    expect(outcome.status).toBe('failed');
    const [entry] = pair.senderStore.sendTrail.list({ limit: 1 });
    expect(entry).toMatchObject({ status: 'failed', errorCode: 'POOL_UNHEALTHY', snapshot: null, mode: 'incremental' });
    expect(entry?.findings).toMatch(/POOL_DEGRADED/);
    expect(entry?.findings).toMatch(/POOL_MISSING_DEVICE/);
    expect(entry?.error).toMatch(/holding writes until it is repaired/);
    // Held before the snapshot: nothing piles up on the source.
    expect(await pair.sender.listSnapshots(pair.task())).toHaveLength(1);
  });

  it("writes anyway when the task's policy says 'replicate', noting the findings", async () => {
    const task = pair.task({ healthPolicy: { onDegradedSource: 'replicate', onDegradedTarget: 'replicate' } });
    const outcome = await pair.driver.run(task);
    expect(outcome.status, JSON.stringify(outcome.attempts)).toBe('succeeded');
    const [entry] = pair.senderStore.sendTrail.list({ limit: 1 });
    expect(entry).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    expect(entry?.findings).toMatch(/POOL_DEGRADED.*writing anyway/);
    expect(await pair.holdings()).toHaveLength(2);
  });
});
