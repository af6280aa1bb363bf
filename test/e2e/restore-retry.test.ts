// A restore is a transfer like a run's: when the link from the holder to the
// asker is cut half-way through the replica's stream, the holder tries again
// (as a run retries), the asker waits for that try instead of failing the
// restore, and the share comes back whole. Both trails show the cut try and
// the one that succeeded, as for a run.

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RestoreView } from '../../src/api/schemas.js';
import { Btrfs } from '../../src/btrfs/index.js';
import type { ReceiveTrailEntry, SendTrailEntry } from '../../src/domain/trail.js';
import { ferryJson, ferryOk } from '../support/cli.js';
import { manifest } from '../support/manifest.js';
import { pairedDaemons, proxyToAlpha, type PairedDaemons } from '../support/paired.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

const MiB = 1 << 20;
const btrfs = new Btrfs();
let pair: PairedDaemons;
let proxy: TcpProxy;

beforeAll(async () => {
  pair = await pairedDaemons({ sourceMiB: 512, targetMiB: 512, shareName: 'photos' });
  await writeFile(path.join(pair.share, 'bulk.bin'), randomBytes(24 * MiB));
  await writeFile(path.join(pair.share, 'note.txt'), 'keep me\n');
  await ferryOk(pair.alpha.state, ['task', 'add', 'photos', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'photos']);
  await ferryOk(pair.alpha.state, ['task', 'run', 'photos', '--wait']);
  // Beta reaches alpha through a proxy from now on: the restore's stream goes that way.
  proxy = await proxyToAlpha(pair);
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await pair?.close();
});

it('survives a cut link: the holder tries again and the restore completes, whole', async () => {
  const to = path.join(pair.sourcePool.path, 'photos-back');
  // Alpha kept no snapshot of the share: the whole replica must travel.
  const snapDir = path.join(pair.sourcePool.path, '.ferry-snapshots', 'photos', 'photos');
  for (const s of await btrfs.children(snapDir)) await btrfs.delete(s.path);
  // Cut once, 4 MiB into the stream of about 24 MiB (the open before it is a few KiB).
  proxy.cutAfter(4 * MiB);
  const view = await ferryJson<RestoreView>(pair.alpha.state, ['restore', 'photos', '--from', 'beta', '--to', to, '--wait']);
  expect(view).toMatchObject({ state: 'succeeded', mode: 'full', errorCode: null });
  expect(await manifest(to)).toEqual(await manifest(pair.share));

  // The holder's trail: the cut try, then the one that went through.
  const sent = (await ferryJson<SendTrailEntry[]>(pair.beta.state, ['trail', 'send', '--limit', '5'])).filter((e) => e.kind === 'restore');
  expect(sent.map((e) => e.status)).toEqual(['succeeded', 'failed']);
  expect(sent[1]!.bytes).toBeGreaterThan(0);
  expect(sent[0]!.reason).toMatch(/, try 2$/);
  // The asker's: the same two tries, as entries of kind restore.
  const received = (await ferryJson<ReceiveTrailEntry[]>(pair.alpha.state, ['trail', 'receive', '--limit', '5'])).filter((e) => e.kind === 'restore');
  expect(received.map((e) => e.status)).toEqual(['succeeded', expect.stringMatching(/^(failed|interrupted)$/)]);
  expect(received.map((e) => e.id)).toEqual(sent.map((e) => e.id));
}, 180_000);
