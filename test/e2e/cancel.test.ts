// `ferry task cancel` in the middle of a transfer: the run ends 'cancelled'
// in both trails (the receiver is told before the upload is cut), nothing is
// retried, no partial replica is left, and the next run succeeds. Cancelling
// a task with no run is refused with exit 2.

import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunView } from '../../src/api/schemas.js';
import type { ReceiveTrailEntry, SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { pairedDaemons, slowLinkToBeta, type PairedDaemons } from '../support/paired.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

let pair: PairedDaemons;
let proxy: TcpProxy;

beforeAll(async () => {
  pair = await pairedDaemons();
  // A slow link, so the transfer lasts long enough to be cancelled.
  proxy = await slowLinkToBeta(pair, 4 << 20);
  await writeFile(path.join(pair.share, 'big.bin'), randomBytes(64 << 20));
  await ferryOk(pair.alpha.state, ['task', 'add', 'nightly', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d', '--retries', '3']);
});

afterAll(async () => {
  await proxy?.stop();
  await pair?.close();
});

it('refuses to cancel a task with no run, and an unknown task, with exit 2', async () => {
  const none = await ferry(pair.alpha.state, ['task', 'cancel', 'nightly']);
  expect(none.code).toBe(2);
  expect(none.stderr).toBe("ferry: task 'nightly' has no run under way or queued [NOT_FOUND]\n");
  const unknown = await ferry(pair.alpha.state, ['task', 'cancel', 'nope']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/no task named 'nope'/);
});

it('cancels a transfer under way: cancelled on both sides, not retried, nothing left, and the next run succeeds', async () => {
  const started = await ferryOk(pair.alpha.state, ['task', 'run', 'nightly']);
  expect(started).toMatch(/started|queued/);
  const deadline = Date.now() + 30_000;
  while (proxy.forwarded < 8 << 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(proxy.forwarded).toBeGreaterThanOrEqual(8 << 20);

  const run = await ferryJson<RunView>(pair.alpha.state, ['task', 'cancel', 'nightly']);
  expect(run).toMatchObject({ task: 'nightly', state: 'cancelled', errorCode: 'CANCELLED' });
  // Bytes had moved. The run's count is the send stream's, sampled as progress is reported; the proxy's
  // counts sealed frames and HTTP too, so the run's trails it (CI once saw 7.6 MiB against 8 MiB through the proxy).
  expect(run.bytes).toBeGreaterThanOrEqual(4 << 20);

  const sent = await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--task', 'nightly']);
  // One attempt: a cancel is not retried.
  expect(sent).toHaveLength(1);
  expect(sent[0]).toMatchObject({ status: 'cancelled', errorCode: 'CANCELLED' });
  let received: ReceiveTrailEntry | undefined;
  for (let i = 0; i < 50; i++) {
    [received] = await ferryJson<ReceiveTrailEntry[]>(pair.beta.state, ['trail', 'receive']);
    if (received?.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(received).toMatchObject({ id: sent[0]?.id, status: 'cancelled', errorCode: 'CANCELLED' });
  expect(await readdir(path.join(pair.targetPool.path, pair.alphaId, 'data')).catch(() => [])).toEqual([]);

  proxy.setRate(undefined);
  const again = await ferry(pair.alpha.state, ['task', 'run', 'nightly', '--wait']);
  expect(again.code, again.stderr).toBe(0);
  const [ok] = await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--task', 'nightly']);
  expect(ok?.status).toBe('succeeded');
});
