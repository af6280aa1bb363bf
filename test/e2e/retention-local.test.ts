// Retention on both sides across ten runs: keep-local N and keep-remote M
// hold exactly the newest N and M snapshots, and each run stays incremental.

import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { LOCAL_PEER } from '../support/pair.js';
import { useLocalPair } from '../support/local-pair-hooks.js';

const setup = useLocalPair({ sizeMiB: 256 });

it('keeps exactly keep-local and keep-remote snapshots across ten runs', async () => {
  const task = setup.pair.task({ keepLocal: 3, keepRemote: 4 });
  const taken: string[] = [];
  for (let i = 1; i <= 10; i++) {
    await appendFile(path.join(setup.source.path, 'share', 'log.txt'), `run ${i}\n`);
    const outcome = await setup.pair.driver.run(task);
    expect(outcome.status, JSON.stringify(outcome.attempts)).toBe('succeeded');
    taken.push(outcome.snapshot ?? '');

    const local = (await setup.pair.sender.listSnapshots(task)).map((s) => s.name);
    const remote = (await setup.pair.btrfs.children(path.join(setup.target.path, LOCAL_PEER, 'share'))).map((s) => s.name);
    expect(local, `local after run ${i}`).toEqual(taken.slice(-3));
    expect(remote, `remote after run ${i}`).toEqual(taken.slice(-4));
    const [entry] = setup.pair.senderStore.sendTrail.list({ limit: 1 });
    expect(entry?.mode).toBe(i === 1 ? 'full' : 'incremental');
    if (i > 1) expect(entry?.parent).toBe(taken.at(-2));
  }
});
