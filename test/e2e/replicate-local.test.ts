// Replication end to end on real btrfs, in-process: full, then incremental,
// then incremental again, with every kind of file metadata compared.

import { randomBytes } from 'node:crypto';
import { appendFile, chmod, link, mkdir, open, readdir, rename, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { taskSnapshotDir } from '../../src/sender/paths.js';
import { manifest } from '../support/manifest.js';
import { LOCAL_PEER } from '../support/pair.js';
import { useLocalPair } from '../support/local-pair-hooks.js';
import { run } from '../support/run.js';

const setup = useLocalPair({ sizeMiB: 512 });

const share = (): string => path.join(setup.source.path, 'share');
const replicaDir = (): string => path.join(setup.target.path, LOCAL_PEER, 'share');

async function populate(root: string): Promise<void> {
  await writeFile(path.join(root, 'big.bin'), randomBytes(16 << 20));
  await writeFile(path.join(root, 'empty'), '');
  await mkdir(path.join(root, 'docs/sub'), { recursive: true });
  await writeFile(path.join(root, 'docs/readme.txt'), 'hello\n');
  await writeFile(path.join(root, 'docs/sub/deep.txt'), 'deep\n');
  await writeFile(path.join(root, 'doomed.txt'), 'to be deleted\n');
  await writeFile(path.join(root, 'script.sh'), '#!/bin/sh\necho hi\n');
  await chmod(path.join(root, 'script.sh'), 0o4750);
  await symlink('docs/readme.txt', path.join(root, 'link-to-readme'));
  await symlink('/nonexistent/target', path.join(root, 'dangling'));
  await link(path.join(root, 'docs/readme.txt'), path.join(root, 'hardlink.txt'));
  await run('setfattr', ['-n', 'user.ferry', '-v', 'colour=blue', path.join(root, 'docs/readme.txt')]);
  // A sparse file: 64 MiB apparent size, a few bytes of data at each end.
  const sparse = await open(path.join(root, 'sparse.img'), 'w');
  await sparse.write('head', 0);
  await sparse.write('tail', (64 << 20) - 4);
  await sparse.close();
  await utimes(path.join(root, 'docs/sub/deep.txt'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
}

async function mutate(root: string, round: number): Promise<void> {
  // A renamed directory: docs -> papers in odd rounds, back in even ones.
  const [from, to] = round % 2 === 1 ? ['docs', 'papers'] : ['papers', 'docs'];
  await rename(path.join(root, from), path.join(root, to));
  await appendFile(path.join(root, to, 'readme.txt'), `round ${round}\n`);
  await rm(path.join(root, 'doomed.txt'), { force: true });
  await writeFile(path.join(root, `new-${round}.txt`), `new in round ${round}\n`);
  await run('setfattr', ['-n', `user.round${round}`, '-v', String(round), path.join(root, 'empty')]);
  await truncate(path.join(root, 'sparse.img'), (96 << 20) + round);
  await chmod(path.join(root, 'script.sh'), round === 1 ? 0o700 : 0o755);
}

async function expectReplicaMatches(snapshot: string): Promise<void> {
  const task = setup.pair.task();
  const src = await manifest(path.join(taskSnapshotDir(task), snapshot));
  const dst = await manifest(path.join(replicaDir(), snapshot));
  expect(src.length).toBeGreaterThan(8);
  expect(dst).toEqual(src);
}

describe('full -> incremental -> incremental', () => {
  const snapshots: string[] = [];

  it('sends the first run in full, and the replica equals the snapshot', async () => {
    await populate(share());
    const outcome = await setup.pair.driver.run(setup.pair.task());
    expect(outcome.status, JSON.stringify(outcome.attempts)).toBe('succeeded');
    expect(outcome.snapshot).toBeTruthy();
    snapshots.push(outcome.snapshot ?? '');
    await expectReplicaMatches(snapshots[0] ?? '');

    const [entry] = setup.pair.senderStore.sendTrail.list({ task: 'nightly' });
    expect(entry).toMatchObject({ mode: 'full', parent: null, status: 'succeeded', snapshot: snapshots[0] });
    expect(entry?.reason).toMatch(/no replica|first/i);
    expect(entry?.bytes).toBeGreaterThan(16 << 20);
    const [received] = setup.pair.receiverStore.receiveTrail.list({});
    expect(received).toMatchObject({ id: entry?.id, status: 'succeeded', mode: 'full', peer: LOCAL_PEER });
    expect(received?.replicaPath).toBe(path.join(replicaDir(), snapshots[0] ?? ''));
  });

  it.each([1, 2])('sends round %i incrementally against the previous snapshot', async (round) => {
    await mutate(share(), round);
    const outcome = await setup.pair.driver.run(setup.pair.task());
    expect(outcome.status, JSON.stringify(outcome.attempts)).toBe('succeeded');
    const snapshot = outcome.snapshot ?? '';
    await expectReplicaMatches(snapshot);

    const [entry] = setup.pair.senderStore.sendTrail.list({ task: 'nightly', limit: 1 });
    const full = setup.pair.senderStore.sendTrail.list({ task: 'nightly' }).at(-1);
    expect(entry).toMatchObject({ mode: 'incremental', parent: snapshots.at(-1), status: 'succeeded' });
    // The increment carries the changes, not the 16 MiB that did not change.
    expect(entry?.bytes).toBeLessThan((full?.bytes ?? 0) / 20);
    const [received] = setup.pair.receiverStore.receiveTrail.list({ limit: 1 });
    expect(received).toMatchObject({ id: entry?.id, mode: 'incremental', parent: snapshots.at(-1), status: 'succeeded' });
    snapshots.push(snapshot);
  });

  it('uses an older common snapshot as parent when the newest replica was deleted on the target', async () => {
    const newest = snapshots.at(-1) ?? '';
    await setup.pair.btrfs.delete(path.join(replicaDir(), newest));
    await appendFile(path.join(share(), 'empty'), 'x');
    const outcome = await setup.pair.driver.run(setup.pair.task());
    expect(outcome.status, JSON.stringify(outcome.attempts)).toBe('succeeded');
    const [entry] = setup.pair.senderStore.sendTrail.list({ task: 'nightly', limit: 1 });
    expect(entry).toMatchObject({ mode: 'incremental', parent: snapshots.at(-2), status: 'succeeded' });
    await expectReplicaMatches(outcome.snapshot ?? '');
  });

  it('falls back to a full send, saying why, when the parent was deleted on the target', async () => {
    for (const name of await readdir(replicaDir())) {
      await setup.pair.btrfs.delete(path.join(replicaDir(), name));
    }
    const outcome = await setup.pair.driver.run(setup.pair.task());
    expect(outcome.status, JSON.stringify(outcome.attempts)).toBe('succeeded');
    const [entry] = setup.pair.senderStore.sendTrail.list({ task: 'nightly', limit: 1 });
    expect(entry).toMatchObject({ mode: 'full', parent: null, status: 'succeeded' });
    expect(entry?.reason).toMatch(/holds no replica/i);
    await expectReplicaMatches(outcome.snapshot ?? '');
  });
});
