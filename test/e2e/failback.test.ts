// The failover drill, with real daemons and real btrfs: alpha replicates to
// beta; alpha is lost, so beta promotes its replica and works on it; beta
// replicates the promoted share back to alpha incrementally, on the snapshot
// alpha sent it (the bytes measured against `btrfs send -p` of the same
// change); then alpha takes over again from what came back, and alpha -> beta
// resumes incrementally. No full resend in either direction.

import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ReplicaView } from '../../src/api/ports.js';
import { Btrfs } from '../../src/btrfs/index.js';
import type { ReceiveTrailEntry, SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { manifest } from '../support/manifest.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';

const btrfs = new Btrfs();
let pair: PairedDaemons;
const MiB = 1 << 20;

beforeAll(async () => {
  pair = await pairedDaemons({ sourceMiB: 512, targetMiB: 512, shareName: 'photos' });
  await writeFile(path.join(pair.share, 'bulk.bin'), randomBytes(24 * MiB));
  await ferryOk(pair.alpha.state, ['task', 'add', 'photos', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'photos']);
  expect((await ferry(pair.alpha.state, ['task', 'run', 'photos', '--wait'])).code).toBe(0);
  await writeFile(path.join(pair.share, 'more.bin'), randomBytes(2 * MiB));
  expect((await ferry(pair.alpha.state, ['task', 'run', 'photos', '--wait'])).code).toBe(0);
  // Alpha can take replicas back: a pool on the filesystem of its share.
  await ferryOk(pair.alpha.state, ['pool', 'add', 'back', pair.sourcePool.path]);
}, 180_000);

afterAll(async () => {
  await pair?.close();
});

const lastSent = async (state: string, task: string): Promise<SendTrailEntry | undefined> =>
  (await ferryJson<SendTrailEntry[]>(state, ['trail', 'send', '--task', task, '--limit', '1']))[0];

/** The size of `btrfs send -p parent snapshot`, counted here. */
async function sendSize(snapshot: string, parent: string): Promise<number> {
  const { stream, done } = btrfs.send({ path: snapshot, parent });
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  await done;
  return bytes;
}

it('fails over to beta and back to alpha, incremental both ways', async () => {
  const beta = pair.beta.state;
  const alpha = pair.alpha.state;
  const fullBytes = (await ferryJson<SendTrailEntry[]>(alpha, ['trail', 'send', '--task', 'photos', '--limit', '2']))[1]?.bytes ?? 0;
  const [chain] = await ferryJson<ReplicaView[]>(beta, ['replica', 'list']);
  const base = chain?.snapshots.at(-1);

  // Failover: alpha is gone; beta promotes its newest replica and works on it.
  const live = path.join(pair.targetPool.path, 'photos-live');
  await ferryOk(beta, ['replica', 'promote', 'photos', '--peer', 'alpha', '--to', live]);
  await writeFile(path.join(live, 'written-on-beta.bin'), randomBytes(20 * MiB));

  // Beta sends the promoted share back to alpha: on the replica it was promoted from.
  await ferryOk(beta, ['task', 'add', 'failback', '--share', live, '--as', 'photos', '--peer', 'alpha', '--pool', 'back', '--every', '1d']);
  await ferryOk(beta, ['task', 'pause', 'failback']);
  const back = await ferry(beta, ['task', 'run', 'failback', '--wait']);
  expect(back.code, back.stderr).toBe(0);
  const sentBack = await lastSent(beta, 'failback');
  expect(sentBack).toMatchObject({ kind: 'failback', status: 'succeeded', mode: 'incremental', parent: base?.name });
  const [receivedBack] = await ferryJson<ReceiveTrailEntry[]>(alpha, ['trail', 'receive', '--limit', '1']);
  expect(receivedBack).toMatchObject({ id: sentBack?.id, kind: 'failback', status: 'succeeded', bytes: sentBack?.bytes });
  const betaSnapshot = path.join(pair.targetPool.path, '.ferry-snapshots', 'photos', 'failback', sentBack?.snapshot ?? '');
  const plain = await sendSize(betaSnapshot, base?.path ?? '');
  const ratio = (sentBack?.bytes ?? 0) / plain;
  expect(ratio).toBeGreaterThan(0.9);
  expect(ratio).toBeLessThan(1.1);
  const [returned] = await ferryJson<ReplicaView[]>(alpha, ['replica', 'list', '--peer', 'beta']);
  const replicaOnAlpha = returned?.snapshots.at(-1);
  expect(await manifest(replicaOnAlpha?.path ?? '')).toEqual(await manifest(betaSnapshot));

  // Alpha takes over again from what came back: its old share aside, the replica promoted in its place.
  await rename(pair.share, `${pair.share}.old`);
  await ferryOk(alpha, ['replica', 'promote', 'photos', '--peer', 'beta', '--to', pair.share]);
  await writeFile(path.join(pair.share, 'back-on-alpha.txt'), 'alpha again\n');
  const resumed = await ferry(alpha, ['task', 'run', 'photos', '--wait']);
  expect(resumed.code, resumed.stderr).toBe(0);
  const again = await lastSent(alpha, 'photos');
  expect(again).toMatchObject({ kind: 'failback', status: 'succeeded', mode: 'incremental', parent: sentBack?.snapshot });
  expect(again?.bytes).toBeLessThan(MiB);
  const [onBeta] = await ferryJson<ReplicaView[]>(beta, ['replica', 'list', '--peer', 'alpha']);
  expect(await manifest(onBeta?.snapshots.at(-1)?.path ?? '')).toEqual(await manifest(pair.share));
  console.log(
    `failover drill: first full send ${fullBytes} B; beta -> alpha ${sentBack?.bytes ?? 0} B vs btrfs send -p ${plain} B (ratio ${ratio.toFixed(3)}); alpha -> beta after takeover ${again?.bytes ?? 0} B`,
  );
}, 180_000);
