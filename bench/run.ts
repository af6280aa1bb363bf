// `npm run bench`: raw `btrfs send | btrfs receive` against Ferry between two
// real daemons over loopback HTTP (signed requests, sealed stream), on
// memory-backed loop pools (images allocated up front), full and incremental,
// in one run.
//
// What it does:
//  - makes three btrfs pools on loop devices over image files in /dev/shm: a
//    source, a target for the raw pipe and a target for Ferry;
//  - writes a mixed data set into a share on the source once: a few large
//    incompressible files and tens of thousands of small ones (>= 2 GiB);
//  - starts two `ferry serve` daemons (own state dirs), pairs them by invite
//    through the CLI, grants the Ferry target as a pool and adds a task;
//  - full sends, alternating raw and Ferry, `--repeat` times each (received
//    subvolumes deleted and `btrfs subvolume sync`ed between runs);
//  - then modifies ~5% of the data and sends an incremental both ways, also
//    `--repeat` times (a fresh modification each round);
//  - prints medians: MB/s, Ferry/raw ratio, each daemon's peak RSS (VmHWM,
//    reset before each run) and CPU seconds per GiB (from /proc/<pid>/stat:
//    the daemon's own time, and that of its reaped btrfs children).
//
// Ferry's time is its attempt as its send trail records it (from the attempt's
// start, after the snapshot, to the committed replica); the raw time is the
// pipe's wall time. MB/s is over the send stream's bytes as Ferry counted them
// (raw sends the same snapshot content, so the same stream up to path names).
// Everything is cleaned up on exit, error, Ctrl-C or SIGTERM.
//
// Options (environment): FERRY_BENCH_LARGE_MIB (default 5x400: a list of
// large-file sizes in MiB), FERRY_BENCH_SMALL (small files, default 25000),
// FERRY_BENCH_REPEAT (default 3), FERRY_BENCH_PROF (a directory: the daemons
// run with --cpu-prof into it), FERRY_BENCH_TSX=1 (run the daemons from src/
// through tsx instead of building dist/ first), FERRY_BENCH_NODE_FLAGS (more
// node flags for the daemons, e.g. --trace-gc; their logs are in the state dir),
// FERRY_BENCH_FLOOR=0 (skip the floor: bench/floor.ts, the leanest Node relay
// with and without AES-256-GCM, run beside the raw pipe in each full round),
// FERRY_BENCH_GUARD=0 (skip bench/guard.ts: the receiver's whole-stream check
// alone, the full and the last incremental stream read with and without it;
// and bench/jail-commit.ts: what leaving a transfer's jail costs at the commit).

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createCipheriv, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/cli.js';
import { describeCost, streamCheckCost, type GuardCost } from './guard.js';
import { describeJailCommit, jailCommitCost, type JailCommitCost } from './jail-commit.js';
import { shebangNodeFlags } from '../test/support/launch.js';
import type { CommandResult } from '../test/support/run.js';
import { atExit, makePool, run, runBench, settle } from './support.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const ROOT = path.resolve(import.meta.dirname, '..');
/** The daemons run as installed (`npm run build`, dist/): tsx's loader thread alone adds ~35 MiB of RSS. */
const useTsx = process.env.FERRY_BENCH_TSX === '1';
const MAIN = useTsx ? path.join(ROOT, 'src/cli/main.ts') : path.join(ROOT, 'dist/ferry.cjs');
/** The node flags of the installed `ferry` (its shebang line), and tsx's loader when asked. */
/** The node flags of the installed `ferry` (its shebang line; read once dist/ is built), and tsx's loader when asked. */
const nodeArgs = (): string[] => [...shebangNodeFlags(MAIN), ...(useTsx ? ['--import', 'tsx'] : [])];
const CLK_TCK = 100;

const largeMiB = (process.env.FERRY_BENCH_LARGE_MIB ?? '400,400,400,400,400').split(',').map(Number);
const smallCount = Number(process.env.FERRY_BENCH_SMALL ?? 25_000);
const repeat = Math.max(1, Number(process.env.FERRY_BENCH_REPEAT ?? 3));
const profDir = process.env.FERRY_BENCH_PROF;
const withFloor = process.env.FERRY_BENCH_FLOOR !== '0';
const withGuard = process.env.FERRY_BENCH_GUARD !== '0';
const FLOOR = path.join(ROOT, 'bench/floor.ts');

type Ran = CommandResult;

const ferry = (state: string, args: readonly string[]): Promise<Ran> => run(process.execPath, [...nodeArgs(), MAIN, '--state', state, ...args]);
const ferryJson = async <T>(state: string, args: readonly string[]): Promise<T> => JSON.parse((await ferry(state, [...args, '--json'])).stdout) as T;


/** utime, stime, cutime, cstime of a process, in seconds. */
async function cpuOf(pid: number | 'self'): Promise<{ self: number; children: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, so index 11.
  const n = (i: number): number => Number(fields[i]) / CLK_TCK;
  return { self: n(11) + n(12), children: n(13) + n(14) };
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function resetPeakRss(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

const btrfs = (args: readonly string[]): Promise<Ran> => run('btrfs', args);

async function deleteSubvolumesIn(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const names = await readdir(dir);
  for (const name of names) await btrfs(['subvolume', 'delete', '-c', path.join(dir, name)]);
}

// ---- data -----------------------------------------------------------------------------

/** Incompressible bytes fast: AES-128-CTR keystream (GB/s; randomBytes is far slower). */
function keystream(): (n: number) => Buffer {
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(8 * MiB);
  return (n) => cipher.update(n <= zeros.length ? zeros.subarray(0, n) : Buffer.alloc(n));
}

function writeLarge(file: string, bytes: number, next: (n: number) => Buffer): void {
  const fd = openSync(file, 'w');
  try {
    for (let done = 0; done < bytes; ) {
      const n = Math.min(8 * MiB, bytes - done);
      writeSync(fd, next(n));
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Small files of 1..16 KiB in 250 directories. Returns their total size. */
function writeSmall(share: string, count: number, next: (n: number) => Buffer): number {
  let total = 0;
  const pool = next(64 * MiB);
  for (let i = 0; i < count; i++) {
    const dir = path.join(share, 'small', String(i % 250).padStart(3, '0'));
    if (i < 250) mkdirSync(dir, { recursive: true });
    const size = 1024 + Math.floor(Math.random() * 15 * 1024);
    const at = Math.floor(Math.random() * (pool.length - size));
    writeFileSync(path.join(dir, `f${i}.bin`), pool.subarray(at, at + size));
    total += size;
  }
  return total;
}

/** Rewrites about `fraction` of the data set in place: 1 MiB blocks of the large files, and whole small files. */
function modify(share: string, fraction: number, round: number, next: (n: number) => Buffer): number {
  let changed = 0;
  largeMiB.forEach((size, i) => {
    const fd = openSync(path.join(share, 'large', `large-${i}.bin`), 'r+');
    try {
      const blocks = Math.max(1, Math.round(size * fraction));
      for (let b = 0; b < blocks; b++) {
        const at = Math.floor(Math.random() * size) * MiB;
        writeSync(fd, next(MiB), 0, MiB, at);
        changed += MiB;
      }
    } finally {
      closeSync(fd);
    }
  });
  const files = Math.round(smallCount * fraction);
  const pool = next(8 * MiB);
  for (let k = 0; k < files; k++) {
    const i = Math.floor(Math.random() * smallCount);
    const size = 1024 + Math.floor(Math.random() * 15 * 1024);
    const at = Math.floor(Math.random() * (pool.length - size));
    writeFileSync(path.join(share, 'small', String(i % 250).padStart(3, '0'), `f${i}.bin`), pool.subarray(at, at + size));
    changed += size;
  }
  // And a few new files.
  mkdirSync(path.join(share, `new-${round}`));
  for (let k = 0; k < 200; k++) writeFileSync(path.join(share, `new-${round}`, `n${k}.bin`), pool.subarray(k * 4096, k * 4096 + 4096));
  return changed + 200 * 4096;
}

// ---- daemons --------------------------------------------------------------------------

interface Daemon {
  readonly name: string;
  readonly state: string;
  readonly child: ChildProcess;
  readonly pid: number;
}

async function startDaemon(name: string, work: string): Promise<Daemon> {
  const state = path.join(work, name);
  await mkdir(state);
  const port = await freePort();
  const admin = await freePort();
  await ferry(state, ['init', '--name', name, '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`]);
  const log = openSync(path.join(work, `${name}.log`), 'a');
  const extra = (process.env.FERRY_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const execArgv = [...nodeArgs(), ...extra, ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [])];
  const child = spawn(process.execPath, [...execArgv, MAIN, '--state', state, 'serve'], { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  atExit(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await run(process.execPath, [...nodeArgs(), MAIN, '--state', state, 'status', '--json'], { allowFail: true });
    if (r.code === 0) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`daemon ${name} did not start; see ${path.join(work, `${name}.log`)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  return { name, state, child, pid: child.pid! };
}

// ---- measurements ---------------------------------------------------------------------

interface Measure {
  seconds: number;
  bytes: number;
  /** CPU seconds: the sender node, its btrfs send; the receiver node, its btrfs receive. Raw: all btrfs time. */
  cpu: { senderNode: number; senderBtrfs: number; receiverNode: number; receiverBtrfs: number };
  rss: { sender: number; receiver: number };
}

/** The bench's private directory (state dirs, logs, the raw pipe's FIFO); set by main. */
let workDir = os.tmpdir();
let rawPipes = 0;

/**
 * `btrfs send | btrfs receive` through a real kernel pipe, without a shell: a
 * FIFO (made in the bench's own directory) that send writes with -f and
 * receive reads with -f. If either fails, the other is killed rather than left
 * waiting on the FIFO.
 */
async function rawSend(snapshot: string, parent: string | null, targetDir: string, bytes: number): Promise<Measure> {
  const fifo = path.join(workDir, `raw-${++rawPipes}.fifo`);
  await run('mkfifo', ['-m', '600', fifo]);
  const before = await cpuOf('self');
  const t0 = performance.now();
  const sender = spawn('btrfs', ['send', '-q', ...(parent ? ['-p', parent] : []), '-f', fifo, '--', snapshot], { stdio: ['ignore', 'ignore', 'pipe'] });
  const receiver = spawn('btrfs', ['receive', '-e', '-f', fifo, '--', targetDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  const finished = (child: ChildProcess, other: ChildProcess, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const err: Buffer[] = [];
      child.stderr?.on('data', (b: Buffer) => err.push(b));
      child.once('error', reject);
      child.once('close', (code) => {
        if (code === 0) return resolve();
        other.kill('SIGKILL');
        reject(new Error(`${what} exited ${code}: ${Buffer.concat(err).toString('utf8').trim()}`));
      });
    });
  try {
    await Promise.all([finished(sender, receiver, 'btrfs send'), finished(receiver, sender, 'btrfs receive')]);
  } finally {
    await rm(fifo, { force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = await cpuOf('self');
  const btrfsCpu = after.children - before.children;
  return { seconds, bytes, cpu: { senderNode: 0, senderBtrfs: btrfsCpu, receiverNode: 0, receiverBtrfs: 0 }, rss: { sender: 0, receiver: 0 } };
}

type FloorMode = 'plain' | 'aes';

/**
 * bench/floor.ts between the same btrfs send and receive: the leanest Node
 * relay (raw TCP, one cipher call per 256 KiB chunk), timed from the go to the
 * end of btrfs receive. Its CPU is each relay process's own, as for the daemons.
 */
async function floorSend(mode: FloorMode, snapshot: string, targetDir: string, bytes: number): Promise<Measure> {
  const key = randomBytes(32).toString('hex');
  const execArgv = [...shebangNodeFlags(MAIN), '--import', 'tsx'];
  const start = (args: string[]): { child: ChildProcess; next: () => Promise<Record<string, number>> } => {
    const child = fork(FLOOR, args, { execArgv, env: { ...process.env, FERRY_FLOOR_KEY: key }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const failed = new Promise<never>((_, reject) =>
      child.once('exit', (code) => {
        if (code !== 0) reject(new Error(`bench/floor.ts ${args[0]} exited ${code}`));
      }),
    );
    failed.catch(() => undefined);
    atExit(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return Promise.resolve();
    });
    // Each role posts one message at a time and waits for the next step, so a listener set before that step misses nothing.
    const next = (): Promise<Record<string, number>> => Promise.race([failed, once(child, 'message').then(([m]) => m as Record<string, number>)]);
    return { child, next };
  };
  const receiver = start(['receive', targetDir, mode]);
  const { port } = await receiver.next();
  const sender = start(['send', snapshot, String(port), mode]);
  await sender.next(); // ready
  const done = Promise.all([sender.next(), receiver.next()]);
  const t0 = performance.now();
  sender.child.send('go');
  const [sent, received] = await done;
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, bytes, cpu: { senderNode: sent.cpu ?? 0, senderBtrfs: 0, receiverNode: received.cpu ?? 0, receiverBtrfs: 0 }, rss: { sender: 0, receiver: 0 } };
}

interface TrailEntry {
  status: string;
  mode: string;
  bytes: number;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
}

async function ferrySend(alpha: Daemon, beta: Daemon, task: string, mode: 'full' | 'incremental'): Promise<Measure> {
  await resetPeakRss(alpha.pid);
  await resetPeakRss(beta.pid);
  const a0 = await cpuOf(alpha.pid);
  const b0 = await cpuOf(beta.pid);
  const r = await ferry(alpha.state, ['task', 'run', task, '--wait']);
  if (r.code !== 0) throw new Error(`ferry task run ${task} failed: ${r.stderr}`);
  const a1 = await cpuOf(alpha.pid);
  const b1 = await cpuOf(beta.pid);
  const [entry] = await ferryJson<TrailEntry[]>(alpha.state, ['trail', 'send', '--task', task, '--limit', '1']);
  if (!entry || entry.status !== 'succeeded' || entry.endedAt === null) throw new Error(`ferry run did not succeed: ${JSON.stringify(entry)}`);
  if (entry.mode !== mode) throw new Error(`ferry sent ${entry.mode}, expected ${mode}`);
  return {
    seconds: (Date.parse(entry.endedAt) - Date.parse(entry.startedAt)) / 1000,
    bytes: entry.bytes,
    cpu: { senderNode: a1.self - a0.self, senderBtrfs: a1.children - a0.children, receiverNode: b1.self - b0.self, receiverBtrfs: b1.children - b0.children },
    rss: { sender: await peakRssMiB(alpha.pid), receiver: await peakRssMiB(beta.pid) },
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mbps = (m: Measure): number => m.bytes / 1e6 / m.seconds;

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

// ---- main -----------------------------------------------------------------------------

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (loop devices, mount, btrfs)');
  if (!useTsx) {
    const t0 = performance.now();
    const built = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { allowFail: true });
    if (built.code !== 0) console.error(`warning: the build reported errors (running what it emitted):\n${built.stdout.split('\n').slice(0, 5).join('\n')}`);
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing after the build`);
    log(`built dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const largeTotal = largeMiB.reduce((a, b) => a + b, 0) * MiB;
  const poolMiB = Math.ceil(((largeTotal + smallCount * 16 * 1024) * 1.3) / MiB) + 1024;
  log(`pools: 3 x ${poolMiB} MiB in /dev/shm; data: ${largeMiB.length} large files (${largeTotal / MiB} MiB) + ${smallCount} small files; ${repeat} rounds`);
  const source = await makePool('source', poolMiB);
  const rawTarget = await makePool('raw', poolMiB);
  const ferryTarget = await makePool('ferry', poolMiB);
  const work = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-state-'));
  workDir = work;
  if (process.env.FERRY_BENCH_KEEP_LOGS === '1') log(`state and logs in ${work} (kept)`);
  else atExit(() => rm(work, { recursive: true, force: true }));

  const share = path.join(source.path, 'data');
  await btrfs(['subvolume', 'create', share]);
  let t = performance.now();
  const next = keystream();
  await mkdir(path.join(share, 'large'));
  largeMiB.forEach((size, i) => writeLarge(path.join(share, 'large', `large-${i}.bin`), size * MiB, next));
  const smallBytes = writeSmall(share, smallCount, next);
  await settle(source);
  const dataBytes = largeTotal + smallBytes;
  log(`data set: ${(dataBytes / GiB).toFixed(2)} GiB (${(smallBytes / MiB).toFixed(0)} MiB in small files) written in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const alpha = await startDaemon('alpha', work);
  const beta = await startDaemon('beta', work);
  const invite = (await ferry(beta.state, ['pair', 'invite'])).stdout.trim();
  await ferry(alpha.state, ['pair', 'accept', invite]);
  await ferry(beta.state, ['pool', 'add', 'backup', ferryTarget.path]);
  await ferry(alpha.state, ['task', 'add', 'bench', '--share', share, '--peer', 'beta', '--pool', 'backup', '--every', '24h', '--keep-local', '100', '--keep-remote', '100']);
  const alphaId = (await ferryJson<{ id: string }>(alpha.state, ['status'])).id;
  const ferryReplicas = path.join(ferryTarget.path, alphaId, 'data');
  log(`daemons up (alpha pid ${alpha.pid}, beta pid ${beta.pid}), paired`);

  const rawSnaps = path.join(source.path, '.raw');
  await mkdir(rawSnaps);
  const rawReceived = path.join(rawTarget.path, 'received');
  await mkdir(rawReceived);
  await btrfs(['subvolume', 'snapshot', '-r', share, path.join(rawSnaps, 'full')]);

  // ---- full sends, alternating --------------------------------------------------------
  const fullRaw: Measure[] = [];
  const fullFerry: Measure[] = [];
  const floors: Record<FloorMode, Measure[]> = { plain: [], aes: [] };
  // The floor lands on the raw target too (one copy at a time fits), before the
  // raw run, so that the raw run stays next to Ferry's and its copy stays the
  // parent of the raw incrementals.
  const floorReceived = path.join(rawTarget.path, 'floor');
  await mkdir(floorReceived);
  const clearRawTarget = async (): Promise<void> => {
    await deleteSubvolumesIn(rawReceived);
    await deleteSubvolumesIn(floorReceived);
    await settle(rawTarget);
  };
  for (let i = 0; i < repeat; i++) {
    const bytes = fullFerry[0]?.bytes ?? 0;
    for (const mode of withFloor ? (['plain', 'aes'] as const) : []) {
      await clearRawTarget();
      const floor = await floorSend(mode, path.join(rawSnaps, 'full'), floorReceived, bytes);
      floors[mode].push(floor);
      log(`full floor ${mode.padEnd(5)} #${i + 1}: ${floor.seconds.toFixed(2)} s`);
    }
    if (i > 0 || withFloor) await clearRawTarget();
    const raw = await rawSend(path.join(rawSnaps, 'full'), null, rawReceived, bytes);
    fullRaw.push(raw);
    log(`full raw   #${i + 1}: ${raw.seconds.toFixed(2)} s`);
    if (i > 0) {
      await deleteSubvolumesIn(ferryReplicas);
      await settle(ferryTarget);
    }
    const f = await ferrySend(alpha, beta, 'bench', 'full');
    fullFerry.push(f);
    log(`full ferry #${i + 1}: ${f.seconds.toFixed(2)} s, ${(f.bytes / GiB).toFixed(2)} GiB stream, ${mbps(f).toFixed(0)} MB/s`);
  }
  for (const r of [...fullRaw, ...floors.plain, ...floors.aes]) r.bytes = fullFerry[0]!.bytes;

  // ---- incrementals -------------------------------------------------------------------
  const incRaw: Measure[] = [];
  const incFerry: Measure[] = [];
  let parent = 'full';
  for (let i = 0; i < repeat; i++) {
    t = performance.now();
    const changed = modify(share, 0.05, i, next);
    await settle(source);
    log(`modified ${(changed / MiB).toFixed(0)} MiB (${((100 * changed) / dataBytes).toFixed(1)}%) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const snap = `inc-${i}`;
    await btrfs(['subvolume', 'snapshot', '-r', share, path.join(rawSnaps, snap)]);
    const f = await ferrySend(alpha, beta, 'bench', 'incremental');
    incFerry.push(f);
    const raw = await rawSend(path.join(rawSnaps, snap), path.join(rawSnaps, parent), rawReceived, f.bytes);
    incRaw.push(raw);
    parent = snap;
    log(`incremental #${i + 1}: raw ${raw.seconds.toFixed(2)} s, ferry ${f.seconds.toFixed(2)} s, ${(f.bytes / MiB).toFixed(0)} MiB stream`);
  }

  // ---- the whole-stream check alone ---------------------------------------------------
  const guardCosts: [string, GuardCost][] = [];
  if (withGuard) {
    guardCosts.push(['full', await streamCheckCost(path.join(rawSnaps, 'full'), null, repeat)]);
    guardCosts.push(['incremental', await streamCheckCost(path.join(rawSnaps, parent), path.join(rawSnaps, 'full'), repeat)]);
    log('measured the whole-stream check');
  }
  let jailCost: JailCommitCost | null = null;
  if (withGuard) {
    jailCost = await jailCommitCost(10 * repeat);
    log('measured the jail commit');
  }

  // ---- report -------------------------------------------------------------------------
  const row = (label: string, raws: Measure[], ferries: Measure[]): string[] => {
    const rawRate = median(raws.map(mbps));
    const ferryRate = median(ferries.map(mbps));
    const gib = (m: Measure): number => m.bytes / GiB;
    const perGiB = (pick: (m: Measure) => number, ms: Measure[]): string => median(ms.map((m) => pick(m) / gib(m))).toFixed(2);
    return [
      label,
      `${(median(ferries.map((m) => m.bytes)) / GiB).toFixed(2)} GiB`,
      rawRate.toFixed(0),
      ferryRate.toFixed(0),
      `${((100 * ferryRate) / rawRate).toFixed(1)}%`,
      `${Math.max(...ferries.map((m) => m.rss.sender)).toFixed(0)} / ${Math.max(...ferries.map((m) => m.rss.receiver)).toFixed(0)}`,
      perGiB((m) => m.cpu.senderBtrfs, raws),
      `${perGiB((m) => m.cpu.senderNode, ferries)} / ${perGiB((m) => m.cpu.receiverNode, ferries)}`,
      `${perGiB((m) => m.cpu.senderBtrfs, ferries)} / ${perGiB((m) => m.cpu.receiverBtrfs, ferries)}`,
    ];
  };
  const header = ['send', 'stream', 'raw MB/s', 'ferry MB/s', 'ferry/raw', 'peak RSS MiB (snd/rcv)', 'raw btrfs CPU s/GiB', 'ferry node CPU s/GiB (snd/rcv)', 'ferry btrfs CPU s/GiB (snd/rcv)'];
  const rows = [header, row(`full (median of ${repeat})`, fullRaw, fullFerry), row(`incremental (median of ${repeat})`, incRaw, incFerry)];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log('');
  console.log(`node ${process.version} ${nodeArgs().join(' ')}, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? ''}; data ${(dataBytes / GiB).toFixed(2)} GiB; auth + AES-256-GCM on`);
  for (const [i, r] of rows.entries()) {
    console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log('');
  console.log('per run (s): full raw ' + fullRaw.map((m) => m.seconds.toFixed(2)).join(' ') + ' | full ferry ' + fullFerry.map((m) => m.seconds.toFixed(2)).join(' '));
  console.log('             inc raw ' + incRaw.map((m) => m.seconds.toFixed(2)).join(' ') + ' | inc ferry ' + incFerry.map((m) => m.seconds.toFixed(2)).join(' '));
  const maxRss = Math.max(...[...fullFerry, ...incFerry].flatMap((m) => [m.rss.sender, m.rss.receiver]));
  // Each Ferry run against the raw run just before it: the machine's speed
  // drifts over minutes, so adjacent pairs compare like with like.
  const paired = (raws: Measure[], ferries: Measure[]): number[] => ferries.map((f, i) => mbps(f) / mbps(raws[i]!));
  const show = (ratios: number[]): string => `${ratios.map((r) => `${(100 * r).toFixed(0)}%`).join(' ')} (median ${(100 * median(ratios)).toFixed(1)}%)`;
  console.log(`paired ratios (each Ferry run / the raw run before it): full ${show(paired(fullRaw, fullFerry))} | inc ${show(paired(incRaw, incFerry))}`);
  const fullRatio = median(fullFerry.map(mbps)) / median(fullRaw.map(mbps));
  console.log(`full-send ratio ${(100 * fullRatio).toFixed(1)}% (goal >= 75%, aim 90%); peak daemon RSS ${maxRss.toFixed(0)} MiB (goal < 150 MB)`);
  if (withFloor) {
    // The floor: what two Node processes cost at all between the same btrfs send and receive.
    const rawRate = median(fullRaw.map(mbps));
    const ferryRate = median(fullFerry.map(mbps));
    const perGiB = (ms: Measure[], pick: (m: Measure) => number): string => median(ms.map((m) => pick(m) / (m.bytes / GiB))).toFixed(2);
    for (const mode of ['plain', 'aes'] as const) {
      const rate = median(floors[mode].map(mbps));
      const label = mode === 'aes' ? 'AES-256-GCM' : 'plain TCP  ';
      console.log(
        `floor, leanest Node relay, ${label}: ${rate.toFixed(0)} MB/s = ${((100 * rate) / rawRate).toFixed(1)}% of raw; node CPU s/GiB ${perGiB(floors[mode], (m) => m.cpu.senderNode)} / ${perGiB(floors[mode], (m) => m.cpu.receiverNode)} (snd/rcv); per run (s) ${floors[mode].map((m) => m.seconds.toFixed(2)).join(' ')}`,
      );
    }
    console.log(`Ferry's full send is ${((100 * ferryRate) / median(floors.aes.map(mbps))).toFixed(1)}% of the AES-256-GCM floor's throughput`);
  }
  for (const [label, cost] of guardCosts) console.log(describeCost(label, cost));
  if (jailCost) console.log(describeJailCommit(jailCost));
  if (profDir) log(`CPU profiles of the daemons go to ${profDir} when they stop`);
}

await runBench(main);
