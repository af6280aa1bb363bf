// Fault injection: rounds of replication between two real daemons, each round
// hit by one fault drawn from a seeded generator: a daemon SIGKILLed
// mid-stream (either side), the link cut at a random byte, the target pool
// full, `btrfs receive` failing, the peer down past the retry window, or the
// sender's clock outside the signature window. After every round: no trail
// entry is left 'running', every 'succeeded' one names a replica that exists
// and matches its source snapshot, nothing but committed replicas is visible
// in the replica directory; and once the fault is gone the next run succeeds
// with a byte-identical replica.
//
// FERRY_FAULT_SEED picks the seed (printed, so a failing run can be replayed);
// FERRY_FAULT_ROUNDS the number of rounds (default 20).

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, unlink, writeFile, appendFile, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ReceiveTrailEntry, SendTrailEntry } from '../../src/domain/trail.js';
import { isSnapshotName } from '../../src/domain/names.js';
import { Btrfs } from '../../src/btrfs/index.js';
import { ferry, ferryJson, ferryOk, type CliResult } from '../support/cli.js';
import { manifest } from '../support/manifest.js';
import { pairedDaemons, type PairedDaemons } from '../support/paired.js';
import { emptyPool, fillPool } from '../support/pools.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { eventually } from '../support/eventually.js';

// ---- the seeded generator ------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  constructor(readonly next: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Content to write: sizes and choices come from the seed, the bytes need not (they only have to be incompressible). */
  bytes(n: number): Buffer {
    return randomBytes(n);
  }
}

const SEED = Number(process.env.FERRY_FAULT_SEED ?? 20240611) >>> 0;
const ROUNDS = Number(process.env.FERRY_FAULT_ROUNDS ?? 20);

const KINDS = ['cut', 'kill-sender', 'kill-receiver', 'receive-fails', 'pool-full', 'peer-down', 'clock-skew'] as const;
type Kind = (typeof KINDS)[number];

// The kinds of all rounds are drawn up front, so the test names show them; the
// first rounds are a shuffle of every kind, so that even a short run meets each.
const planRng = new Rng(mulberry32(SEED));
const firstCycle = [...KINDS];
for (let i = firstCycle.length - 1; i > 0; i--) {
  const j = planRng.int(0, i);
  [firstCycle[i], firstCycle[j]] = [firstCycle[j]!, firstCycle[i]!];
}
// FERRY_FAULT_KINDS=cut,peer-down narrows the draw to some kinds (to chase one).
const chosen = (process.env.FERRY_FAULT_KINDS ?? '').split(',').filter((k): k is Kind => (KINDS as readonly string[]).includes(k));
const kinds: readonly Kind[] = chosen.length > 0 ? chosen : KINDS;
const plan: Kind[] = Array.from({ length: ROUNDS }, (_, i) => (chosen.length > 0 ? planRng.pick(kinds) : (firstCycle[i] ?? planRng.pick(kinds))));

console.log(`faults: seed ${SEED} (FERRY_FAULT_SEED), ${ROUNDS} rounds (FERRY_FAULT_ROUNDS): ${plan.join(' ')}`);

// ---- the setup -----------------------------------------------------------------------

const TASK = 'faulty';
const SHARE = 'data';
/** The throttled link: a round's few MiB take a second or two. */
const RATE = 3 << 20;
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

let pair: PairedDaemons;
let proxy: TcpProxy;
let bin: string;
let failFlag: string;
let filler: string;
/** Set when a round fails: the rounds after it would only report its damage. */
let broken = false;
/** Succeeded sends already compared with their source: only new ones are compared again. */
const verified = new Set<string>();
/** The send trail as the last check saw it: a round's attempts are the ones not in it. */
let lastSent: SendTrailEntry[] = [];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const replicaRoot = (): string => path.join(pair.targetPool.path, pair.alphaId, SHARE);
const sourceSnapshot = (name: string): string => path.join(pair.sourcePool.path, '.ferry-snapshots', SHARE, TASK, name);

beforeAll(async () => {
  // A `btrfs` first on beta's PATH that fails `receive` while the flag file
  // exists: at once (the flag holds 0) or after passing N bytes of the stream
  // on (so a partial subvolume is left behind), and is the real one otherwise.
  bin = await mkdtemp(path.join(os.tmpdir(), 'ferry-faults-bin-'));
  failFlag = path.join(bin, 'fail-receive');
  await writeFile(
    path.join(bin, 'btrfs'),
    [
      '#!/bin/sh',
      `if [ "$1" = receive ] && [ -e '${failFlag}' ]; then`,
      `  n=$(cat '${failFlag}')`,
      '  if [ "$n" -gt 0 ]; then head -c "$n" | /usr/bin/btrfs "$@"; fi',
      '  echo "ERROR: injected receive failure" >&2',
      '  exit 1',
      'fi',
      'exec /usr/bin/btrfs "$@"',
      '',
    ].join('\n'),
  );
  await chmod(path.join(bin, 'btrfs'), 0o755);

  // Every round keeps its replica (nothing is pruned), so the pools grow with the rounds.
  const sizeMiB = Math.max(512, 256 + ROUNDS * 12);
  pair = await pairedDaemons({ sourceMiB: sizeMiB, targetMiB: sizeMiB, shareName: SHARE, env: { beta: { PATH: `${bin}:${process.env.PATH ?? ''}` } } });
  filler = path.join(pair.targetPool.path, '.filler');
  proxy = new TcpProxy(pair.beta.port);
  await proxy.start();
  await ferryOk(pair.alpha.state, ['peer', 'set-address', 'beta', `127.0.0.1:${proxy.port}`]);
  await ferryOk(pair.alpha.state, [
    'task', 'add', TASK, '--share', pair.share, '--peer', 'beta', '--pool', 'backup', '--every', '1d', '--keep-local', '1000', '--keep-remote', '1000',
    // The shortest backoff: what the rounds check is the state after the retries, not how long they wait (2 s doubling waited 14 s a run).
    '--retry-backoff', '1s',
  ]);
  // Only the rounds start runs.
  await ferryOk(pair.alpha.state, ['task', 'pause', TASK]);
  await mutate(new Rng(mulberry32(SEED ^ 0x5eed)));
  const first = await runWait();
  expect(first.code, first.stderr).toBe(0);
  await checkInvariants();
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  if (pair) {
    // A failed round may leave a fault in place; none must outlive the file.
    await rm(filler ?? '', { force: true });
    await pair.close();
  }
  if (bin) await rm(bin, { recursive: true, force: true });
});

// ---- helpers -------------------------------------------------------------------------

/** Changes the share a little: new files of a few MiB in all, and now and then a rewrite, a delete, a link, a mode. */
async function mutate(rng: Rng): Promise<number> {
  let written = 0;
  const files = (await readdir(pair.share)).filter((n) => n.startsWith('f-'));
  const newFiles = rng.int(1, 3);
  for (let i = 0; i < newFiles; i++) {
    const size = rng.int(512 << 10, 2 << 20);
    await writeFile(path.join(pair.share, `f-${Date.now().toString(36)}-${i}-${rng.int(0, 1e6)}`), rng.bytes(size));
    written += size;
  }
  if (files.length > 0 && rng.chance(0.5)) {
    const size = rng.int(64 << 10, 512 << 10);
    await appendFile(path.join(pair.share, rng.pick(files)), rng.bytes(size));
    written += size;
  }
  // Files come and go, so the share (and the trees compared) stay small.
  if (files.length > 4 && rng.chance(files.length > 12 ? 0.9 : 0.4)) {
    const gone = rng.pick(files);
    await unlink(path.join(pair.share, gone));
    files.splice(files.indexOf(gone), 1);
  }
  if (files.length > 0 && rng.chance(0.2)) await chmod(path.join(pair.share, rng.pick(files)), rng.pick([0o600, 0o640, 0o644]));
  if (files.length > 0 && rng.chance(0.15)) {
    const dir = path.join(pair.share, `d-${rng.int(0, 1e6)}`);
    await mkdir(dir);
    await symlink(`../${rng.pick(files)}`, path.join(dir, 'link'));
  }
  return written;
}

function runWait(): Promise<CliResult> {
  return ferry(pair.alpha.state, ['task', 'run', TASK, '--wait']);
}

async function sendTrail(): Promise<SendTrailEntry[]> {
  return ferryJson<SendTrailEntry[]>(pair.alpha.state, ['trail', 'send', '--limit', '10000']);
}

async function receiveTrail(): Promise<ReceiveTrailEntry[]> {
  return ferryJson<ReceiveTrailEntry[]>(pair.beta.state, ['trail', 'receive', '--limit', '10000']);
}

/** Waits until `done` says yes or the run ended; true when `done` said yes. */
async function until(done: () => boolean | Promise<boolean>, ended: { value: boolean }): Promise<boolean> {
  let hit = false;
  await eventually('the point of the fault, or the end of the run', async () => (hit = await done()) || ended.value, { timeoutMs: 60_000, intervalMs: 20 });
  return hit;
}

/** Starts `task run --wait` in the background; `ended` flips when the CLI exits. */
function background(): { result: Promise<CliResult>; ended: { value: boolean } } {
  const ended = { value: false };
  const result = runWait().finally(() => {
    ended.value = true;
  });
  return { result, ended };
}

async function fillTargetPool(): Promise<void> {
  await fillPool(pair.targetPool.path, filler);
}

async function emptyTargetPool(): Promise<void> {
  await emptyPool(pair.targetPool.path, filler);
}

/**
 * The invariants, after every round: nothing 'running' on either side (after
 * a grace period for the receiver to notice a sender gone), nothing but
 * committed replicas in the replica directory, and every 'succeeded' entry on
 * either side naming a replica that exists and matches its source snapshot.
 */
async function checkInvariants(): Promise<{ sent: SendTrailEntry[]; received: ReceiveTrailEntry[] }> {
  const deadline = Date.now() + 20_000;
  const look = async (): Promise<{ sent: SendTrailEntry[]; received: ReceiveTrailEntry[]; names: string[] }> => {
    // Each CLI call costs a Node start-up: ask both sides at once.
    const [sent, received] = await Promise.all([sendTrail(), receiveTrail()]);
    return { sent, received, names: await readdir(replicaRoot()).catch(() => []) };
  };
  let seen = await look();
  const settled = (): boolean => ![...seen.sent, ...seen.received].some((e) => e.status === 'running') && !seen.names.some((n) => n.startsWith('.incoming-'));
  while (!settled() && Date.now() < deadline) {
    await sleep(200);
    seen = await look();
  }
  const { sent, received, names } = seen;
  lastSent = sent;
  expect(sent.filter((e) => e.status === 'running'), 'send trail entries left running').toEqual([]);
  expect(received.filter((e) => e.status === 'running'), 'receive trail entries left running').toEqual([]);

  // Only committed replicas are visible: snapshot names, read-only, received.
  const subvolumes = await new Btrfs().children(replicaRoot());
  const bad = names.filter((n) => {
    const info = subvolumes.find((s) => s.name === n);
    return !isSnapshotName(n) || !info || !info.readOnly || info.receivedUuid === null;
  });
  expect(bad, `not committed replicas in ${replicaRoot()}: ${names.join(', ')}`).toEqual([]);

  // Every success names a replica that is there and the same as its source.
  const replicas = new Map(subvolumes.map((s) => [s.name, s]));
  for (const e of sent.filter((x) => x.status === 'succeeded')) {
    expect(replicas.has(e.snapshot ?? ''), `send trail says ${e.id} (${e.snapshot}) succeeded, but beta holds no such replica`).toBe(true);
  }
  for (const e of received.filter((x) => x.status === 'succeeded')) {
    expect(replicas.has(e.snapshot), `receive trail says ${e.id} (${e.snapshot}) succeeded, but no such replica is there`).toBe(true);
    expect(e.replicaPath).toBe(path.join(replicaRoot(), e.snapshot));
  }
  const toCompare = new Set([...sent, ...received].flatMap((e) => (e.status === 'succeeded' && e.snapshot !== null && !verified.has(e.snapshot) ? [e.snapshot] : [])));
  for (const snapshot of toCompare) {
    expect(await manifest(path.join(replicaRoot(), snapshot)), `replica ${snapshot} differs from its source`).toEqual(await manifest(sourceSnapshot(snapshot)));
    verified.add(snapshot);
  }
  return { sent, received };
}

// ---- the faults ----------------------------------------------------------------------

/** Runs the task with one fault injected; returns when the fault is removed and every daemon is up again. */
async function inject(kind: Kind, rng: Rng, written: number): Promise<string> {
  const base = proxy.forwarded;
  const offset = rng.int(16 << 10, Math.max(32 << 10, Math.floor(written * 0.9)));
  const midStream = (): boolean => proxy.forwarded - base >= offset;
  switch (kind) {
    case 'cut': {
      proxy.cutAfter(offset);
      const r = await runWait();
      // The retry after the cut normally carries the run through.
      return `cut after ${offset} B; run exited ${r.code} ${r.stderr.trim()}`;
    }
    case 'kill-sender': {
      const run = background();
      const hit = await until(midStream, run.ended);
      await pair.alpha.kill();
      await run.result;
      await pair.restart('alpha');
      return `alpha SIGKILLed ${hit ? `after ${offset} B` : 'after the run ended'}`;
    }
    case 'kill-receiver': {
      const run = background();
      const hit = await until(midStream, run.ended);
      await pair.beta.kill();
      const downMs = rng.int(0, 2500);
      await sleep(downMs);
      await pair.restart('beta');
      const r = await run.result;
      return `beta SIGKILLed ${hit ? `after ${offset} B` : 'after the run ended'}, down ${downMs} ms; run exited ${r.code}`;
    }
    case 'receive-fails': {
      const passOn = rng.chance(0.5) ? 0 : offset;
      const known = new Set((await receiveTrail()).map((e) => e.id));
      await writeFile(failFlag, String(passOn));
      const run = background();
      // Ids, not times, tell this run's attempts: a clock-skew round leaves entries dated in the future.
      const failed = await until(async () => (await receiveTrail()).some((e) => !known.has(e.id) && e.status === 'failed'), run.ended);
      await rm(failFlag, { force: true });
      const r = await run.result;
      expect(failed, 'btrfs receive was made to fail, but no receive failed').toBe(true);
      return `btrfs receive failed after ${passOn} B; run exited ${r.code}`;
    }
    case 'pool-full': {
      await fillTargetPool();
      const known = new Set((await sendTrail()).map((e) => e.id));
      const run = background();
      const failed = await until(async () => (await sendTrail()).some((e) => !known.has(e.id) && (e.status === 'failed' || e.status === 'interrupted')), run.ended);
      await emptyTargetPool();
      const r = await run.result;
      expect(failed, 'the target pool was full, but no attempt failed').toBe(true);
      return `target pool full; run exited ${r.code}`;
    }
    case 'peer-down': {
      // Down from the start or mid-stream, and for longer than every retry of the run.
      const fromStart = rng.chance(0.3);
      if (fromStart) proxy.setDown(true);
      const run = background();
      if (!fromStart) await until(midStream, run.ended);
      const endedFirst = run.ended.value;
      proxy.setDown(true);
      const r = await run.result;
      proxy.setDown(false);
      if (!endedFirst) expect(r.code, `the peer was down for the rest of the run, yet: ${r.stdout}`).toBe(1);
      return `link down ${fromStart ? 'from the start' : endedFirst ? 'after the run ended' : `after ${offset} B`}; run exited ${r.code}: ${r.stderr.trim()}`;
    }
    case 'clock-skew': {
      const minutes = rng.pick([-1, 1]) * rng.int(6, 60);
      await pair.alpha.stop();
      await pair.restart('alpha', {
        env: { LD_PRELOAD: LIBFAKETIME, FAKETIME: `${minutes > 0 ? '+' : ''}${minutes}m`, FAKETIME_DONT_FAKE_MONOTONIC: '1' },
      });
      const r = await runWait();
      await pair.alpha.stop();
      await pair.restart('alpha');
      expect(r.code, `alpha's clock was ${minutes} min off, yet the run: ${r.stdout}`).toBe(1);
      expect(r.stderr).toContain('STALE_TIME');
      return `alpha's clock ${minutes} min off; run exited ${r.code}: ${r.stderr.trim()}`;
    }
  }
}

// ---- the rounds ----------------------------------------------------------------------

it('has libfaketime for the clock-skew rounds', () => {
  expect(existsSync(LIBFAKETIME), `${LIBFAKETIME} is missing: apt-get install faketime (deploy/setup.sh does)`).toBe(true);
});

for (const [i, kind] of plan.entries()) {
  it(`round ${i + 1}/${ROUNDS}: ${kind}`, async (ctx) => {
    if (broken) ctx.skip();
    broken = true;
    const rng = new Rng(mulberry32((SEED + Math.imul(i + 1, 0x9e3779b1)) >>> 0));
    const written = await mutate(rng);
    const before = new Set(lastSent.map((e) => e.id));
    proxy.setRate(RATE);
    let what: string;
    try {
      what = await inject(kind, rng, written);
    } finally {
      proxy.setRate(undefined);
      proxy.setDown(false);
      await rm(failFlag, { force: true });
      await emptyTargetPool();
    }
    const { sent: afterFault } = await checkInvariants();
    const attempts = afterFault.filter((e) => !before.has(e.id));
    what += `\n  attempts: ${attempts.map((e) => `${e.status}${e.errorCode ? ` ${e.errorCode}` : ''}`).reverse().join(', ') || 'none'}`;
    // A fault of the link, a daemon, a disk or a clock is never an internal error (which is permanent: no retry).
    expect(
      attempts.filter((e) => e.errorCode === 'INTERNAL').map((e) => e.error),
      what,
    ).toEqual([]);

    // The faults that cannot miss are reported by their own code.
    const code = ({ 'pool-full': 'NO_SPACE', 'receive-fails': 'RECEIVE_FAILED', 'clock-skew': 'STALE_TIME' } as Partial<Record<Kind, string>>)[kind];
    if (code) expect(attempts.map((e) => e.errorCode), what).toContain(code);

    // The fault is gone: the next run succeeds and its replica is the source's.
    const again = await runWait();
    expect(again.code, `${what}\nthe run after the fault: ${again.stderr}\n${pair.alpha.log().slice(-4000)}`).toBe(0);
    const snapshot = /snapshot (\S+),/.exec(again.stdout)?.[1] ?? '';
    expect(isSnapshotName(snapshot), again.stdout).toBe(true);
    const { sent } = await checkInvariants();
    expect(sent.find((e) => e.snapshot === snapshot && e.status === 'succeeded')).toBeDefined();
    // checkInvariants compared it with its source (manifest) as a new success.
    expect(verified.has(snapshot)).toBe(true);
    await ctx.annotate(what);
    console.log(`round ${i + 1} ${kind}: ${what}`);
    broken = false;
  }, 120_000);
}
