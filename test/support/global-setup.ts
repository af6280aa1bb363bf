// vitest globalSetup: refuse to start without what the btrfs tests need, and
// after the suite fail it if any pool leaked (cleaning the leak up first).

import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detach, TEMP_PREFIX, unmount } from './pools.js';
import { runCommand as run } from './run.js';

const RUN_ID = String(process.pid);

interface Leaks {
  mounts: string[];
  loops: { device: string; file: string }[];
  dirs: string[];
}

export async function setup(): Promise<void> {
  // Workers are forked after this runs, so they inherit it: see runPrefix().
  process.env.FERRY_TEST_RUN = RUN_ID;
  if (process.getuid?.() !== 0) {
    throw new Error('The Ferry test suite makes real btrfs pools (mkfs.btrfs, losetup, mount) and must run as root.');
  }
  for (const tool of ['btrfs', 'mkfs.btrfs', 'losetup', 'findmnt']) {
    const found = await run(tool, ['--version']).catch(() => null);
    if (found?.code !== 0) throw new Error(`The Ferry test suite needs ${tool} (btrfs-progs, util-linux) on PATH.`);
  }
  // Daemons and the CLI run in tests as they run in production: compiled, from
  // dist/ (a loader such as tsx would add its own thread and wake-ups to
  // every measurement of an idle daemon). Build it fresh for every run.
  const built = await run(process.execPath, [join(process.cwd(), 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  if (built.code !== 0) throw new Error(`npm run build failed before the tests:\n${built.stdout}${built.stderr}`);
  const bundled = await run(process.execPath, [join(process.cwd(), 'tools/bundle-cli.js')]);
  if (bundled.code !== 0) throw new Error(`bundling the ferry command failed before the tests:\n${bundled.stdout}${bundled.stderr}`);
  const web = await run(process.execPath, [join(process.cwd(), 'tools/bundle-web.js')]);
  if (web.code !== 0) throw new Error(`bundling the web UI failed before the tests:\n${web.stdout}${web.stderr}`);
}

export async function teardown(): Promise<void> {
  const ours = await findLeaks(`${TEMP_PREFIX}${RUN_ID}-`);
  const stale = await findLeaks(TEMP_PREFIX, { deadRunsOnly: true });
  await cleanUp(ours);
  await cleanUp(stale);
  if (count(stale) > 0) {
    console.warn(`Cleaned up pools leaked by an earlier, dead test run:\n${describe(stale)}`);
  }
  if (count(ours) > 0) {
    // vitest 4 only logs a teardown error ("error during close") and exits 0.
    process.exitCode = 1;
    throw new Error(`The test suite leaked btrfs pools (now cleaned up):\n${describe(ours)}`);
  }
}

function count(leaks: Leaks): number {
  return leaks.mounts.length + leaks.loops.length + leaks.dirs.length;
}

function describe(leaks: Leaks): string {
  return [
    ...leaks.mounts.map((m) => `  mount ${m}`),
    ...leaks.loops.map((l) => `  loop device ${l.device} -> ${l.file}`),
    ...leaks.dirs.map((d) => `  temp dir ${d}`),
  ].join('\n');
}

/** The run id in a `ferry-test-<pid>-XXXXXX` path, if it has one. */
function runIdOf(path: string): number | null {
  const match = new RegExp(`${TEMP_PREFIX}(\\d+)-`).exec(path);
  return match?.[1] ? Number(match[1]) : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function findLeaks(prefix: string, options: { deadRunsOnly?: boolean } = {}): Promise<Leaks> {
  const matches = (path: string): boolean => {
    if (!path.includes(prefix)) return false;
    if (!options.deadRunsOnly) return true;
    const id = runIdOf(path);
    // Another suite on this machine, still running: its pools are not leaks (yet).
    return id !== null && id !== Number(RUN_ID) && !isAlive(id);
  };

  // -r escapes spaces and such as \x20; the prefix has none of them.
  const mounts = (await run('findmnt', ['-rn', '-t', 'btrfs', '-o', 'TARGET'])).stdout
    .split('\n')
    .filter((line) => line !== '' && matches(line));

  const loops: { device: string; file: string }[] = [];
  const listed = await run('losetup', ['-J', '-l']);
  if (listed.code === 0 && listed.stdout.trim() !== '') {
    const parsed = JSON.parse(listed.stdout) as { loopdevices?: { name: string; 'back-file'?: string | null }[] };
    for (const dev of parsed.loopdevices ?? []) {
      const file = dev['back-file'] ?? '';
      if (matches(file)) loops.push({ device: dev.name, file });
    }
  }

  const dirs: string[] = [];
  for (const base of new Set(['/dev/shm', tmpdir()])) {
    const names = await readdir(base).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(base, name);
      if (name.startsWith(TEMP_PREFIX) && matches(path + '/')) dirs.push(path);
    }
  }
  return { mounts, loops, dirs };
}

async function cleanUp(leaks: Leaks): Promise<void> {
  for (const mount of leaks.mounts) await unmount(mount).catch((err: unknown) => console.error(err));
  for (const loop of leaks.loops) await detach(loop.device).catch((err: unknown) => console.error(err));
  // Only dirs with nothing mounted left in them: rm must not walk into a live filesystem.
  const stillMounted = (await run('findmnt', ['-rn', '-o', 'TARGET'])).stdout.split('\n');
  for (const dir of leaks.dirs) {
    if (stillMounted.some((target) => target.startsWith(dir + '/') || target === dir)) {
      console.error(`not removing ${dir}: something is still mounted in it`);
      continue;
    }
    await rm(dir, { recursive: true, force: true });
  }
}
