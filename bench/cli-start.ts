// How long the `ferry` command takes to answer a read command (`ferry
// status`, `ferry task list`) against a running daemon, whole process from
// outside, against bare `node -e 0` in the same rounds (pairing keeps the
// ratio meaningful on a noisy machine). Prints figures; asserts nothing.
//
//   npm run bench:cli            (builds dist/ first)
//   FERRY_BENCH_CLI_ROUNDS=40 npm run bench:cli

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ferryArgv } from '../test/support/launch.js';
import { initAppliance, removeState, startDaemon, stopAllDaemons } from '../test/support/cli.js';

const ROUNDS = Number(process.env.FERRY_BENCH_CLI_ROUNDS ?? 25);
const ROOT = path.resolve(import.meta.dirname, '..');

function timed(argv: readonly string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

function stats(xs: readonly number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return `min ${at(0).toFixed(0)} ms, median ${at(0.5).toFixed(0)} ms, max ${at(1).toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  const appliance = await initAppliance('bench-cli');
  try {
    await startDaemon(appliance, 'bench-cli');
    const commands: [string, string[]][] = [
      ['ferry --version', ['--version']],
      ['ferry status', ['--state', appliance.state, 'status']],
      ['ferry task list --json', ['--state', appliance.state, 'task', 'list', '--json']],
      // The same command from the compiled tree, module by module: what the bundle saves.
      ['status, unbundled', ['--max-semi-space-size=2', path.join(ROOT, 'dist/src/cli/main.js'), '--state', appliance.state, 'status']],
    ];
    const node: number[] = [];
    const each = new Map<string, { ms: number[]; ratio: number[] }>(commands.map(([name]) => [name, { ms: [], ratio: [] }]));
    for (let i = 0; i < ROUNDS + 1; i++) {
      for (const [name, args] of commands) {
        const base = timed(['-e', '0']);
        const ms = timed(name.endsWith('unbundled') ? args : ferryArgv(args));
        if (i === 0) continue; // warm-up: the page cache, the daemon's first answer
        node.push(base);
        each.get(name)?.ms.push(ms);
        each.get(name)?.ratio.push(ms / base);
      }
    }
    console.log(`CLI start-up, ${ROUNDS} rounds, whole process (spawn to exit):`);
    console.log(`  node -e 0                ${stats(node)}`);
    for (const [name, { ms, ratio }] of each) {
      const r = [...ratio].sort((a, b) => a - b);
      console.log(`  ${name.padEnd(24)} ${stats(ms)}; paired ratio to node -e 0: median ${(r[Math.floor(r.length / 2)] ?? NaN).toFixed(2)}`);
    }
  } finally {
    await stopAllDaemons();
    await removeState(appliance.state);
  }
}

await main();
