// The size estimate against the real stream, on real btrfs: for each shape of
// change, `btrfs send --no-data` counted as estimate.ts counts it, and the
// bytes `btrfs send` then writes. Prints each ratio; a run's progress bar
// and the receiver's quota check rest on it.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, rm, symlink, truncate, writeFile, link } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Btrfs } from '../../src/btrfs/index.js';
import { SendSizeCounter } from '../../src/btrfs/estimate.js';
import { createPool, type Pool } from '../support/pools.js';

const btrfs = new Btrfs();
let pool: Pool;
let share: string;
let snaps: string;
let n = 0;

/** Bytes the real `btrfs send` writes. */
function realSendBytes(snapshot: string, parent?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('btrfs', ['send', '-q', ...(parent ? ['-p', parent] : []), snapshot], { stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (b: Buffer) => (bytes += b.length));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`btrfs send exited ${code}`))));
  });
}

async function snapshot(): Promise<string> {
  const to = path.join(snaps, `s${++n}`);
  await btrfs.snapshot(share, to, { readOnly: true });
  return to;
}

beforeAll(async () => {
  pool = await createPool({ sizeMiB: 512 });
  share = path.join(pool.path, 'share');
  snaps = path.join(pool.path, 'snaps');
  await btrfs.create(share);
  await mkdir(snaps);
});

afterAll(async () => {
  await pool?.destroy();
});

describe('send size estimate', () => {
  let previous: string | undefined;
  it.each<[string, () => Promise<void>]>([
    ['full: one 40 MiB file, 300 small files, a sparse file, a symlink, hard links', async () => {
      await writeFile(path.join(share, 'big'), randomBytes(40 << 20));
      await mkdir(path.join(share, 'small'));
      for (let i = 0; i < 300; i++) await writeFile(path.join(share, 'small', `f${i}`), randomBytes(1 + ((i * 7919) % 9000)));
      const sparse = await open(path.join(share, 'sparse'), 'w');
      await sparse.write(randomBytes(4096), 0, 4096, 64 << 20);
      await sparse.close();
      await symlink('big', path.join(share, 'link'));
      await link(path.join(share, 'small', 'f1'), path.join(share, 'hard'));
    }],
    ['incremental: 8 MiB appended, 50 files rewritten, 20 deleted', async () => {
      await appendFile(path.join(share, 'big'), randomBytes(8 << 20));
      for (let i = 0; i < 50; i++) await writeFile(path.join(share, 'small', `f${i}`), randomBytes(5000));
      for (let i = 280; i < 300; i++) await rm(path.join(share, 'small', `f${i}`));
    }],
    ['incremental: a file truncated, a reflink copy of the big file', async () => {
      await truncate(path.join(share, 'big'), 10 << 20);
      await new Promise<void>((resolve, reject) => {
        const cp = spawn('cp', ['--reflink=always', path.join(share, 'big'), path.join(share, 'big-copy')], { stdio: 'inherit' });
        cp.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`cp exited ${code}`))));
      });
    }],
    ['incremental: nothing changed', async () => {}],
  ])('%s', async (name, change) => {
    await change();
    const snap = await snapshot();
    const estimate = await btrfs.estimateSend({ path: snap, parent: previous });
    const real = await realSendBytes(snap, previous);
    const ratio = estimate / real;
    console.log(`estimate, ${name}: ${estimate} B estimated, ${real} B sent, ratio ${ratio.toFixed(4)}`);
    // Within 2% (or 4 KiB for tiny streams): close enough for a percentage and an ETA.
    expect(Math.abs(estimate - real)).toBeLessThanOrEqual(Math.max(4096, real * 0.02));
    previous = snap;
  });
});

describe('the counter', () => {
  it('refuses what is not a send stream', () => {
    expect(() => new SendSizeCounter().feed(Buffer.alloc(64, 1))).toThrow(/not a send stream/);
  });

  it('counts the same however the stream is cut into chunks', async () => {
    const snap = await snapshot();
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const child = spawn('btrfs', ['send', '-q', '--no-data', snap], { stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout.on('data', (b: Buffer) => chunks.push(b));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
    });
    const whole = Buffer.concat(chunks);
    const once = new SendSizeCounter();
    once.feed(whole);
    for (const size of [1, 7, 1000]) {
      const cut = new SendSizeCounter();
      for (let at = 0; at < whole.length; at += size) cut.feed(whole.subarray(at, at + size));
      expect(cut.total, `chunks of ${size}`).toBe(once.total);
    }
  });
});
