// What the receiver's whole-stream check (src/btrfs/stream-guard.ts) costs:
// the same `btrfs send` stream read by this process through a plain
// PassThrough and through the StreamGuard, alternating, node CPU seconds per
// GiB for each (btrfs send's own CPU is its process's, not counted). The
// difference is the check. npm run bench runs it on its data set; alone:
//   npx tsx bench/guard.ts SNAPSHOT [PARENT] [rounds=3]

import { spawn } from 'node:child_process';
import { PassThrough, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { Btrfs } from '../src/btrfs/index.js';
import { StreamGuard } from '../src/btrfs/stream-guard.js';

const GiB = 1024 ** 3;

export interface GuardCost {
  readonly bytes: number;
  /** Node CPU seconds per GiB, one per round. */
  readonly plain: number[];
  readonly checked: number[];
}

function through(check: boolean, parent: { uuid: string; path: string } | null): Transform {
  if (!check) return new PassThrough();
  // Every clone source the stream names is allowed here: the rules still run on every command.
  const sources = new Set<string>();
  return new StreamGuard({
    // As the receiver does: a clone from the parent is looked at for links on its way.
    ...(parent ? { linkFree: new Map([[parent.uuid, parent.path]]) } : {}),
    stagingName: '.incoming-bench',
    checkHead: (head) => {
      sources.add(head.uuid);
      if (head.parentUuid) sources.add(head.parentUuid);
    },
    rules: { cloneSources: sources },
  });
}

async function readOnce(snapshot: string, parent: { uuid: string; path: string } | null, check: boolean): Promise<{ bytes: number; cpu: number }> {
  const child = spawn('btrfs', ['send', '-q', ...(parent ? ['-p', parent.path] : []), '--', snapshot], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let bytes = 0;
  const before = process.cpuUsage();
  await pipeline(
    child.stdout,
    through(check, parent),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb();
      },
    }),
  );
  const used = process.cpuUsage(before);
  if ((await exited) !== 0) throw new Error(`btrfs send ${snapshot} failed`);
  return { bytes, cpu: (used.user + used.system) / 1e6 };
}

export async function streamCheckCost(snapshot: string, parent: string | null, rounds = 3): Promise<GuardCost> {
  const plain: number[] = [];
  const checked: number[] = [];
  let bytes = 0;
  const from = parent ? { uuid: (await new Btrfs().show(parent)).uuid, path: parent } : null;
  for (let i = 0; i < rounds; i++) {
    for (const check of [false, true]) {
      const r = await readOnce(snapshot, from, check);
      bytes = r.bytes;
      (check ? checked : plain).push(r.cpu / (r.bytes / GiB));
    }
  }
  return { bytes, plain, checked };
}

export function describeCost(label: string, cost: GuardCost): string {
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const p = median(cost.plain);
  const c = median(cost.checked);
  return (
    `whole-stream check, ${label} (${(cost.bytes / GiB).toFixed(2)} GiB): node CPU s/GiB read plain ${p.toFixed(3)}, read and checked ${c.toFixed(3)}, ` +
    `check ${(c - p).toFixed(3)} s/GiB (rounds: plain ${cost.plain.map((x) => x.toFixed(3)).join(' ')} | checked ${cost.checked.map((x) => x.toFixed(3)).join(' ')})`
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [snapshot, parent, rounds] = process.argv.slice(2);
  if (!snapshot) throw new Error('usage: npx tsx bench/guard.ts SNAPSHOT [PARENT] [rounds]');
  const cost = await streamCheckCost(snapshot, parent && parent !== '-' ? parent : null, Number(rounds ?? 3));
  console.log(describeCost(parent && parent !== '-' ? 'incremental' : 'full', cost));
}
