// `npm run bench` (last part), or `npm run bench:no-change` alone: what a run
// costs when nothing changed since the last one. Two real daemons over
// loopback on memory-backed loop pools; a share of a few hundred files sent
// once in full, then run again and again with no change: each run takes its
// snapshot, asks the receiver what it holds, plans, weighs pool health,
// estimates, sends an empty incremental, commits, prunes and writes both
// trails. Nothing of it is bytes; all of it is processes and round trips.
//
// Prints, over the unchanged runs: the run's time in the daemon (the run's
// own start and end, as `task run --wait --json` reports them, so the CLI's
// start is not in it), the CLI's wall time around it, and how many btrfs
// commands of each kind each side ran per run (from the daemons' debug log
// lines), the pool listings (`subvolume list`) and per-subvolume lookups
// (`subvolume show`) among them.
//
// Options (environment): FERRY_BENCH_RUNS (default 15 unchanged runs),
// FERRY_BENCH_TRACE=1 (print the last run's log lines of both daemons, btrfs
// commands with their times among them, merged in time order),
// FERRY_BENCH_KEEP (default 10: the task's keep-local and keep-remote, so the
// chain the receiver walks is as long as a real one).

import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ferryJson, ferryOk, initAppliance, removeState, startDaemon, stopAllDaemons, type Daemon } from '../test/support/cli.js';
import { atExit, makePool, run, runBench } from './support.js';

const runs = Math.max(1, Number(process.env.FERRY_BENCH_RUNS ?? 15));
const keep = Math.max(2, Number(process.env.FERRY_BENCH_KEEP ?? 10));
/** The daemons log each btrfs command they run at debug level. */
const DEBUG = { FERRY_LOG_LEVEL: 'debug' };

interface RunView {
  readonly state: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly error: string | null;
}

/** `btrfs subvolume show` -> 'subvolume show': the command's kind, without its paths. */
function kindOf(argv: readonly string[]): string {
  const words = argv.slice(1).filter((a) => !a.startsWith('-') && !a.startsWith('/'));
  return words.slice(0, 2).join(' ');
}

/** btrfs commands a daemon ran from byte `from` of its log on: kind -> count. */
function btrfsCommands(daemon: Daemon, from: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of daemon.log().slice(from).split('\n')) {
    if (!line.includes('"btrfs command finished"')) continue;
    const { argv } = JSON.parse(line) as { argv: string[] };
    const kind = kindOf(argv);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (xs: readonly number[]): string => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

function describe(side: string, counts: Map<string, number>): string {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const kinds = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${(n / runs).toFixed(1)}`);
  return `${side}: ${(total / runs).toFixed(1)} btrfs commands per run (${kinds.join(', ')})`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (loop devices, mount, btrfs)');
  if (process.env.FERRY_BENCH_BUILD !== '0') await run('npm', ['run', '--silent', 'build'], {});
  const source = await makePool('nochange-src', 256);
  const target = await makePool('nochange-dst', 256);
  const a = await initAppliance('alpha');
  const b = await initAppliance('beta');
  atExit(() => removeState(a.state));
  atExit(() => removeState(b.state));
  atExit(stopAllDaemons);
  const alpha = await startDaemon(a, 'alpha', { env: DEBUG });
  const beta = await startDaemon(b, 'beta', { env: DEBUG });
  const invite = (await ferryOk(b.state, ['pair', 'invite'])).trim();
  await ferryOk(a.state, ['pair', 'accept', invite]);
  await ferryOk(b.state, ['pool', 'add', 'backup', target.path]);

  const share = path.join(source.path, 'data');
  await run('btrfs', ['subvolume', 'create', share]);
  for (let d = 0; d < 10; d++) {
    mkdirSync(path.join(share, `dir-${d}`));
    for (let f = 0; f < 30; f++) writeFileSync(path.join(share, `dir-${d}`, `file-${f}.txt`), `file ${d}/${f}\n`.repeat(50));
  }
  await ferryOk(a.state, ['task', 'add', 'idle', '--share', share, '--peer', 'beta', '--pool', 'backup', '--every', '24h', '--keep-local', String(keep), '--keep-remote', String(keep)]);
  // The full send, then enough unchanged runs to fill the chain to its length.
  for (let i = 0; i < keep; i++) await ferryJson<RunView>(a.state, ['task', 'run', 'idle', '--wait']);

  const fromAlpha = alpha.log().length;
  const fromBeta = beta.log().length;
  const inDaemon: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const view = await ferryJson<RunView>(a.state, ['task', 'run', 'idle', '--wait']);
    wall.push(performance.now() - t0);
    if (view.state !== 'succeeded' || view.endedAt === null) throw new Error(`an unchanged run did not succeed: ${JSON.stringify(view)}`);
    inDaemon.push(Date.parse(view.endedAt) - Date.parse(view.startedAt));
  }
  if (process.env.FERRY_BENCH_TRACE === '1') {
    const lines = [alpha, beta].flatMap((d) => d.log().trimEnd().split('\n').slice(-60).map((l) => ({ d: d.name, l, t: Date.parse((JSON.parse(l) as { time: string }).time) })));
    const end = Math.max(...lines.map((x) => x.t));
    for (const x of lines.filter((y) => y.t > end - median(inDaemon) - 200).sort((p, q) => p.t - q.t)) console.log(`${x.d.padEnd(5)} ${x.l.slice(0, 300)}`);
  }
  const [entry] = await ferryJson<{ mode: string; bytes: number }[]>(a.state, ['trail', 'send', '--task', 'idle', '--limit', '1']);

  console.log('');
  console.log(`a run with nothing to send (${runs} runs, chain of ${keep} replicas, last stream ${entry?.bytes ?? 0} bytes, ${entry?.mode ?? '?'}):`);
  console.log(`  in the daemon: ${ms(inDaemon)}; goal under 500 ms`);
  console.log(`  task run --wait, CLI included: ${ms(wall)}`);
  const sent = btrfsCommands(alpha, fromAlpha);
  const received = btrfsCommands(beta, fromBeta);
  const listings = (counts: Map<string, number>): string => ((counts.get('subvolume list') ?? 0) / runs).toFixed(1);
  console.log(`  ${describe('sender', sent)}`);
  console.log(`  ${describe('receiver', received)}`);
  console.log(`  pool listings (subvolume list) per run: sender ${listings(sent)}, receiver ${listings(received)}`);
}

await runBench(main);
