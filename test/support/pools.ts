// Real btrfs pools for tests: a sparse image file, mkfs.btrfs, a loop device
// and a mount, all inside one temp dir whose name starts with `ferry-test-`
// so that global-setup.ts (and people) can find leaks.

import { mkdir, mkdtemp, open, readdir, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { runCommand } from './run.js';

export interface Pool {
  /** Mount point. */
  path: string;
  image: string;
  loopDevice: string;
  /** Unmount, detach and remove; safe to call more than once. */
  destroy(): Promise<void>;
}

export interface PoolOptions {
  /** At least 110 (mkfs.btrfs refuses less than 109 MiB). Default 256. */
  sizeMiB?: number;
  label?: string;
  /** 'shm' (default) keeps the image in memory: fast, but it costs RAM as it fills. */
  dir?: 'shm' | 'tmp';
}

export const TEMP_PREFIX = 'ferry-test-';

/** As the README recommends for receiving pools: a replica's setuid bits and device nodes mean nothing there. */
export const MOUNT_OPTIONS = 'nosuid,nodev';


async function run(file: string, args: readonly string[]): Promise<string> {
  const result = await runCommand(file, args);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${String(result.code)}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * The temp dir prefix of this test run. The vitest process's pid is in it
 * (global-setup.ts exports it to the workers), so teardown cleans only its
 * own leaks and never the pools of another suite running on this machine.
 */
export function runPrefix(): string {
  return `${TEMP_PREFIX}${process.env.FERRY_TEST_RUN ?? String(process.pid)}-`;
}

const registry = new Set<Pool>();
/** Pools created while a test runs (as opposed to in beforeAll), when usePools() is on. */
let testScoped: Set<Pool> | null = null;

export async function createPool(options: PoolOptions = {}): Promise<Pool> {
  const sizeMiB = options.sizeMiB ?? 256;
  const base = options.dir === 'tmp' ? tmpdir() : '/dev/shm';
  const dir = await mkdtemp(join(base, runPrefix()));
  const image = join(dir, 'pool.img');
  const path = join(dir, 'mnt');
  let loopDevice = '';
  let mounted = false;

  let destroying: Promise<void> | null = null;
  const pool: Pool = {
    path,
    image,
    get loopDevice() {
      return loopDevice;
    },
    destroy() {
      destroying ??= (async () => {
        try {
          if (mounted) await unmount(path);
          if (loopDevice) {
            // Drop the kernel's record of the device before the loop number is reused.
            await runCommand('btrfs', ['device', 'scan', '--forget', loopDevice]);
            await detach(loopDevice);
          }
          await rm(dir, { recursive: true, force: true });
        } finally {
          registry.delete(pool);
        }
      })();
      return destroying;
    },
  };
  registry.add(pool);
  testScoped?.add(pool);

  try {
    const handle = await open(image, 'w');
    await handle.truncate(sizeMiB * 1024 * 1024);
    await handle.close();
    await run('mkfs.btrfs', ['-q', '-f', ...(options.label === undefined ? [] : ['-L', options.label]), image]);
    loopDevice = (await run('losetup', ['--find', '--show', image])).trim();
    await mkdir(path);
    await run('mount', ['-o', MOUNT_OPTIONS, loopDevice, path]);
    mounted = true;
  } catch (err) {
    await pool.destroy();
    throw err;
  }
  return pool;
}

export interface Raid1Pool extends Pool {
  /** Both image files; `image` is the first. */
  readonly images: readonly string[];
  /** The loop devices still attached; `loopDevice` is the first, which stays. */
  readonly loopDevices: readonly string[];
  /**
   * Lose the second device: unmount, make the kernel forget it, detach its
   * loop device, then mount the first alone with `-o degraded` (and `ro` if
   * asked). The pool's destroy() still cleans up everything.
   */
  degrade(options?: { readOnly?: boolean }): Promise<void>;
}

/**
 * A two-device pool, data and metadata raid1, on two loop-attached images in
 * one temp dir. Registered like createPool's, so usePools() and
 * destroyAllPools() clean it up.
 */
export async function createRaid1Pool(options: Omit<PoolOptions, 'label'> = {}): Promise<Raid1Pool> {
  const sizeMiB = options.sizeMiB ?? 256;
  const base = options.dir === 'tmp' ? tmpdir() : '/dev/shm';
  const dir = await mkdtemp(join(base, runPrefix()));
  const images = [join(dir, 'pool-1.img'), join(dir, 'pool-2.img')];
  const path = join(dir, 'mnt');
  const attached: string[] = [];
  let mounted = false;

  /** Drop the kernel's record of the device (before its loop number is reused), then detach it. */
  const release = async (loop: string): Promise<void> => {
    await runCommand('btrfs', ['device', 'scan', '--forget', loop]);
    await detach(loop);
    attached.splice(attached.indexOf(loop), 1);
  };

  let destroying: Promise<void> | null = null;
  const pool: Raid1Pool = {
    path,
    image: images[0]!,
    images,
    get loopDevice() {
      return attached[0] ?? '';
    },
    get loopDevices() {
      return [...attached];
    },
    async degrade(degradeOptions = {}) {
      const [first, second] = attached;
      if (first === undefined || second === undefined) throw new Error('the pool has no second device left to lose');
      await unmount(path);
      mounted = false;
      await release(second);
      await run('mount', ['-o', `${MOUNT_OPTIONS},${degradeOptions.readOnly ? 'degraded,ro' : 'degraded'}`, first, path]);
      mounted = true;
    },
    destroy() {
      destroying ??= (async () => {
        try {
          if (mounted) await unmount(path);
          mounted = false;
          for (const loop of [...attached]) await release(loop);
          await rm(dir, { recursive: true, force: true });
        } finally {
          registry.delete(pool);
        }
      })();
      return destroying;
    },
  };
  registry.add(pool);
  testScoped?.add(pool);

  try {
    for (const image of images) {
      const handle = await open(image, 'w');
      await handle.truncate(sizeMiB * 1024 * 1024);
      await handle.close();
    }
    await run('mkfs.btrfs', ['-q', '-f', '-d', 'raid1', '-m', 'raid1', ...images]);
    for (const image of images) attached.push((await run('losetup', ['--find', '--show', image])).trim());
    // Without udev nothing tells the kernel the second device belongs to the filesystem.
    await run('btrfs', ['device', 'scan', ...attached]);
    await mkdir(path);
    await run('mount', ['-o', MOUNT_OPTIONS, attached[0]!, path]);
    mounted = true;
  } catch (err) {
    await pool.destroy();
    throw err;
  }
  return pool;
}

/** Unmount, retrying while busy, then lazily as a last resort. */
export async function unmount(target: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await runCommand('umount', [target]);
    if (result.code === 0 || /not mounted|no mount point/i.test(result.stderr)) return;
    if (!/busy/i.test(result.stderr)) throw new Error(`umount ${target} failed: ${result.stderr.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
  }
  await run('umount', ['-l', target]);
}

/** Detach a loop device; one still busy is set to detach itself when released. */
export async function detach(loopDevice: string): Promise<void> {
  const result = await runCommand('losetup', ['-d', loopDevice]);
  if (result.code !== 0 && !/No such device/i.test(result.stderr)) {
    throw new Error(`losetup -d ${loopDevice} failed: ${result.stderr.trim()}`);
  }
}

/** Destroy every pool this process created and has not destroyed yet. */
export async function destroyAllPools(): Promise<void> {
  const errors: unknown[] = [];
  for (const pool of [...registry]) {
    try {
      await pool.destroy();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'destroying pools failed');
}

/**
 * Call once at the top of a test file: pools created inside a test are
 * destroyed after that test, pools created in beforeAll after the file,
 * whether the tests pass or fail.
 */
export function usePools(): void {
  beforeEach(() => {
    testScoped = new Set();
  });
  afterEach(async () => {
    const pools = [...(testScoped ?? [])];
    testScoped = null;
    const results = await Promise.allSettled(pools.map((pool) => pool.destroy()));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length > 0) throw new AggregateError(errors, 'destroying pools failed');
  });
  afterAll(destroyAllPools);
}

/**
 * Fills a mounted pool until a few hundred KiB are left, with preallocated
 * files named `filler` and `filler-*` (keep them outside replica directories).
 */
export async function fillPool(mount: string, filler: string): Promise<void> {
  await runCommand('btrfs', ['filesystem', 'sync', mount]);
  const st = await statfs(mount);
  let size = Number(st.bavail) * Number(st.bsize);
  for (let tries = 0; tries < 40 && size > 0; tries++) {
    const r = await runCommand('fallocate', ['-l', String(size), filler]);
    if (r.code === 0) break;
    await rm(filler, { force: true });
    size -= 4 << 20;
  }
  // Whatever fallocate's estimate left over goes to smaller fills.
  for (let chunk = 4 << 20; chunk >= 64 << 10; chunk >>= 1) {
    for (;;) {
      const more = `${filler}-${chunk}-${Math.random().toString(36).slice(2)}`;
      const r = await runCommand('fallocate', ['-l', String(chunk), more]);
      if (r.code !== 0) {
        await rm(more, { force: true });
        break;
      }
    }
  }
}

/** Removes what fillPool wrote and gives the space back. */
export async function emptyPool(mount: string, filler: string): Promise<void> {
  for (const name of await readdir(dirname(filler))) {
    if (name.startsWith(basename(filler))) await rm(join(dirname(filler), name), { force: true });
  }
  await runCommand('btrfs', ['filesystem', 'sync', mount]);
}
