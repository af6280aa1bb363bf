// How fast the web UI's Send trail answers with 100,000 attempts of one task
// in the store (and 120,000 in all), against a task with 50 in the same run.
// Measures the admin API call the page makes for each view (signed in with a
// session cookie, as the browser is), and, when Chromium is there, the whole
// page in a real browser: from navigation to the first 50 rows on screen.
// Prints figures; asserts nothing.
//
//   npm run bench:trail                 (builds dist/ first)
//   FERRY_BENCH_TRAIL_ROWS=200000 npm run bench:trail

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../src/store/index.js';
import type { Task } from '../src/domain/task.js';
import { ferry, initAppliance, mergeConfig, removeState, startDaemon, stopAllDaemons } from '../test/support/cli.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROWS = Number(process.env.FERRY_BENCH_TRAIL_ROWS ?? 100_000);
const ROUNDS = Number(process.env.FERRY_BENCH_TRAIL_ROUNDS ?? 30);
const PASSWORD = 'bench password 1';

function task(name: string): Task {
  return {
    name,
    sharePath: `/mnt/pool/${name}`,
    share: name,
    peer: 'bench-peer',
    pool: 'backup',
    schedule: { kind: 'every', seconds: 300 },
    keepLocal: 5,
    keepRemote: 10,
    paused: true,
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

/** `rows` attempts of `name`, one every 5 minutes back from now; one in a hundred failed, the rest succeeded. */
function fill(dbPath: string, name: string, rows: number): string[] {
  const store = openStore(dbPath);
  const ids: string[] = [];
  try {
    store.tasks.add(task(name));
    const now = Date.now();
    store.transaction(() => {
      for (let i = rows - 1; i >= 0; i--) {
        const id = `${name}-${String(i).padStart(7, '0')}`;
        const startedAt = new Date(now - (i + 1) * 300_000).toISOString();
        const failed = i % 100 === 7;
        store.sendTrail.start({ id, task: name, share: name, snapshot: `${name}@${i}`, parent: i === rows - 1 ? null : `${name}@${i + 1}`, mode: i === rows - 1 ? 'full' : 'incremental', peer: 'bench-peer', pool: 'backup', reason: null, startedAt });
        store.sendTrail.finish(id, {
          status: failed ? 'failed' : 'succeeded',
          endedAt: new Date(Date.parse(startedAt) + 40_000).toISOString(),
          bytes: 1_000_000 + ((i * 7919) % 50_000_000),
          errorCode: failed ? 'PEER_UNREACHABLE' : null,
          error: failed ? 'connect ECONNREFUSED 192.0.2.7:7000' : null,
        });
        ids.push(id);
      }
    });
  } finally {
    store.close();
  }
  return ids.reverse();
}

interface Timing {
  first: number;
  median: number;
  p95: number;
  max: number;
}

function summarize(xs: number[]): Timing {
  const [first = NaN, ...rest] = xs;
  const s = [...rest].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { first, median: at(0.5), p95: at(0.95), max: at(1) };
}

async function timeGet(base: string, cookie: string, url: string, rows: number): Promise<Timing> {
  const xs: number[] = [];
  for (let i = 0; i < ROUNDS + 1; i++) {
    const t0 = performance.now();
    const r = await fetch(`${base}${url}`, { headers: { cookie } });
    const body = (await r.json()) as unknown[];
    xs.push(performance.now() - t0);
    if (r.status !== 200 || body.length !== rows) throw new Error(`${url}: ${r.status}, ${body.length} rows (expected ${rows})`);
  }
  return summarize(xs);
}

const fmt = (t: Timing) => `first ${t.first.toFixed(1)} ms, median ${t.median.toFixed(1)} ms, p95 ${t.p95.toFixed(1)} ms, max ${t.max.toFixed(1)} ms`;

async function browserPage(base: string, cookie: string, task: string, rows: number): Promise<Timing | string> {
  if (!existsSync(process.env.CHROMIUM ?? '/usr/bin/chromium')) return 'skipped: no chromium';
  const { launchBrowser, newContext } = await import('../test/support/browser.js');
  const browser = await launchBrowser();
  try {
    const context = await newContext(browser);
    const [name, value] = cookie.split('=');
    await context.addCookies([{ name: name ?? '', value: value ?? '', url: base }]);
    const page = await context.newPage();
    const xs: number[] = [];
    for (let i = 0; i < Math.min(ROUNDS, 10) + 1; i++) {
      const t0 = performance.now();
      await page.goto(`${base}/tasks/${task}`);
      await page.locator('tr[data-testid^="attempt-"]:not([data-testid$="-details"])').nth(rows - 1).waitFor();
      xs.push(performance.now() - t0);
    }
    // What the admin sees: a screenshot beside the test run's, to look at the chart with 500 attempts.
    const { screenshot } = await import('../test/support/browser.js');
    await screenshot(page, `bench-trail-${task}`);
    return summarize(xs);
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  const appliance = await initAppliance('bench-trail');
  try {
    // Maintenance would trim a trail to 10,000 attempts a task (its default): keep them all for the bench.
    await mergeConfig(appliance.state, { maintenance: { trailKeepDays: 36_500, trailKeepPerTask: 10_000_000 } });
    const db = path.join(appliance.state, 'ferry.db');
    const t0 = performance.now();
    const big = fill(db, 'photos', ROWS);
    fill(db, 'mail', Math.round(ROWS / 5));
    fill(db, 'small', 50);
    console.log(`filled ${ROWS + Math.round(ROWS / 5) + 50} attempts in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await startDaemon(appliance, 'bench-trail');
    const set = await ferry(appliance.state, ['admin', 'password'], { input: `${PASSWORD}\n` });
    if (set.code !== 0) throw new Error(set.stderr);
    const base = `http://127.0.0.1:${appliance.adminPort}`;
    const login = await fetch(`${base}/ui/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    if (login.status !== 200) throw new Error(`sign-in: ${login.status}`);

    const mid = new Date(Date.now() - (ROWS / 2) * 300_000);
    const views: [string, string, number][] = [
      ['baseline: first page of a 50-attempt task', '/api/v1/trail/send?task=small&limit=50', 50],
      [`first page of ${ROWS.toLocaleString('en')} attempts`, '/api/v1/trail/send?task=photos&limit=50', 50],
      ['first page, every task', '/api/v1/trail/send?limit=50', 50],
      ['page 1,000 (keyset cursor)', `/api/v1/trail/send?task=photos&limit=50&before=${big[49_999] ?? ''}`, 50],
      ['failed only (1 in 100)', '/api/v1/trail/send?task=photos&status=failed&limit=50', 50],
      ['a day, half-way back', `/api/v1/trail/send?task=photos&since=${new Date(mid.getTime() - 86_400_000).toISOString()}&until=${mid.toISOString()}&limit=50`, 50],
      ['chart: last 500 attempts', '/api/v1/trail/send?task=photos&limit=500', 500],
    ];
    let baseline = NaN;
    for (const [what, url, rows] of views) {
      const t = await timeGet(base, cookie, url, rows);
      if (Number.isNaN(baseline)) baseline = t.median;
      console.log(`${what.padEnd(44)} ${fmt(t)}   (x${(t.median / baseline).toFixed(2)} of baseline)`);
    }
    // The whole page in Chromium: navigation, script, sign-in check, the task, the chart's 500 and the table's first 50.
    const small = await browserPage(base, cookie, 'small', 50);
    const large = await browserPage(base, cookie, 'photos', 50);
    console.log(`${'browser baseline: /tasks/small, 50 rows shown'.padEnd(44)} ${typeof small === 'string' ? small : fmt(small)}`);
    const ratio = typeof small === 'string' || typeof large === 'string' ? '' : `   (x${(large.median / small.median).toFixed(2)} of baseline)`;
    console.log(`${'browser: /tasks/photos, first 50 rows shown'.padEnd(44)} ${typeof large === 'string' ? large : fmt(large)}${ratio}`);
  } finally {
    await stopAllDaemons();
    await removeState(appliance.state);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
