// `npm run demo`: two appliances on this machine, replicating for real.
//
// Two btrfs pools on loop-mounted image files, two daemons on 127.0.0.1 with
// ports the system chooses, paired by invite; a generated share replicated
// full, then incremental after files change; both trails printed. It keeps
// running until Ctrl-C, then stops the daemons and removes the pools, the
// loop devices and the images. A demo that crashed or was killed is cleaned
// up by the next one (or by `npm run demo -- --clean`): every run works in
// /tmp/ferry-demo-<pid> and records what it made there.
//
// Ctrl-C in a terminal signals the whole process group (npm, tsx, the demo,
// its daemons), and npm or tsx may end the demo before its cleanup is done;
// `timeout` signals npm alone. So each demo starts a keeper first: a detached
// process in a session of its own, which no signal to the group reaches,
// that waits for the demo's process to end (however it ends) and then cleans
// up whatever is still there.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const FERRY = path.join(ROOT, 'dist/ferry.cjs');
const PREFIX = 'ferry-demo-';
const POOL_MIB = 768;

interface Made {
  mounts: string[];
  loops: string[];
  daemons: number[];
  keepers: number[];
}

const say = (text: string): void => void process.stdout.write(`${text}\n`);
const step = (text: string): void => say(`\n== ${text}`);

function run(cmd: string, args: readonly string[], options: { quiet?: boolean; input?: string } = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (options.input !== undefined) child.stdin?.end(options.input);
    let out = '';
    let err = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && !options.quiet) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`));
      else resolve({ code, out, err });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Undoes what a demo made, in reverse: daemons, mounts, loop devices, files. Safe to run twice. */
async function cleanUp(dir: string): Promise<void> {
  const made = await readMade(dir);
  for (const pid of made.daemons) if (alive(pid)) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && made.daemons.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  for (const pid of made.daemons) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const mount of made.mounts.reverse()) await run('umount', [mount], { quiet: true });
  // Also whatever is still mounted or attached from this dir, recorded or not (a crash between the two steps).
  const mounted = await run('findmnt', ['-rn', '-o', 'TARGET'], { quiet: true });
  for (const target of mounted.out.split('\n').filter((t) => t.startsWith(dir + '/'))) await run('umount', [target], { quiet: true });
  const loops = await run('losetup', ['-nl', '-O', 'NAME,BACK-FILE'], { quiet: true });
  for (const line of loops.out.split('\n')) {
    const [device, file] = line.trim().split(/\s+/);
    if (device && file?.startsWith(dir + '/')) await run('losetup', ['-d', device], { quiet: true });
  }
  for (const loop of made.loops) await run('losetup', ['-d', loop], { quiet: true });
  await rm(dir, { recursive: true, force: true });
}

async function readMade(dir: string): Promise<Made> {
  const text = await readFile(path.join(dir, 'made.log'), 'utf8').catch(() => '');
  const made: Made = { mounts: [], loops: [], daemons: [], keepers: [] };
  for (const line of text.split('\n')) {
    const [kind, value] = line.split(' ', 2);
    if (kind === 'mount' && value) made.mounts.push(value);
    if (kind === 'loop' && value) made.loops.push(value);
    if (kind === 'daemon' && value) made.daemons.push(Number(value));
    if (kind === 'keeper' && value) made.keepers.push(Number(value));
  }
  return made;
}

/** Demos whose process is gone: what a crash or a kill -9 left behind. */
async function cleanLeftovers(): Promise<number> {
  let cleaned = 0;
  for (const name of await readdir(os.tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.slice(PREFIX.length));
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) {
      await cleanUp(path.join(os.tmpdir(), name));
      cleaned++;
    }
  }
  return cleaned;
}

async function ferry(state: string, args: readonly string[]): Promise<string> {
  return (await run(process.execPath, [FERRY, '--state', state, ...args])).out;
}

/** How often a keeper looks whether its demo still runs. */
const KEEPER_POLL_MS = 500;

/** The keeper: waits for the demo's process to end, then cleans up what it left. */
async function keep(pid: number, dir: string): Promise<void> {
  while (alive(pid)) await new Promise((r) => setTimeout(r, KEEPER_POLL_MS));
  await cleanUp(dir);
}

/** Starts the keeper of this demo, detached: a session of its own, no terminal, no pipe to us. */
function startKeeper(dir: string): number {
  const keeper = spawn(process.execPath, [...process.execArgv, import.meta.filename, '--keep', String(process.pid), dir], { detached: true, stdio: 'ignore' });
  keeper.unref();
  return keeper.pid ?? 0;
}

async function main(): Promise<void> {
  const keepAt = process.argv.indexOf('--keep');
  if (keepAt !== -1) {
    await keep(Number(process.argv[keepAt + 1]), process.argv[keepAt + 2] ?? '');
    return;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('The demo makes btrfs pools on loop devices and mounts them: run it as root (sudo npm run demo).\n');
    process.exit(2);
  }
  const leftovers = await cleanLeftovers();
  if (leftovers > 0) say(`cleaned up ${leftovers} earlier demo(s) that did not end cleanly`);
  if (process.argv.includes('--clean')) return;
  if (!existsSync(FERRY)) throw new Error(`${FERRY} is missing: run ./deploy/setup.sh (or npm run build) first`);

  const dir = path.join(os.tmpdir(), `${PREFIX}${process.pid}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const record = (kind: string, value: string | number): Promise<void> => appendFile(path.join(dir, 'made.log'), `${kind} ${value}\n`);
  await record('keeper', startKeeper(dir));
  const daemons: ChildProcess[] = [];
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      say('\nstopping the daemons and removing the pools ...');
      await cleanUp(dir);
      say('cleaned up: no daemon, mount, loop device or image file is left');
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    step('two btrfs pools on loop devices');
    const pools: Record<string, string> = {};
    for (const name of ['alpha', 'beta']) {
      const image = path.join(dir, `${name}.img`);
      await writeFile(image, '');
      await run('truncate', ['-s', `${POOL_MIB}M`, image]);
      await run('mkfs.btrfs', ['-q', '-L', `${PREFIX}${name}`, image]);
      const loop = (await run('losetup', ['--find', '--show', image])).out.trim();
      await record('loop', loop);
      const mount = path.join(dir, `${name}-pool`);
      await mkdir(mount);
      await run('mount', [loop, mount]);
      await record('mount', mount);
      pools[name] = mount;
      say(`${name}: ${POOL_MIB} MiB pool on ${loop}, mounted at ${mount}`);
    }

    step('two appliances on 127.0.0.1, ports chosen by the system');
    const states: Record<string, string> = {};
    // One web UI password for both, made here and printed at the end (the demo is on this machine only).
    const password = randomBytes(9).toString('base64url');
    for (const name of ['alpha', 'beta']) {
      states[name] = path.join(dir, `${name}-state`);
      await ferry(states[name] ?? '', ['init', '--name', name, '--listen', '127.0.0.1:0']);
      await run(process.execPath, [FERRY, '--state', states[name] ?? '', 'admin', 'password'], { input: `${password}\n` });
      const daemon = spawn(process.execPath, ['--max-semi-space-size=2', FERRY, '--state', states[name] ?? '', 'serve'], { stdio: ['ignore', 'ignore', 'pipe'] });
      daemon.stderr?.on('data', () => undefined);
      daemons.push(daemon);
      await record('daemon', daemon.pid ?? 0);
    }
    const ui: Record<string, string> = {};
    for (const name of ['alpha', 'beta']) {
      for (let i = 0; ; i++) {
        const r = await run(process.execPath, [FERRY, '--state', states[name] ?? '', 'status', '--json'], { quiet: true });
        if (r.code === 0) {
          const s = JSON.parse(r.out) as { id: string; listen: string; admin: string; fingerprint: string; ui: { local: string | null } };
          ui[name] = s.ui.local ?? '';
          say(`${name}: ${s.id}, peers on ${s.listen}, admin API on ${s.admin}, fingerprint ${s.fingerprint}`);
          break;
        }
        if (i > 150) throw new Error(`${name} did not start: ${r.err}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    step('pairing by invite; beta offers a pool');
    await ferry(states.beta ?? '', ['pool', 'add', 'backup', pools.beta ?? '']);
    const invite = (await ferry(states.beta ?? '', ['pair', 'invite'])).trim();
    say(`beta$ ferry pair invite   -> ${invite.slice(0, 40)}...`);
    await ferry(states.alpha ?? '', ['pair', 'accept', invite]);
    say((await ferry(states.alpha ?? '', ['peer', 'list'])).trimEnd());

    step('a share on alpha, replicated to beta: full, then incremental');
    const share = path.join(pools.alpha ?? '', 'photos');
    await run('btrfs', ['subvolume', 'create', share]);
    await mkdir(path.join(share, '2026'));
    for (let i = 0; i < 120; i++) await writeFile(path.join(share, '2026', `IMG_${String(i).padStart(4, '0')}.jpg`), randomBytes(256 * 1024 + i * 1024));
    await ferry(states.alpha ?? '', ['task', 'add', 'photos', '--share', share, '--peer', 'beta', '--pool', 'backup', '--every', '1h']);
    say((await ferry(states.alpha ?? '', ['task', 'run', 'photos', '--wait'])).trimEnd());
    for (let i = 0; i < 10; i++) await writeFile(path.join(share, '2026', `IMG_${String(1000 + i)}.jpg`), randomBytes(300 * 1024));
    await rm(path.join(share, '2026', 'IMG_0000.jpg'));
    say('(10 photos added, 1 deleted)');
    say((await ferry(states.alpha ?? '', ['task', 'run', 'photos', '--wait'])).trimEnd());

    step("alpha's send trail");
    say((await ferry(states.alpha ?? '', ['trail', 'send'])).trimEnd());
    step("beta's receive trail");
    say((await ferry(states.beta ?? '', ['trail', 'receive'])).trimEnd());

    step('running');
    say('the demo replicated; both appliances keep running (the task runs every hour).');
    say('try, for example:');
    say(`  ferry --state ${states.alpha} task list`);
    say(`  ferry --state ${states.beta} replica list`);
    say(`  ferry --state ${states.alpha} restore photos --from beta --to ${path.join(pools.alpha ?? '', 'photos-restored')} --wait`);
    say(`the web UI: alpha ${ui.alpha}, beta ${ui.beta}; password ${password}`);
    say('Ctrl-C stops both daemons and removes everything the demo made.');
    for (const d of daemons) {
      d.on('exit', (code) => {
        if (stopping) return;
        say(`a daemon exited (${code ?? 'signal'}); stopping the demo`);
        void stop(1);
      });
    }
    await new Promise(() => undefined);
  } catch (err) {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stop(1);
  }
}

await main();
