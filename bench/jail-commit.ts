// What a transfer's jail costs at the commit: the verified subvolume leaves
// its jail as a snapshot made by `btrfs receive` from a two-command stream
// (src/btrfs/rehome.ts), and the jail is deleted. Timed per round on a pool
// image under /dev/shm, against the plain rename within one directory that
// the commit was before the jail. Alone:
//   npx tsx bench/jail-commit.ts [rounds=20]

import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { Btrfs } from '../src/btrfs/index.js';
import { discardIncoming } from '../src/receiver/jail.js';

function must(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

export interface JailCommitCost {
  /** Milliseconds per commit, one per round. */
  readonly rename: number[];
  readonly jail: number[];
}

export async function jailCommitCost(rounds = 20): Promise<JailCommitCost> {
  const btrfs = new Btrfs();
  const dir = await mkdtemp('/dev/shm/ferry-bench-jail-');
  const image = path.join(dir, 'pool.img');
  const mnt = path.join(dir, 'mnt');
  await mkdir(mnt);
  must('truncate', ['-s', '512M', image]);
  must('mkfs.btrfs', ['-q', image]);
  const loop = must('losetup', ['--find', '--show', image]);
  must('mount', ['-o', 'nosuid,nodev', loop, mnt]);
  const cost: JailCommitCost = { rename: [], jail: [] };
  try {
    const share = path.join(mnt, 'share');
    await btrfs.create(share);
    await writeFile(path.join(share, 'file'), Buffer.alloc(1 << 20, 7));
    const replicas = path.join(mnt, 'peer', 'share');
    await mkdir(replicas, { recursive: true });
    for (let i = 0; i < rounds; i++) {
      for (const jailed of [false, true]) {
        const snap = path.join(mnt, `snap-${i}-${String(jailed)}`);
        await btrfs.snapshot(share, snap, { readOnly: true });
        const into = jailed ? path.join(replicas, `.incoming-${i}`) : replicas;
        await mkdir(into, { recursive: true });
        const sent = btrfs.send({ path: snap });
        const received = btrfs.receive({ dir: into });
        sent.stream.pipe(received.input);
        const { name } = await received.done;
        const info = await btrfs.show(path.join(into, name));
        const start = process.hrtime.bigint();
        if (jailed) {
          await btrfs.rehome({ receivedUuid: info.receivedUuid ?? '', generation: info.generation, dir: replicas, name: `${name}.ready` });
          await discardIncoming(btrfs, into);
          await rename(path.join(replicas, `${name}.ready`), path.join(replicas, `replica-${i}-jail`));
        } else {
          await rename(path.join(into, name), path.join(replicas, `replica-${i}-plain`));
        }
        (jailed ? cost.jail : cost.rename).push(Number(process.hrtime.bigint() - start) / 1e6);
        await btrfs.delete(path.join(replicas, `replica-${i}-${jailed ? 'jail' : 'plain'}`));
        await btrfs.delete(snap);
      }
    }
  } finally {
    must('umount', [mnt]);
    must('losetup', ['-d', loop]);
    await rm(dir, { recursive: true, force: true });
  }
  return cost;
}

export function describeJailCommit(cost: JailCommitCost): string {
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return `jail commit (${cost.jail.length} rounds): a rename within the replica directory ${median(cost.rename).toFixed(1)} ms median; out of a jail (btrfs receive of the two-command stream, the jail deleted, the rename) ${median(cost.jail).toFixed(1)} ms median, max ${Math.max(...cost.jail).toFixed(1)} ms`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(describeJailCommit(await jailCommitCost(Number(process.argv[2] ?? 20))));
}
