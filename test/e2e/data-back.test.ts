// Getting data back, with real daemons and real btrfs: a replica promoted to a
// writable share (replication into its chain goes on, incremental), a test
// failover clone made and discarded, each in the receive trail as its own
// kind; and every wrong request refused with one sentence, exit 2, changing
// nothing.

import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplicaView } from '../../src/api/ports.js';
import { Btrfs } from '../../src/btrfs/index.js';
import type { ReceiveTrailEntry, SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk } from '../support/cli.js';
import { manifest } from '../support/manifest.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';
import { subvolumesOf, treeOf } from '../support/leftovers.js';

const btrfs = new Btrfs();
let pair: PairedDaemons;

beforeAll(async () => {
  pair = await pairedDaemons({ sourceMiB: 256, targetMiB: 256, shareName: 'photos' });
  await writeFile(path.join(pair.share, 'a.txt'), 'first\n');
  await ferryOk(pair.alpha.state, ['task', 'add', 'photos', '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d']);
  await ferryOk(pair.alpha.state, ['task', 'pause', 'photos']);
  for (const line of ['second\n', 'third\n']) {
    expect((await ferry(pair.alpha.state, ['task', 'run', 'photos', '--wait'])).code).toBe(0);
    await appendFile(path.join(pair.share, 'a.txt'), line);
  }
}, 120_000);

afterAll(async () => {
  await pair?.close();
});

const beta = (): string => pair.beta.state;
const replicas = async (): Promise<ReplicaView[]> => ferryJson<ReplicaView[]>(beta(), ['replica', 'list']);

describe('promote and clone on the receiver', () => {
  it('refuses wrong requests with one sentence and exit 2, changing nothing', async () => {
    const [chain] = await replicas();
    const oldest = chain?.snapshots[0]?.name ?? '';
    const outside = path.join(path.dirname(pair.targetPool.path), 'outside');
    const inPeerDir = path.join(pair.targetPool.path, pair.alphaId, 'promoted');
    const taken = path.join(pair.targetPool.path, 'taken');
    await writeFile(taken, 'x');
    const before = [await subvolumesOf(pair.targetPool.path), await treeOf(pair.targetPool.path)];
    const cases: [string[], RegExp][] = [
      [['replica', 'promote', 'photos', '--peer', 'alpha', '--snapshot', '20200101T000000.000Z', '--to', path.join(pair.targetPool.path, 'p')], /no replica '20200101T000000.000Z' of 'photos' is held here; there are: \d{8}T/],
      [['replica', 'promote', 'photos', '--peer', 'alpha', '--snapshot', 'yesterday', '--to', path.join(pair.targetPool.path, 'p')], /'yesterday' is not a snapshot name/],
      [['replica', 'promote', 'photos', '--peer', 'nobody', '--to', path.join(pair.targetPool.path, 'p')], /no peer with id or name 'nobody'/],
      [['replica', 'promote', 'music', '--peer', 'alpha', '--to', path.join(pair.targetPool.path, 'p')], /has sent no share named 'music' here/],
      [['replica', 'promote', 'photos', '--peer', 'alpha', '--to', taken], /exists already/],
      [['replica', 'clone', 'photos', '--peer', 'alpha', '--snapshot', oldest, '--to', outside], /is outside every pool of this appliance/],
      [['replica', 'promote', 'photos', '--peer', 'alpha', '--to', inPeerDir], /is inside the directory of peer/],
      [['replica', 'promote', 'photos', '--peer', 'alpha', '--to', 'relative/path'], /target path must be absolute/],
      [['replica', 'discard', path.join(pair.targetPool.path, 'taken')], /is not a clone made by 'ferry replica clone'/],
    ];
    for (const [args, message] of cases) {
      const r = await ferry(beta(), args);
      expect(r.code, args.join(' ')).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    }
    expect([await subvolumesOf(pair.targetPool.path), await treeOf(pair.targetPool.path)]).toEqual(before);
  });

  it('promotes the newest replica to a writable share, and replication into its chain goes on incrementally', async () => {
    const [chain] = await replicas();
    const newest = chain?.snapshots.at(-1);
    expect(newest?.newest).toBe(true);
    const to = path.join(pair.targetPool.path, 'photos-live');
    const r = await ferry(beta(), ['replica', 'promote', 'photos', '--peer', 'alpha', '--to', to]);
    expect(r.code, r.stderr).toBe(0);
    expect(await manifest(to)).toEqual(await manifest(newest?.path ?? ''));
    const shown = await btrfs.show(to);
    expect(shown.readOnly).toBe(false);
    await writeFile(path.join(to, 'written-on-beta.txt'), 'hello\n');
    // The replica itself is untouched: still read-only, still carrying its received UUID.
    expect(await btrfs.show(newest?.path ?? '')).toMatchObject({ readOnly: true, receivedUuid: newest?.receivedUuid });

    const again = await ferry(pair.alpha.state, ['task', 'run', 'photos', '--wait']);
    expect(again.code, again.stderr).toBe(0);
    const [last] = await ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--task', 'photos', '--limit', '1']);
    expect(last).toMatchObject({ status: 'succeeded', mode: 'incremental', parent: newest?.name });
    expect((await replicas())[0]?.copies).toEqual([expect.objectContaining({ kind: 'promote', path: to, snapshot: newest?.name })]);
  });

  it('clones a replica for a test failover, and discards it with one verb', async () => {
    const [chain] = await replicas();
    const oldest = chain?.snapshots[0];
    const to = path.join(pair.targetPool.path, 'failover-test');
    expect((await ferry(beta(), ['replica', 'clone', 'photos', '--peer', 'alpha', '--snapshot', oldest?.name ?? '', '--to', to])).code).toBe(0);
    expect(await readFile(path.join(to, 'a.txt'), 'utf8')).toBe('first\n');
    const discarded = await ferry(beta(), ['replica', 'discard', to]);
    expect(discarded.code, discarded.stderr).toBe(0);
    expect(await btrfs.isSubvolume(to)).toBe(false);
    // A promoted share is never Ferry's to delete.
    const promoted = await ferry(beta(), ['replica', 'discard', path.join(pair.targetPool.path, 'photos-live')]);
    expect(promoted.code).toBe(2);
    expect(promoted.stderr).toMatch(/is a promoted share, not a test clone/);

    const trail = await ferryJson<ReceiveTrailEntry[]>(beta(), ['trail', 'receive', '--limit', '100']);
    expect(trail.filter((e) => e.kind !== 'replicate').map((e) => [e.kind, e.status, e.snapshot, e.mode])).toEqual([
      ['clone', 'succeeded', oldest?.name, null],
      ['promote', 'succeeded', chain?.snapshots.at(-2)?.name, null],
    ]);
  });
});
