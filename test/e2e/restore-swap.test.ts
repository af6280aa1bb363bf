// A restore sends what the holder checked. Beta holds alpha's replica; alpha
// asks for it back; beta plans the restore and opens its transfer to alpha,
// and alpha (the asker, through a proxy here) holds that open as long as it
// likes. Meanwhile the replica is moved aside and a symlink to another peer's
// replica put in its place (what a stream could do before each transfer got a
// jail; here root does it). Before the holder held the chain's lock and looked
// again right before `btrfs send`, it sent the other peer's replica, and both
// trails recorded a successful restore.

import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_PREFIX } from '../../proto/version.js';
import type { ReplicaView } from '../../src/api/ports.js';
import type { RestoreView } from '../../src/api/schemas.js';
import { Btrfs } from '../../src/btrfs/index.js';
import type { SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { manifest } from '../support/manifest.js';
import { pairedDaemons, proxyToAlpha, type PairedDaemons } from '../support/paired.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

const btrfs = new Btrfs();
const SECRET = randomBytes(256 * 1024);
let pair: PairedDaemons;
let proxy: TcpProxy;
let replica: ReplicaView['snapshots'][number];
let other = '';
let otherUuid = '';

beforeAll(async () => {
  pair = await pairedDaemons({ shareName: 'photos' });
  await writeFile(path.join(pair.share, 'mine.txt'), 'alpha’s own\n');
  await ferryOk(pair.alpha.state, ['task', 'add', 'photos', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'photos']);
  expect((await ferry(pair.alpha.state, ['task', 'run', 'photos', '--wait'])).code).toBe(0);
  const [chain] = await ferryJson<ReplicaView[]>(pair.beta.state, ['replica', 'list']);
  replica = chain!.snapshots[0]!;
  // Alpha keeps no snapshot of its own: the restore must send the whole replica.
  const snapDir = path.join(pair.sourcePool.path, '.ferry-snapshots', 'photos', 'photos');
  for (const s of await btrfs.children(snapDir)) await btrfs.delete(s.path);

  // Another peer's replica on beta's pool, holding that peer's secret.
  const otherDir = path.join(pair.targetPool.path, 'fotherpeerabcdefghijk', 'photos');
  await mkdir(otherDir, { recursive: true, mode: 0o700 });
  const otherSource = path.join(otherDir, 'source');
  await btrfs.create(otherSource);
  await writeFile(path.join(otherSource, 'secret.bin'), SECRET);
  other = path.join(otherDir, replica.name);
  await btrfs.snapshot(otherSource, other, { readOnly: true });
  otherUuid = (await btrfs.show(other)).uuid;

  // Beta reaches alpha through a proxy that can hold beta's requests.
  proxy = await proxyToAlpha(pair);
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await pair?.close();
});

/** Every subvolume on alpha's pool, by UUID and received UUID. */
async function alphaSubvolumes(): Promise<string[]> {
  return (await btrfs.listAll(pair.sourcePool.path)).map((s) => `${s.uuid} ${s.receivedUuid ?? '-'}`).sort();
}

it('refuses a replica swapped for a link to another peer’s replica while the asker holds the open, and sends nothing of it', async () => {
  const before = await alphaSubvolumes();
  const to = path.join(pair.sourcePool.path, 'photos-back');
  proxy.stall(true);
  const opened = proxy.arrival(`POST ${API_PREFIX}/transfers `);
  const restoring = ferry(pair.alpha.state, ['restore', 'photos', '--from', 'beta', '--to', to, '--wait', '--json']);
  await opened;
  // Beta planned the restore and waits for alpha's answer: the swap.
  const aside = `${replica.path}.aside`;
  await rename(replica.path, aside);
  await symlink(other, replica.path);
  const sentBefore = proxy.forwarded;
  proxy.stall(false);

  const r = await restoring;
  // What beta sent alpha from the swap on: the open and the abort, not the other's 256 KiB (random, so no compression hides it).
  const sentAfter = proxy.forwarded - sentBefore;
  console.log(`restore swap: beta sent alpha ${sentAfter} B after the swap`);
  expect(sentAfter).toBeLessThan(SECRET.length / 4);
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stdout + r.stderr).toMatch(/REPLICA_CHANGED/);
  // Nothing arrived: no path, no new subvolume, nothing carrying the other's identity.
  await expect(lstat(to)).rejects.toMatchObject({ code: 'ENOENT' });
  expect(await alphaSubvolumes()).toEqual(before);
  expect(before.some((s) => s.includes(otherUuid))).toBe(false);
  const [sent] = (await ferryJson<SendTrailEntry[]>(pair.beta.state, ['trail', 'send', '--limit', '5'])).filter((e) => e.kind === 'restore');
  expect(sent).toMatchObject({ status: 'failed', errorCode: 'REPLICA_CHANGED', bytes: 0 });

  // Put back, the same restore goes through, and brings alpha's own data.
  await unlink(replica.path);
  await rename(aside, replica.path);
  const again = await ferry(pair.alpha.state, ['restore', 'photos', '--from', 'beta', '--to', to, '--wait', '--json']);
  expect(again.code, again.stderr).toBe(0);
  expect(JSON.parse(again.stdout) as RestoreView).toMatchObject({ state: 'succeeded', mode: 'full', snapshot: replica.name });
  expect(await manifest(to)).toEqual(await manifest(replica.path));
});
