// Throughput of sealing and opening, all in memory, against a plain PassThrough
// pipeline fed the same way, so the difference is the cost of the crypto. It
// prints figures and asserts nothing: the machine's load decides the numbers,
// so each figure is the best of `rounds` runs.
// Run: npx tsx bench/seal.ts [MiB=1024] [chunk KiB list=64,256,1024] [rounds=2]

import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createOpener, createSealer } from '../src/crypto/stream.js';
import { encodeStreamHeader } from '../proto/frame.js';

const totalMiB = Number(process.argv[2] ?? 1024);
const chunkSizes = (process.argv[3] ?? '64,256,1024').split(',').map((k) => Number(k) * 1024);
const rounds = Number(process.argv[4] ?? 2);
const total = totalMiB * 1024 * 1024;
// 64 KiB slices: what a pipe from `btrfs send` or a socket hands over at a time.
const slice = 64 * 1024;
const pattern = randomBytes(4 * 1024 * 1024);

/** `total` bytes in fresh 64 KiB buffers, as a pipe reader gives them. */
function plaintextSource(): Readable {
  let sent = 0;
  return new Readable({
    highWaterMark: slice,
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const at = sent % pattern.length;
      const n = Math.min(slice, total - sent);
      sent += n;
      this.push(Buffer.from(pattern.subarray(at, at + n)));
    },
  });
}

/** Replays a sealed stream in 64 KiB slices. */
function sealedSource(sealed: Buffer): Readable {
  let at = 0;
  return new Readable({
    highWaterMark: slice,
    read() {
      if (at >= sealed.length) {
        this.push(null);
        return;
      }
      this.push(sealed.subarray(at, at + slice));
      at += slice;
    },
  });
}

function sink(keep?: Buffer[]): Writable {
  return new Writable({
    highWaterMark: slice,
    write(chunk: Buffer, _e, cb) {
      keep?.push(chunk);
      cb();
    },
  });
}

async function best(label: string, bytes: number, once: () => Promise<void>): Promise<number> {
  let rate = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    await once();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    rate = Math.max(rate, bytes / 1048576 / seconds);
  }
  console.log(`${label.padEnd(28)} ${rate.toFixed(0).padStart(6)} MiB/s`);
  return rate;
}

const run = (source: () => Readable, stages: () => Duplex[]) => () => pipeline([source(), ...stages(), sink()]);

const key = randomBytes(32);
console.log(`node ${process.version}, ${totalMiB} MiB per run, ${slice / 1024} KiB input slices, best of ${rounds}`);
const base = await best('PassThrough', total, run(plaintextSource, () => [new PassThrough()]));
for (const chunkSize of chunkSizes) {
  const header = encodeStreamHeader({ chunkSize, salt: randomBytes(16), ephemeralPublicKey: randomBytes(32), transferId: 'bench-transfer' });
  const opts = { header, chunkSize };
  console.log(`-- chunk ${chunkSize / 1024} KiB`);
  const seal = await best('seal', total, run(plaintextSource, () => [createSealer(key, opts)]));
  const parts: Buffer[] = [];
  await pipeline(plaintextSource(), createSealer(key, opts), sink(parts));
  const sealed = Buffer.concat(parts);
  parts.length = 0;
  const open = await best('open', total, run(() => sealedSource(sealed), () => [createOpener(key, opts)]));
  const both = await best('seal+open', total, run(plaintextSource, () => [createSealer(key, opts), createOpener(key, opts)]));
  const pct = (rate: number): string => `${((100 * rate) / base).toFixed(0)}%`;
  console.log(`   of PassThrough: seal ${pct(seal)}, open ${pct(open)}, seal+open ${pct(both)}`);
}
