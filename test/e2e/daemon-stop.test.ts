// SIGTERM in the middle of a transfer: the sending daemon stops cleanly, both
// trails end the attempt 'interrupted' (never 'running'), no partial replica
// is left, and the next run succeeds.

import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ReceiveTrailEntry, SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { manifest } from '../support/manifest.js';
import { pairedDaemons, slowLinkToBeta, type PairedDaemons } from '../support/paired.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

let pair: PairedDaemons;
let proxy: TcpProxy;

beforeAll(async () => {
  pair = await pairedDaemons();
  // Alpha reaches beta through a slow link, so the transfer lasts long enough to be stopped.
  proxy = await slowLinkToBeta(pair, 4 << 20);
  await writeFile(path.join(pair.share, 'big.bin'), randomBytes(64 << 20));
  await ferryOk(pair.alpha.state, ['task', 'add', 'nightly', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
});

afterAll(async () => {
  await proxy?.stop();
  await pair?.close();
});

it('ends an interrupted transfer as interrupted on both sides and converges after restart', async () => {
  await ferryOk(pair.alpha.state, ['task', 'run', 'nightly']);
  const deadline = Date.now() + 30_000;
  while (proxy.forwarded < 8 << 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(proxy.forwarded).toBeGreaterThanOrEqual(8 << 20);

  expect(await pair.alpha.stop()).toBe(0);
  await pair.restart('alpha');

  const [sent] = await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send']);
  expect(sent?.status).toBe('interrupted');
  // The receiver notices the sender went away; give it a moment to clean up.
  let received: ReceiveTrailEntry | undefined;
  for (let i = 0; i < 50; i++) {
    [received] = await ferryJson<ReceiveTrailEntry[]>(pair.beta.state, ['trail', 'receive']);
    if (received?.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(received).toMatchObject({ id: sent?.id, status: 'interrupted' });
  const shareDir = path.join(pair.targetPool.path, pair.alphaId, 'data');
  expect(await readdir(shareDir).catch(() => [])).toEqual([]);

  proxy.setRate(undefined);
  const again = await ferry(pair.alpha.state, ['task', 'run', 'nightly', '--wait']);
  expect(again.code, again.stderr).toBe(0);
  const [ok] = await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send']);
  expect(ok?.status).toBe('succeeded');
  const snapshot = path.join(pair.sourcePool.path, '.ferry-snapshots', 'data', 'nightly', ok?.snapshot ?? '');
  expect(await manifest(path.join(shareDir, ok?.snapshot ?? ''))).toEqual(await manifest(snapshot));
});
