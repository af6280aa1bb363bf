// What every command does before it does its work: say its version, end
// quietly when its reader goes away, name a damaged config and exit 2, and
// exit 3 when the daemon is not there. The command under test is the bundle
// users run (dist/ferry.cjs), which loads the daemon's compiled modules for
// `init` and `config`: their errors keep their codes across that boundary.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry, initAppliance, removeState, type CliResult } from '../support/cli.js';
import { ferryArgv, MAIN, shebangNodeFlags } from '../support/launch.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let scratch: string;
let appliance: { state: string; port: number; adminPort: number };

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-cli-'));
  appliance = await initAppliance('basics');
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await removeState(appliance.state);
});

/** Runs ferry with its stdout closed by the reader before the command writes, as `ferry ... | head -0` does. */
function withClosedReader(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ferryArgv(args), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr: Buffer.concat(err).toString('utf8') }));
  });
}

describe("the command's code cache", () => {
  /** A copy of the installed command (launcher, bundle, cache) in a dir of its own. */
  async function copyOfCommand(): Promise<string> {
    const dir = await mkdtemp(path.join(scratch, 'install-'));
    await mkdir(path.join(dir, 'dist', 'cli'), { recursive: true });
    for (const f of ['ferry.cjs', 'cli/ferry.cjs', 'cli/ferry.cjs.cache']) await copyFile(path.join(ROOT, 'dist', f), path.join(dir, 'dist', f));
    await copyFile(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    return dir;
  }
  const run = (dir: string, args: string[], as: { uid?: number; gid?: number } = {}): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [...shebangNodeFlags(MAIN), path.join(dir, 'dist', 'ferry.cjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...as });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('is made at build time and used as it is', async () => {
    const dir = await copyOfCommand();
    const cache = path.join(dir, 'dist', 'cli', 'ferry.cjs.cache');
    const before = await readFile(cache);
    expect(before.length).toBeGreaterThan(100_000);
    expect(await run(dir, ['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect((await readFile(cache)).equals(before)).toBe(true);
  });

  it('a damaged cache (or one of another node) is refused, the command runs, and a fresh cache replaces it', async () => {
    const dir = await copyOfCommand();
    const cache = path.join(dir, 'dist', 'cli', 'ferry.cjs.cache');
    await writeFile(cache, Buffer.alloc(4096, 7));
    expect(await run(dir, ['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const fresh = await readFile(cache);
    expect(fresh.length).toBeGreaterThan(10_000);
    expect(fresh.equals(Buffer.alloc(4096, 7))).toBe(false);
  });

  it('without a cache, on a read-only install, the command still runs', async () => {
    const dir = await copyOfCommand();
    await rm(path.join(dir, 'dist', 'cli', 'ferry.cjs.cache'));
    await chmod(path.join(dir, 'dist', 'cli'), 0o555);
    // The way there must be open to that user; the install itself is not writable by it.
    for (const d of [scratch, dir, path.join(dir, 'dist')]) await chmod(d, 0o755);
    try {
      // As a user who cannot write there (root could).
      const r = await run(dir, ['--version'], { uid: 65534, gid: 65534 });
      expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
      await expect(readFile(path.join(dir, 'dist', 'cli', 'ferry.cjs.cache'))).rejects.toThrow();
    } finally {
      await chmod(path.join(dir, 'dist', 'cli'), 0o755);
    }
  });
});

describe('the ferry command', () => {
  it.each([['--version'], ['-V']])('%s prints the version of package.json', async (flag) => {
    const r = await ferry(appliance.state, [flag]);
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it.each([
    ['--help', ['--help']],
    ['task --help', ['task', '--help']],
  ])('%s ends quietly, exit 0, when its reader has gone', async (_name, args) => {
    const r = await withClosedReader(args);
    expect(r).toEqual({ code: 0, stderr: '' });
  });

  it.each([
    ['not JSON', '{"version": 1, "name": ', /config\.json is not valid JSON \(.+\): fix it, or bring it back with 'ferry config import' \[INVALID_INPUT\]$/],
    ['not a config', '{"version": 7}', /config\.json is not a valid Ferry config: .+ \[INVALID_INPUT\]$/],
  ])('a config that is %s: exit 2, one line naming the file', async (_name, text, message) => {
    const state = await mkdtemp(path.join(scratch, 'state-'));
    await writeFile(path.join(state, 'config.json'), text);
    for (const args of [['status'], ['task', 'list'], ['trail', 'send', '--json']]) {
      const r = await ferry(state, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(path.join(state, 'config.json'));
      expect(lines[0]).toMatch(message);
    }
  });

  it('no daemon listening: exit 3 with DAEMON_UNREACHABLE', async () => {
    const r = await ferry(appliance.state, ['task', 'list']);
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toMatch(/^ferry: the Ferry daemon at .+ could not be reached \(is 'ferry serve' running\?\): .+ \[DAEMON_UNREACHABLE\]$/);
  });

  it("the daemon's own refusals keep their code and exit 2 (init over an appliance, import of a file that is not an export)", async () => {
    const again = await ferry(appliance.state, ['init', '--name', 'again', '--listen', '127.0.0.1:1']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/\[ALREADY_EXISTS\]\n$/);
    const notExport = path.join(scratch, 'not-an-export');
    await writeFile(notExport, 'hello');
    const imported = await ferry(path.join(scratch, 'empty-state'), ['config', 'import', notExport], { env: { FERRY_PASSPHRASE: 'whatever-it-is' } });
    expect(imported.code).toBe(2);
    expect(imported.stderr).toBe("ferry: this is not a sealed Ferry export (ferry config export writes them) [INVALID_INPUT]\n");
  });
});
