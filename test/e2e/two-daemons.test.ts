// Two appliances as real processes on 127.0.0.1, each with its own state dir
// and loop pool: they pair by invite through the CLI and replicate a share
// full, then incremental, through the real signed, encrypted HTTP path.

import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Btrfs } from '../../src/btrfs/index.js';
import type { PeerView, StatusView } from '../../src/api/schemas.js';
import type { ReceiveTrailEntry, SendTrailEntry } from '../../src/domain/trail.js';
import { ferry, ferryJson, ferryOk, initAppliance, removeState, startDaemon, stopAllDaemons, type Daemon } from '../support/cli.js';
import { manifest } from '../support/manifest.js';
import { createPool, type Pool } from '../support/pools.js';

let sourcePool: Pool;
let targetPool: Pool;
let alpha: Daemon;
let beta: Daemon;
const states: string[] = [];

beforeAll(async () => {
  sourcePool = await createPool({ sizeMiB: 512 });
  targetPool = await createPool({ sizeMiB: 512 });
  const a = await initAppliance('alpha');
  const b = await initAppliance('beta');
  states.push(a.state, b.state);
  alpha = await startDaemon(a, 'alpha');
  beta = await startDaemon(b, 'beta');
});

afterAll(async () => {
  await stopAllDaemons();
  await sourcePool?.destroy();
  await targetPool?.destroy();
  for (const s of states) await removeState(s);
});

describe('two daemons', () => {
  let betaStatus: StatusView;
  let alphaStatus: StatusView;

  it('pair by invite, and each lists the other with its fingerprint', async () => {
    alphaStatus = await ferryJson<StatusView>(alpha.state, ['status']);
    betaStatus = await ferryJson<StatusView>(beta.state, ['status']);
    expect(alphaStatus.id).toMatch(/^f[a-z2-7]{20}$/);

    const invite = (await ferryOk(beta.state, ['pair', 'invite'])).trim();
    expect(invite).toMatch(/^ferry-invite-v1:/);
    const accepted = await ferry(alpha.state, ['pair', 'accept', invite]);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain(betaStatus.fingerprint);

    const alphaPeers = await ferryJson<PeerView[]>(alpha.state, ['peer', 'list']);
    const betaPeers = await ferryJson<PeerView[]>(beta.state, ['peer', 'list']);
    expect(alphaPeers).toEqual([expect.objectContaining({ id: betaStatus.id, name: 'beta', fingerprint: betaStatus.fingerprint })]);
    expect(betaPeers).toEqual([expect.objectContaining({ id: alphaStatus.id, name: 'alpha', fingerprint: alphaStatus.fingerprint })]);

    // The invite was single use.
    const again = await ferry(alpha.state, ['pair', 'accept', invite]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/INVITE_INVALID/);
  });

  it('replicates full, then incremental, byte-identical', async () => {
    await ferryOk(beta.state, ['pool', 'add', 'backup', targetPool.path]);
    const share = path.join(sourcePool.path, 'photos');
    await new Btrfs().create(share);
    await mkdir(path.join(share, 'album'));
    await writeFile(path.join(share, 'album', 'big.raw'), randomBytes(24 << 20));
    await writeFile(path.join(share, 'notes.txt'), 'first\n');
    await ferryOk(alpha.state, ['task', 'add', 'photos-offsite', '--share', share, '--peer', 'beta', '--pool', 'backup', '--every', '1h']);

    const first = await ferry(alpha.state, ['task', 'run', 'photos-offsite', '--wait']);
    expect(first.code, first.stderr).toBe(0);
    await appendFile(path.join(share, 'notes.txt'), 'second\n');
    const second = await ferry(alpha.state, ['task', 'run', 'photos-offsite', '--wait']);
    expect(second.code, second.stderr).toBe(0);

    const sent = await ferryJson<SendTrailEntry[]>(alpha.state, ['trail', 'send', '--task', 'photos-offsite']);
    const received = await ferryJson<ReceiveTrailEntry[]>(beta.state, ['trail', 'receive', '--peer', 'alpha']);
    expect(sent.map((e) => [e.mode, e.status])).toEqual([
      ['incremental', 'succeeded'],
      ['full', 'succeeded'],
    ]);
    expect(received.map((e) => e.id)).toEqual(sent.map((e) => e.id));
    expect(received[0]).toMatchObject({ mode: 'incremental', parent: sent[1]?.snapshot, status: 'succeeded', share: 'photos' });
    expect(sent[0]?.bytes).toBeLessThan((sent[1]?.bytes ?? 0) / 50);

    for (const entry of received) {
      const replica = path.join(targetPool.path, alphaStatus.id, 'photos', entry.snapshot);
      expect(entry.replicaPath).toBe(replica);
      const snapshot = path.join(sourcePool.path, '.ferry-snapshots', 'photos', 'photos-offsite', entry.snapshot);
      expect(await manifest(replica)).toEqual(await manifest(snapshot));
    }
  });

  it('stops both daemons cleanly on SIGTERM', async () => {
    expect(await alpha.stop()).toBe(0);
    expect(await beta.stop()).toBe(0);
  });
});
