// Drives the real `ferry` command line as separate processes: the CLI for
// one-shot commands, and `ferry serve` as a daemon that tests stop with SIGTERM
// (or kill), always, even when a test fails.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ferryArgv, MAIN } from './launch.js';


export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function ferry(state: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ferryArgv(['--state', state, ...args]), {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** Runs a CLI command that must succeed, and parses its --json output when asked. */
export async function ferryOk(state: string, args: readonly string[]): Promise<string> {
  const r = await ferry(state, args);
  if (r.code !== 0) throw new Error(`ferry ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export async function ferryJson<T>(state: string, args: readonly string[]): Promise<T> {
  return JSON.parse(await ferryOk(state, [...args, '--json'])) as T;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface Daemon {
  readonly state: string;
  readonly name: string;
  readonly port: number;
  readonly adminPort: number;
  readonly process: ChildProcess;
  readonly log: () => string;
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code or signal. */
  stop(): Promise<number | string | null>;
  kill(): Promise<void>;
}

const running = new Set<Daemon>();

/** Makes a state dir and `ferry init`s it. */
export async function initAppliance(name: string): Promise<{ state: string; port: number; adminPort: number }> {
  const state = await mkdtemp(path.join(os.tmpdir(), `ferry-test-state-${name}-`));
  const port = await freePort();
  const adminPort = await freePort();
  try {
    await ferryOk(state, ['init', '--name', name, '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`]);
  } catch (err) {
    // A failed init must not leave its temp dir behind.
    await rm(state, { recursive: true, force: true });
    throw err;
  }
  return { state, port, adminPort };
}

export interface StartOptions {
  /** Added to (and overriding) this process's environment: a PATH with a fake tool, LD_PRELOAD, ... */
  env?: NodeJS.ProcessEnv | undefined;
  /** Node flags instead of those on the `ferry` shebang line. */
  nodeFlags?: readonly string[];
}

export async function startDaemon(appliance: { state: string; port: number; adminPort: number }, name: string, options: StartOptions = {}): Promise<Daemon> {
  const args = ['--state', appliance.state, 'serve'];
  const child = spawn(process.execPath, options.nodeFlags ? [...options.nodeFlags, MAIN, ...args] : ferryArgv(args), {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  const logs: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => logs.push(b));
  child.stderr.on('data', (b: Buffer) => logs.push(b));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const daemon: Daemon = {
    ...appliance,
    name,
    process: child,
    log: () => Buffer.concat(logs).toString('utf8'),
    stop: async () => {
      running.delete(daemon);
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    kill: async () => {
      running.delete(daemon);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  running.add(daemon);
  // Ready when the admin API answers.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await ferry(appliance.state, ['status', '--json']);
    if (r.code === 0) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await daemon.kill();
      throw new Error(`daemon ${name} did not start: ${daemon.log()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return daemon;
}

/** Stops every daemon a test started and still runs: for afterAll/afterEach. */
export async function stopAllDaemons(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
}

export async function removeState(state: string): Promise<void> {
  await rm(state, { recursive: true, force: true });
}

/** Merges settings into an appliance's config.json (before its daemon starts). */
export async function mergeConfig(state: string, patch: Record<string, unknown>): Promise<void> {
  const file = path.join(state, 'config.json');
  const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFile(file, JSON.stringify({ ...config, ...patch }, null, 2) + '\n', { mode: 0o600 });
}
