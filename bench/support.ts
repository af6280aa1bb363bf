// What the benches share: cleanup that runs on exit, error, Ctrl-C or
// SIGTERM; commands that must succeed; and memory-backed loop pools.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { runCommand, type CommandResult } from '../test/support/run.js';

const MiB = 1024 * 1024;

const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | null = null;

/** Runs at cleanup, last registered first. */
export function atExit(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** A command's result; rejects on a non-zero exit unless `allowFail`. */
export async function run(file: string, args: readonly string[], options: { allowFail?: boolean } = {}): Promise<CommandResult> {
  const r = await runCommand(file, args);
  if (r.code !== 0 && !options.allowFail) throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}

export interface Pool {
  readonly path: string;
}

/** A btrfs pool on a loop device over an image in /dev/shm, gone at cleanup. */
export async function makePool(name: string, sizeMiB: number): Promise<Pool> {
  const dir = await mkdtemp(path.join('/dev/shm', `ferry-bench-${name}-`));
  atExit(() => rm(dir, { recursive: true, force: true }));
  const image = path.join(dir, 'pool.img');
  const mnt = path.join(dir, 'mnt');
  // Allocated up front, not sparse: the first write into a fresh tmpfs page
  // costs a fault and a zeroing, which made whichever run came first ~2x slower.
  await run('fallocate', ['-l', String(sizeMiB * MiB), image]);
  await run('mkfs.btrfs', ['-q', '-f', '-L', `ferry-bench-${name}`, image]);
  const loop = (await run('losetup', ['--find', '--show', image])).stdout.trim();
  atExit(async () => {
    await run('btrfs', ['device', 'scan', '--forget', loop], { allowFail: true });
    await run('losetup', ['-d', loop], { allowFail: true });
  });
  await mkdir(mnt);
  await run('mount', [loop, mnt]);
  atExit(async () => {
    for (let i = 0; i < 10; i++) {
      const r = await run('umount', [mnt], { allowFail: true });
      if (r.code === 0 || /not mounted/.test(r.stderr)) return;
      await new Promise((res) => setTimeout(res, 300));
    }
    await run('umount', ['-l', mnt], { allowFail: true });
  });
  return { path: mnt };
}

/** Deleted subvolumes' space freed and everything on disk. */
export async function settle(pool: Pool): Promise<void> {
  await run('btrfs', ['subvolume', 'sync', pool.path]);
  await run('btrfs', ['filesystem', 'sync', pool.path]);
}

/** Runs a bench's main, says what failed (exit 1), and cleans up either way. */
export async function runBench(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}
