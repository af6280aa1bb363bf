// Live events from a real daemon (GET /api/v1/events, server-sent events):
// a listener sees a run go from start to end, its estimate, its bytes rise,
// and a rate and ETA while it streams; without the token there is no stream.

import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/api/client.js';
import type { RunEvent } from '../../src/api/views.js';
import { ferryOk } from '../support/cli.js';
import { pairedDaemons, slowLinkToBeta, type PairedDaemons } from '../support/paired.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

let pair: PairedDaemons;
let proxy: TcpProxy;
let client: AdminClient;

beforeAll(async () => {
  pair = await pairedDaemons();
  // A link slow enough that the transfer lasts a few seconds.
  proxy = await slowLinkToBeta(pair, 12 << 20);
  await writeFile(path.join(pair.share, 'big'), randomBytes(40 << 20));
  await ferryOk(pair.alpha.state, ['task', 'add', 'live', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
  const token = (await readFile(path.join(pair.alpha.state, 'admin.token'), 'utf8')).trim();
  client = new AdminClient({ address: `127.0.0.1:${pair.alpha.adminPort}`, token });
});

afterAll(async () => {
  await proxy?.stop();
  await pair?.close();
});

describe('live events', () => {
  it('need the token', async () => {
    const r = await fetch(`http://127.0.0.1:${pair.alpha.adminPort}/api/v1/events`);
    expect(r.status).toBe(401);
  });

  it('follow a run from start to end with its estimate, bytes, rate and ETA', async () => {
    const events: RunEvent[] = [];
    let ended: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (ended = resolve));
    const stream = await client.events((event) => {
      events.push(event);
      if (event.run.state === 'succeeded' || event.run.state === 'failed') ended();
    });
    try {
      const run = await client.runTask('live');
      await done;
      const ours = events.filter((e) => e.run.id === run.id);
      const states = [...new Set(ours.map((e) => e.run.state))];
      expect(states[0]).toMatch(/queued|running/);
      expect(states.at(-1)).toBe('succeeded');
      // Bytes only rise within the attempt, and end at what was sent.
      const bytes = ours.map((e) => e.run.bytes);
      for (let i = 1; i < bytes.length; i++) expect(bytes[i]).toBeGreaterThanOrEqual(bytes[i - 1] ?? 0);
      const last = ours.at(-1);
      expect(last?.run.bytes).toBeGreaterThan(40 << 20);
      expect(last?.run.estimatedBytes).toBe(last?.run.bytes);
      // While it streamed: several progress events, with a rate near the link's and an ETA.
      const streaming = ours.filter((e) => e.run.state === 'running' && e.rateBytesPerSecond !== null);
      console.log(`events: ${ours.length} for the run; rates ${streaming.map((e) => ((e.rateBytesPerSecond ?? 0) / 1048576).toFixed(1)).join(', ')} MiB/s; ETAs ${streaming.map((e) => e.etaSeconds?.toFixed(1)).join(', ')} s`);
      expect(streaming.length).toBeGreaterThanOrEqual(2);
      for (const e of streaming) {
        expect(e.rateBytesPerSecond).toBeGreaterThan(2 << 20);
        expect(e.rateBytesPerSecond).toBeLessThan(40 << 20);
        expect(e.etaSeconds).not.toBeNull();
      }
    } finally {
      stream.close();
    }
  });

  it('end when the daemon stops, and do not hold it up', async () => {
    let ended = false;
    const stream = await client.events(() => undefined);
    stream.onEnd(() => (ended = true));
    const t0 = performance.now();
    expect(await pair.alpha.stop()).toBe(0);
    const took = performance.now() - t0;
    console.log(`daemon stopped ${took.toFixed(0)} ms after SIGTERM with a listener connected`);
    expect(took).toBeLessThan(10_000);
    for (let i = 0; i < 20 && !ended; i++) await new Promise((r) => setTimeout(r, 50));
    expect(ended).toBe(true);
    await pair.restart('alpha');
  });
});
