// Retention on both sides across ten runs: keep-local N and keep-remote M
// hold exactly the newest N and M snapshots, and each run stays incremental.

import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LOCAL_PEER, localPair, type LocalPair } from '../support/pair.js';
import { createPool, type Pool } from '../support/pools.js';

let source: Pool;
let target: Pool;
let pair: LocalPair;

beforeAll(async () => {
  source = await createPool({ sizeMiB: 256 });
  target = await createPool({ sizeMiB: 256 });
  pair = await localPair({ source, target });
  await pair.btrfs.create(path.join(source.path, 'share'));
});

afterAll(async () => {
  await pair?.close();
  await source?.destroy();
  await target?.destroy();
});

it('keeps exactly keep-local and keep-remote snapshots across ten runs', async () => {
  const task = pair.task({ keepLocal: 3, keepRemote: 4 });
  const taken: string[] = [];
  for (let i = 1; i <= 10; i++) {
    await appendFile(path.join(source.path, 'share', 'log.txt'), `run ${i}\n`);
    const outcome = await pair.driver.run(task);
    expect(outcome.status, JSON.stringify(outcome.attempts)).toBe('succeeded');
    taken.push(outcome.snapshot ?? '');

    const local = (await pair.sender.listSnapshots(task)).map((s) => s.name);
    const remote = (await pair.btrfs.children(path.join(target.path, LOCAL_PEER, 'share'))).map((s) => s.name);
    expect(local, `local after run ${i}`).toEqual(taken.slice(-3));
    expect(remote, `remote after run ${i}`).toEqual(taken.slice(-4));
    const [entry] = pair.senderStore.sendTrail.list({ limit: 1 });
    expect(entry?.mode).toBe(i === 1 ? 'full' : 'incremental');
    if (i > 1) expect(entry?.parent).toBe(taken.at(-2));
  }
});
