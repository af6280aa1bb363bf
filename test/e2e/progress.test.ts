// `ferry task run --wait` off a terminal: plain progress lines with the size
// estimate (btrfs send --no-data) before the bytes flow, the estimate within
// a hair of what was sent; Ctrl-C stops the waiting, says the run goes on and
// how to cancel it, and the run does go on.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { ferryArgv } from '../support/launch.js';
import { pairedDaemons, slowLinkToBeta, type PairedDaemons } from '../support/paired.js';

let pair: PairedDaemons;

beforeAll(async () => {
  pair = await pairedDaemons({ sourceMiB: 640, targetMiB: 640 });
  await writeFile(path.join(pair.share, 'big'), randomBytes(96 << 20));
  await ferryOk(pair.alpha.state, ['task', 'add', 'data', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
});

afterAll(async () => {
  await pair?.close();
});

function parseMiB(text: string): number {
  const m = /^([\d.]+) (B|KiB|MiB|GiB)$/.exec(text);
  if (!m) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * { B: 1 / 1048576, KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[2] as 'B'];
}

describe('task run --wait, not on a terminal', () => {
  it('prints plain progress lines with the estimated total, and the estimate is what was sent', async () => {
    const r = await ferry(pair.alpha.state, ['task', 'run', 'data', '--wait']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    console.log(`progress lines:\n${lines.join('\n')}`);
    const withTotal = lines.map((l) => /^data: (?:running|succeeded), ([\d.]+ \w+) of ([\d.]+ \w+) \((\d+)%\), [\d.]+ \w+\/s/.exec(l)).filter((m) => m !== null);
    expect(withTotal.length).toBeGreaterThanOrEqual(1);
    const total = parseMiB(withTotal[0]?.[2] ?? '');
    const done = /^run of data succeeded: snapshot \S+, ([\d.]+ \w+) sent$/.exec(lines.at(-1) ?? '');
    expect(done).not.toBeNull();
    const [entry] = await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--task', 'data']);
    const sentMiB = (entry?.bytes ?? 0) / 1048576;
    console.log(`estimate ${total} MiB, sent ${sentMiB.toFixed(2)} MiB`);
    // The line shows the estimate rounded to 0.1 MiB.
    expect(Math.abs(total - sentMiB)).toBeLessThan(0.2);
  });

  it('Ctrl-C stops the waiting, not the run, and says how to cancel it', async () => {
    await writeFile(path.join(pair.share, 'more'), randomBytes(64 << 20));
    const child = spawn(process.execPath, ferryArgv(['--state', pair.alpha.state, 'task', 'run', 'data', '--wait']), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve();
      }),
    );
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).toMatch(/ferry: stopped waiting; the run of data goes on in the daemon \('ferry task cancel data' stops it/);
    // The run went on and ended well.
    for (let i = 0; i < 200; i++) {
      const [latest] = await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--task', 'data']);
      if (latest?.status === 'succeeded' && latest.mode === 'incremental') return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the run did not end in success after Ctrl-C on the waiting command');
  });
});

describe('task run --wait, on a terminal', () => {
  it('draws a bar with percent, bytes of the estimated total, rate and ETA', async () => {
    await writeFile(path.join(pair.share, 'tty'), randomBytes(48 << 20));
    // A link slow enough for the bar to be drawn mid-transfer a few times.
    const proxy = await slowLinkToBeta(pair, 16 << 20);
    // A pseudo-terminal by python's pty module, given an argument array (no shell).
    const pty = ['-c', 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)', process.execPath, ...ferryArgv(['--state', pair.alpha.state, 'task', 'run', 'data', '--wait'])];
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('python3', pty, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, COLUMNS: '160', TERM: 'xterm' } });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    await ferryOk(pair.alpha.state, ['peer', 'set-address', 'beta', `127.0.0.1:${pair.beta.port}`]);
    await proxy.stop();
    expect(r.code, r.out).toBe(0);
    // eslint-disable-next-line no-control-regex
    const frames = r.out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n').split(/[\r\n]+/).filter((l) => l.startsWith('data ['));
    console.log(`terminal frames:\n${frames.slice(-3).join('\n')}`);
    // Mid-transfer: a share of the estimate, a rate and an ETA (the bar's characters depend on the terminal's encoding).
    expect(frames.some((f) => /^data \[\S+\] ([1-9]|[1-9]\d)% \| [\d.]+ \w+ of 48\.\d MiB \| [1-9][\d.]* \w+\/s \| ETA \d+s \| running$/.test(f.trim()))).toBe(true);
    expect(frames.at(-1)?.trim()).toMatch(/^data \[\S+\] 100% \| 48\.\d MiB of 48\.\d MiB \| [1-9][\d.]* \w+\/s \| ETA (0s|-) \| succeeded$/);
    expect(r.out).toMatch(/run of data succeeded: snapshot \S+, 48\.\d MiB sent/);
  });
});
