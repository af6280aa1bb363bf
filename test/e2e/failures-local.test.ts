// Failures of `btrfs send` and `btrfs receive` on real btrfs: both trails say
// failed with a clear code, nothing partial is left, and the next run after
// the cause is fixed succeeds.

import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Btrfs } from '../../src/btrfs/index.js';
import { taskSnapshotDir } from '../../src/sender/paths.js';
import { manifest } from '../support/manifest.js';
import { LOCAL_PEER, localPair, type LocalPair } from '../support/pair.js';
import { createPool, type Pool } from '../support/pools.js';
import { run } from '../support/run.js';

/** Every subvolume on a pool, by path: what must not grow when an attempt fails. */
async function subvolumes(pool: Pool): Promise<string[]> {
  const out = await run('btrfs', ['subvolume', 'list', '-o', pool.path]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^.* path /, ''))
    .sort();
}

describe('btrfs send fails mid-stream', () => {
  let source: Pool;
  let target: Pool;
  let pair: LocalPair;
  let wrapperDir: string;

  beforeAll(async () => {
    source = await createPool({ sizeMiB: 256 });
    target = await createPool({ sizeMiB: 256 });
    // A btrfs that runs the real `btrfs send`, passes on its first 200 KiB and
    // then fails: a send that dies half-way through a real stream.
    wrapperDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-wrapper-'));
    const wrapper = path.join(wrapperDir, 'btrfs');
    await writeFile(
      wrapper,
      [
        '#!/bin/bash',
        'if [[ $1 == send && -e "$FERRY_TEST_FAIL_SEND" ]]; then',
        '  btrfs "$@" | head -c 204800',
        '  echo "ERROR: injected send failure" >&2',
        '  exit 1',
        'fi',
        'exec btrfs "$@"',
        '',
      ].join('\n'),
    );
    await chmod(wrapper, 0o755);
    pair = await localPair({ source, target, senderBtrfs: new Btrfs({ binary: wrapper }) });
    await pair.btrfs.create(path.join(source.path, 'share'));
    await writeFile(path.join(source.path, 'share', 'data.bin'), randomBytes(8 << 20));
  });

  afterAll(async () => {
    delete process.env.FERRY_TEST_FAIL_SEND;
    await pair?.close();
    await source?.destroy();
    await target?.destroy();
    await rm(wrapperDir, { recursive: true, force: true });
  });

  it('records a failed attempt on both sides and leaves no subvolume behind', async () => {
    const flag = path.join(wrapperDir, 'fail');
    await writeFile(flag, '');
    process.env.FERRY_TEST_FAIL_SEND = flag;
    const before = await subvolumes(target);
    const outcome = await pair.driver.run(pair.task());
    expect(outcome.status).toBe('failed');

    const [sent] = pair.senderStore.sendTrail.list({});
    expect(sent).toMatchObject({ status: 'failed', errorCode: 'SEND_FAILED' });
    expect(sent?.error).toContain('injected send failure');
    const [received] = pair.receiverStore.receiveTrail.list({});
    expect(received?.id).toBe(sent?.id);
    expect(received?.status).toBe('failed');
    expect(received?.errorCode).toBeTruthy();

    expect(await subvolumes(target)).toEqual(before);
    // The failed run's snapshot is nobody's parent: it is gone too.
    expect(await pair.sender.listSnapshots(pair.task())).toEqual([]);
    await rm(flag);
  });

  it('succeeds on the next run once send works again', async () => {
    const outcome = await pair.driver.run(pair.task());
    expect(outcome.status, JSON.stringify(outcome.attempts)).toBe('succeeded');
    const snapshot = outcome.snapshot ?? '';
    expect(await manifest(path.join(target.path, LOCAL_PEER, 'share', snapshot))).toEqual(
      await manifest(path.join(taskSnapshotDir(pair.task()), snapshot)),
    );
  });
});

describe('btrfs receive fails: the target pool is too small', () => {
  let source: Pool;
  let target: Pool;
  let pair: LocalPair;

  beforeAll(async () => {
    source = await createPool({ sizeMiB: 1024 });
    target = await createPool({ sizeMiB: 256 });
    pair = await localPair({ source, target });
    await pair.btrfs.create(path.join(source.path, 'share'));
    // Incompressible data larger than the whole target pool.
    for (let i = 0; i < 6; i++) {
      await writeFile(path.join(source.path, 'share', `part-${i}.bin`), randomBytes(64 << 20));
    }
  });

  afterAll(async () => {
    await pair?.close();
    await source?.destroy();
    await target?.destroy();
  });

  it('refuses it at the open, before any byte, with NO_SPACE on both sides, leaving nothing', async () => {
    const before = await subvolumes(target);
    const outcome = await pair.driver.run(pair.task());
    expect(outcome.status).toBe('failed');
    const [sent] = pair.senderStore.sendTrail.list({});
    const [received] = pair.receiverStore.receiveTrail.list({});
    expect(received).toMatchObject({ id: sent?.id, status: 'failed', errorCode: 'NO_SPACE', replicaPath: null, bytes: 0 });
    // The announced size against the pool's free space: the receive never started.
    expect(received?.error).toMatch(/announced at 384\.\d MiB, and pool 'backup' has .* free/);
    expect(sent?.status).toBe('failed');
    expect(sent?.errorCode).toBe('NO_SPACE');
    expect(await subvolumes(target)).toEqual(before);
    const shareDir = path.join(target.path, LOCAL_PEER, 'share');
    expect(await readdir(shareDir).catch(() => [])).toEqual([]);
  });

  it('succeeds once the target pool has grown', async () => {
    await run('truncate', ['-s', '2G', target.image]);
    await run('losetup', ['-c', target.loopDevice]);
    await run('btrfs', ['filesystem', 'resize', 'max', target.path]);
    const outcome = await pair.driver.run(pair.task());
    expect(outcome.status, JSON.stringify(outcome.attempts)).toBe('succeeded');
    const snapshot = outcome.snapshot ?? '';
    expect(await manifest(path.join(target.path, LOCAL_PEER, 'share', snapshot))).toEqual(
      await manifest(path.join(taskSnapshotDir(pair.task()), snapshot)),
    );
  });
});

afterEach(() => {
  delete process.env.FERRY_TEST_FAIL_SEND;
});
