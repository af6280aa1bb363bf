// /metrics scraped from two real daemons and read as Prometheus text: the
// admin listener wants the token, the metrics listener does not and serves
// nothing else; last success, lag, attempts, bytes and run durations follow
// the runs; the receiver counts what it holds per peer.

import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferryOk, freePort } from '../support/cli.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';
import { parsePrometheus, valueOf, type Family } from '../support/prometheus.js';

let pair: PairedDaemons;
let metricsPort: number;

beforeAll(async () => {
  metricsPort = await freePort();
  pair = await pairedDaemons({ alphaConfig: { metrics: `127.0.0.1:${metricsPort}` } });
  await writeFile(path.join(pair.share, 'file'), randomBytes(1 << 20));
  await ferryOk(pair.alpha.state, ['task', 'add', 'docs', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
});

afterAll(async () => {
  await pair?.close();
});

async function scrapeAdmin(which: 'alpha' | 'beta'): Promise<Map<string, Family>> {
  const d = pair[which];
  const token = (await readFile(path.join(d.state, 'admin.token'), 'utf8')).trim();
  const r = await fetch(`http://127.0.0.1:${d.adminPort}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await r.text());
}

async function scrapeListener(): Promise<Map<string, Family>> {
  const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(r.status).toBe(200);
  return parsePrometheus(await r.text());
}

describe('metrics', () => {
  it('the admin listener wants the token; the metrics listener serves /metrics alone, without it', async () => {
    expect((await fetch(`http://127.0.0.1:${pair.alpha.adminPort}/metrics`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${pair.alpha.adminPort}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/api/v1/status`)).status).toBe(404);
    const families = await scrapeListener();
    for (const name of families.keys()) expect(name).toMatch(/^ferry_/);
    // Process metrics, and a task that never succeeded has no last success and no lag.
    expect(valueOf(families, 'ferry_process_resident_memory_bytes')).toBeGreaterThan(10 << 20);
    expect(valueOf(families, 'ferry_task_last_success_timestamp_seconds', { task: 'docs' })).toBeUndefined();
    expect(valueOf(families, 'ferry_task_replication_lag_seconds', { task: 'docs' })).toBeUndefined();
    expect(valueOf(families, 'ferry_task_paused', { task: 'docs' })).toBe(0);
    expect(families.get('ferry_run_duration_seconds')?.type).toBe('histogram');
    expect(families.get('ferry_attempts')?.type ?? families.get('ferry_attempts_total')?.type).toBe('counter');
  });

  it('last success and lag follow the runs; attempts, bytes and durations count them', async () => {
    const before = Date.now() / 1000;
    await ferryOk(pair.alpha.state, ['task', 'run', 'docs', '--wait']);
    const first = await scrapeAdmin('alpha');
    const success1 = valueOf(first, 'ferry_task_last_success_timestamp_seconds', { task: 'docs' }) ?? 0;
    expect(success1).toBeGreaterThanOrEqual(before - 1);
    expect(success1).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    const lag1 = valueOf(first, 'ferry_task_replication_lag_seconds', { task: 'docs' }) ?? -1;
    expect(lag1).toBeGreaterThanOrEqual(0);
    expect(lag1).toBeLessThan(30);
    expect(valueOf(first, 'ferry_attempts_total', { task: 'docs', status: 'succeeded', error_code: '' })).toBe(1);
    expect(valueOf(first, 'ferry_sent_bytes_total', { task: 'docs', status: 'succeeded' })).toBeGreaterThan(1 << 20);
    expect(valueOf(first, 'ferry_run_duration_seconds_count', { task: 'docs', status: 'succeeded' })).toBe(1);

    // Time passes without a run: the lag grows, the last success stays.
    await new Promise((r) => setTimeout(r, 2_100));
    const later = await scrapeListener();
    expect(valueOf(later, 'ferry_task_replication_lag_seconds', { task: 'docs' }) ?? 0).toBeGreaterThanOrEqual(lag1 + 2);
    expect(valueOf(later, 'ferry_task_last_success_timestamp_seconds', { task: 'docs' })).toBe(success1);

    // Another run: the last success moves on, the lag drops back.
    await writeFile(path.join(pair.share, 'more'), randomBytes(4096));
    await ferryOk(pair.alpha.state, ['task', 'run', 'docs', '--wait']);
    const second = await scrapeListener();
    expect(valueOf(second, 'ferry_task_last_success_timestamp_seconds', { task: 'docs' }) ?? 0).toBeGreaterThan(success1);
    expect(valueOf(second, 'ferry_task_replication_lag_seconds', { task: 'docs' }) ?? Infinity).toBeLessThan(valueOf(later, 'ferry_task_replication_lag_seconds', { task: 'docs' }) ?? 0);
    expect(valueOf(second, 'ferry_attempts_total', { task: 'docs', status: 'succeeded', error_code: '' })).toBe(2);
    expect(valueOf(second, 'ferry_run_duration_seconds_count', { task: 'docs', status: 'succeeded' })).toBe(2);
    expect(valueOf(second, 'ferry_transfers_running', { direction: 'send' })).toBe(0);

    // The receiver counts the replicas it holds for alpha, and their bytes.
    const beta = await scrapeAdmin('beta');
    expect(valueOf(beta, 'ferry_receiver_replicas', { peer: pair.alphaId, pool: 'backup' })).toBe(2);
    expect(valueOf(beta, 'ferry_receiver_replica_bytes', { peer: pair.alphaId, pool: 'backup' })).toBeGreaterThan(1 << 20);
  });

  it('a failed run is counted with its error code', async () => {
    await ferryOk(pair.beta.state, ['service', 'disable']);
    await ferryOk(pair.alpha.state, ['task', 'run', 'docs']).catch(() => undefined);
    for (let i = 0; i < 100; i++) {
      const m = await scrapeListener();
      // The attempt is counted as it ends, the run a moment later, once it has settled.
      if (valueOf(m, 'ferry_run_duration_seconds_count', { task: 'docs', status: 'failed' }) === 1) {
        expect(valueOf(m, 'ferry_attempts_total', { task: 'docs', status: 'failed', error_code: 'SERVICE_DISABLED' })).toBe(1);
        await ferryOk(pair.beta.state, ['service', 'enable']);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the failed attempt never showed in the metrics');
  });
});
