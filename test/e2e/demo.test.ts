// `npm run demo` as a user runs it: it replicates full then incremental and
// prints both trails; Ctrl-C leaves nothing behind (daemons, mounts, loop
// devices, files); a demo killed outright is cleaned up by `--clean`; and it
// says clearly when it is not run as root.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/run.js';
import { eventually } from '../support/eventually.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEMO = ['--import', 'tsx', path.join(ROOT, 'deploy/demo.ts')];

function startDemo(args: string[] = [], options: { uid?: number } = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...DEMO, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Until the demo printed `text` (its output said on a timeout). */
async function until(output: () => string, text: string, ms: number): Promise<void> {
  await eventually(`the demo to print "${text}"`, () => output().includes(text), { timeoutMs: ms, intervalMs: 250, detail: output });
}

/** What a demo of this pid may have left: its dir, mounts and loop devices under it, its daemons. */
async function leftovers(pid: number, daemons: number[]): Promise<string[]> {
  const dir = path.join(os.tmpdir(), `ferry-demo-${pid}`);
  const found: string[] = [];
  if (existsSync(dir)) found.push(dir);
  const mounts = await runCommand('findmnt', ['-rn', '-o', 'TARGET']);
  found.push(...mounts.stdout.split('\n').filter((t) => t.startsWith(dir)));
  const loops = await runCommand('losetup', ['-nl', '-O', 'NAME,BACK-FILE']);
  found.push(...loops.stdout.split('\n').filter((l) => l.includes(dir)));
  for (const d of daemons) {
    try {
      process.kill(d, 0);
      found.push(`daemon ${d}`);
    } catch {
      // gone
    }
  }
  return found;
}

async function daemonsOf(pid: number): Promise<number[]> {
  const made = await readFile(path.join(os.tmpdir(), `ferry-demo-${pid}`, 'made.log'), 'utf8');
  return made
    .split('\n')
    .filter((l) => l.startsWith('daemon '))
    .map((l) => Number(l.slice(7)));
}

async function keeperOf(pid: number): Promise<number> {
  const made = await readFile(path.join(os.tmpdir(), `ferry-demo-${pid}`, 'made.log'), 'utf8');
  return Number(made.split('\n').find((l) => l.startsWith('keeper '))?.slice(7) ?? 0);
}

/** Waits until the demo of `pid` has left nothing (its keeper cleans up after it). */
async function gone(pid: number, daemons: number[], ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = await leftovers(pid, daemons);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the demo ${pid} left: ${left.join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('npm run demo', () => {
  it('replicates full then incremental, prints both trails, and Ctrl-C leaves nothing behind', async () => {
    const demo = startDemo();
    const pid = demo.child.pid ?? 0;
    try {
      await until(demo.output, 'Ctrl-C stops both daemons', 120_000);
    } catch (err) {
      demo.child.kill('SIGKILL');
      throw err;
    }
    const out = demo.output();
    expect(out).toMatch(/run of photos succeeded: snapshot \S+, [\d.]+ MiB sent/);
    expect(out).toMatch(/alpha's send trail[\s\S]*incremental\s+succeeded[\s\S]*full\s+succeeded/);
    expect(out).toMatch(/beta's receive trail[\s\S]*incremental\s+succeeded[\s\S]*full\s+succeeded/);
    expect(out).toMatch(/alpha: f[a-z2-7]{20}, peers on 127\.0\.0\.1:\d+, admin API on 127\.0\.0\.1:\d+/);
    const daemons = await daemonsOf(pid);
    expect(daemons).toHaveLength(2);
    expect(await leftovers(pid, daemons)).not.toEqual([]);

    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toMatch(/cleaned up: no daemon, mount, loop device or image file is left/);
    expect(await leftovers(pid, daemons)).toEqual([]);
  }, 180_000);

  it('a demo killed outright is cleaned up by its keeper, which nothing sent to the demo reaches', async () => {
    const demo = startDemo();
    const pid = demo.child.pid ?? 0;
    await until(demo.output, 'Ctrl-C stops both daemons', 120_000);
    const daemons = await daemonsOf(pid);
    demo.child.kill('SIGKILL');
    await demo.exited;
    await gone(pid, daemons);
  }, 180_000);

  it('Ctrl-C in a terminal (SIGINT to npm run demo’s whole process group) leaves nothing behind', async () => {
    // A process group of its own, as a terminal's foreground job: the signal reaches npm, tsx, the demo and its daemons at once.
    const npm = spawn('npm', ['run', 'demo'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    npm.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    npm.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<void>((resolve) => npm.on('close', () => resolve()));
    try {
      await until(() => out, 'Ctrl-C stops both daemons', 150_000);
    } catch (err) {
      process.kill(-(npm.pid ?? 0), 'SIGKILL');
      throw err;
    }
    const pid = Number(/ferry-demo-(\d+)\//.exec(out)?.[1] ?? 0);
    const daemons = await daemonsOf(pid);
    process.kill(-(npm.pid ?? 0), 'SIGINT');
    await exited;
    await gone(pid, daemons);
  }, 240_000);

  it('a demo and its keeper both killed outright are cleaned up by the next one (--clean)', async () => {
    const demo = startDemo();
    const pid = demo.child.pid ?? 0;
    await until(demo.output, 'Ctrl-C stops both daemons', 120_000);
    const daemons = await daemonsOf(pid);
    process.kill(await keeperOf(pid), 'SIGKILL');
    demo.child.kill('SIGKILL');
    await demo.exited;
    // The crash left everything: pools mounted, daemons running.
    expect((await leftovers(pid, daemons)).length).toBeGreaterThan(2);

    const cleaner = startDemo(['--clean']);
    expect(await cleaner.exited).toBe(0);
    // Any demo that starts cleans up every crashed one on the machine: another suite's demo may
    // have got to this one first, and this cleaner may clean that suite's too. What holds either
    // way: it says what it cleaned when it cleaned some, and nothing of the crashed demo is left.
    const said = /cleaned up (\d+) earlier demo\(s\) that did not end cleanly/.exec(cleaner.output());
    if (said) expect(Number(said[1])).toBeGreaterThanOrEqual(1);
    expect(await leftovers(pid, daemons)).toEqual([]);
  }, 180_000);

  it('says clearly that it needs root, and makes nothing', async () => {
    const demo = startDemo([], { uid: 65534 });
    expect(await demo.exited).toBe(2);
    expect(demo.output()).toMatch(/run it as root \(sudo npm run demo\)/);
    expect(existsSync(path.join(os.tmpdir(), `ferry-demo-${demo.child.pid ?? 0}`))).toBe(false);
  });
});
