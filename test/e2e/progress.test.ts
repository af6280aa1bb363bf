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
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';

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
