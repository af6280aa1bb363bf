// Retries that mean something, with real daemons: a full target and a
// disabled receiving service fail the run after one attempt, with their code;
// a receiver that restarts mid-run is waited for, and the run succeeds by
// retrying. The link goes through a throttled TCP proxy so that a run lasts
// long enough to be interrupted.

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiveTrailEntry, SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';
import { emptyPool, fillPool } from '../support/pools.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const TASK = 'retried';
let pair: PairedDaemons;
let proxy: TcpProxy;
let filler: string;

beforeAll(async () => {
  pair = await pairedDaemons({ sourceMiB: 256, targetMiB: 256 });
  filler = path.join(pair.targetPool.path, '.filler');
  proxy = new TcpProxy(pair.beta.port, { rate: 4 << 20 });
  await proxy.start();
  await ferryOk(pair.alpha.state, ['peer', 'set-address', 'beta', `127.0.0.1:${proxy.port}`]);
  await ferryOk(pair.alpha.state, ['task', 'add', TASK, '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d', '--retries', '6', '--retry-backoff', '1s']);
  await ferryOk(pair.alpha.state, ['task', 'pause', TASK]);
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await pair?.close();
});

/** A fresh 12 MiB in the share: three seconds through the proxy. */
async function change(): Promise<void> {
  await writeFile(path.join(pair.share, `f-${Date.now()}`), randomBytes(12 << 20));
}

/** The attempts of the next run of the task, with the run's exit code and stderr. */
async function runAndAttempts(during?: () => Promise<void>): Promise<{ code: number | null; stderr: string; attempts: SendTrailEntry[] }> {
  const known = new Set((await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--task', TASK, '--limit', '1000'])).map((e) => e.id));
  const running = ferry(pair.alpha.state, ['task', 'run', TASK, '--wait']);
  await during?.();
  const r = await running;
  const attempts = (await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--task', TASK, '--limit', '1000'])).filter((e) => !known.has(e.id)).reverse();
  return { code: r.code, stderr: r.stderr, attempts };
}

describe('a failure that waiting cannot mend fails the run at once', () => {
  it('a full target pool: one attempt, NO_SPACE', async () => {
    await change();
    await fillPool(pair.targetPool.path, filler);
    try {
      const r = await runAndAttempts();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\[NO_SPACE\]/);
      expect(r.attempts.map((e) => [e.status, e.errorCode])).toEqual([['failed', 'NO_SPACE']]);
    } finally {
      await emptyPool(pair.targetPool.path, filler);
    }
  });

  it('a disabled receiving service: one attempt, SERVICE_DISABLED', async () => {
    await ferryOk(pair.beta.state, ['service', 'disable']);
    try {
      const r = await runAndAttempts();
      expect(r.code).toBe(1);
      expect(r.attempts.map((e) => [e.status, e.errorCode])).toEqual([['failed', 'SERVICE_DISABLED']]);
    } finally {
      await ferryOk(pair.beta.state, ['service', 'enable']);
    }
  });
});

describe('a passing failure is retried', () => {
  it('a receiver that restarts mid-run: the run waits for it and succeeds', async () => {
    await change();
    let killedAfter = 0;
    const r = await runAndAttempts(async () => {
      // Mid-stream: the receiver has taken some of the stream.
      const start = proxy.forwarded;
      const deadline = Date.now() + 30_000;
      while (proxy.forwarded - start < 2 << 20 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      killedAfter = proxy.forwarded - start;
      await pair.beta.kill();
      await new Promise((res) => setTimeout(res, 1_500));
      await pair.restart('beta');
    });
    expect(killedAfter).toBeGreaterThanOrEqual(2 << 20);
    expect(r.code, r.stderr).toBe(0);
    expect(r.attempts.length).toBeGreaterThan(1);
    expect(r.attempts.at(-1)?.status).toBe('succeeded');
    for (const failed of r.attempts.slice(0, -1)) expect(['PEER_UNREACHABLE', 'ABORTED', 'BAD_STREAM', 'SHARE_BUSY']).toContain(failed.errorCode);
    // The interrupted receive was marked so at the receiver's restart, and its staging is gone.
    const received = await ferryJson<ReceiveTrailEntry[]>(pair.beta.state, ['trail', 'receive', '--limit', '1000']);
    expect(received.filter((e) => e.status === 'running')).toEqual([]);
  });
});
