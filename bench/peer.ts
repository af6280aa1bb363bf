// Throughput of a stream upload over the peer API on 127.0.0.1: PeerClient ->
// sealed HTTP PUT -> peer server -> opener -> a receiver that drains, against a
// plain (unsigned, unsealed) HTTP PUT of the same bytes to a server that drains.
// The receiving side runs in a child process, as it would run on another
// machine, so sealing and opening do not share one event loop. Prints figures,
// asserts nothing: each figure is the best of `rounds` runs.
// The source is `cat` of a file in /dev/shm through a real pipe (as `btrfs
// send` hands its stream over) and the sink a `cat > /dev/null` (as `btrfs
// receive` takes it), so that the figures include the pipe reads and writes;
// both processes run with the daemon's heap settings. Also prints each side's
// CPU seconds per GiB (median over the rounds), which on a shared machine is
// steadier than MB/s for comparing two builds.
// Run: npx tsx bench/peer.ts [MiB=512] [rounds=3]; FERRY_BENCH_CHUNK sets the
// sealed chunk size (default 256 KiB; 64 and 128 KiB measured the same, within noise).

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fork, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { request } from 'undici';
import { generateIdentity, type Identity } from '../src/crypto/index.js';
import { tuneHeapForStreaming } from '../src/daemon/heap.js';
import { shebangNodeFlags } from '../test/support/launch.js';
import { createPeerServer, idOf, PeerClient, type PeerRecord, type ReceiverPort } from '../src/peer/index.js';

const slice = 64 * 1024;

const drain = (onBytes: (n: number) => void = () => undefined): Writable =>
  new Writable({
    highWaterMark: slice,
    write(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb();
    },
  });

interface Setup {
  readonly receiver: Identity;
  readonly sender: PeerRecord;
}

/** The receiving side: a plain HTTP server and a peer server, both draining. Posts their ports. */
async function serve(setup: Setup): Promise<void> {
  const plain = createServer((req, res) => {
    void pipeline(req, drain()).then(() => res.end('ok'));
  });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  const receipts = new Map<string, string>();
  const port: ReceiverPort = {
    holdings: () => Promise.resolve([]),
    open: (_peer, req) => {
      const transferId = randomUUID();
      receipts.set(transferId, req.attemptId);
      return Promise.resolve({ transferId });
    },
    transfer: async (_peer, id, stream) => {
      let bytes = 0;
      const cpu = process.cpuUsage();
      const sink = spawn('cat', [], { stdio: ['pipe', 'ignore', 'inherit'] });
      await pipeline(stream, new Writable({
        highWaterMark: slice,
        write(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          if (sink.stdin.write(chunk)) cb();
          else sink.stdin.once('drain', () => cb());
        },
        final(cb) {
          sink.stdin.end(cb);
        },
      }));
      const used = process.cpuUsage(cpu);
      process.send?.({ cpuSeconds: (used.user + used.system) / 1e6 });
      return { attemptId: receipts.get(id) ?? '', snapshot: 's', receivedUuid: randomUUID(), bytes, replicaPath: '/x', retention: null };
    },
  };
  const seen = new Set<string>();
  const peer = createPeerServer({
    identity: setup.receiver,
    name: 'receiver',
    peers: { get: (id) => (id === setup.sender.id ? setup.sender : undefined) },
    nonces: { has: (s, n) => seen.has(`${s} ${n}`), remember: (s, n) => !seen.has(`${s} ${n}`) && Boolean(seen.add(`${s} ${n}`)) },
    receiver: port,
    pairing: { inviteSecret: () => undefined, recordFailure: () => undefined, complete: () => false },
  });
  const address = await peer.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ plain: (plain.address() as AddressInfo).port, address });
  process.once('message', () => process.exit(0));
}

async function main(): Promise<void> {
  const totalMiB = Number(process.argv[2] ?? 512);
  const rounds = Number(process.argv[3] ?? 3);
  const total = totalMiB * 1024 * 1024;
  tuneHeapForStreaming();
  const file = `/dev/shm/ferry-bench-peer-${process.pid}`;
  writeFileSync(file, randomBytes(total));
  process.once('exit', () => rmSync(file, { force: true }));
  /** `total` bytes through a pipe from `cat`, as `btrfs send` hands its stream over. */
  const source = (): Readable => spawn('cat', [file], { stdio: ['ignore', 'pipe', 'inherit'] }).stdout;

  const receiver = generateIdentity();
  const sender = generateIdentity();
  const senderRecord: PeerRecord = { id: idOf(sender), name: 'sender', address: 'http://127.0.0.1:1', signingPublicKey: sender.signing.publicKey, boxPublicKey: sender.box.publicKey };
  const setup = JSON.stringify({
    receiver: { signing: hex(receiver.signing), box: hex(receiver.box) },
    sender: { ...senderRecord, signingPublicKey: Buffer.from(senderRecord.signingPublicKey).toString('hex'), boxPublicKey: Buffer.from(senderRecord.boxPublicKey).toString('hex') },
  });
  const child = fork(new URL(import.meta.url).pathname, ['--serve', setup], {
    execArgv: [...shebangNodeFlags(new URL('../src/cli/main.ts', import.meta.url).pathname), '--import', 'tsx', ...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [])],
  });
  const ports = await new Promise<{ plain: number; address: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { plain: number; address: string }));
    child.once('error', reject);
  });
  const client = new PeerClient({
    identity: sender,
    ...(process.env.FERRY_BENCH_CHUNK ? { chunkSize: Number(process.env.FERRY_BENCH_CHUNK) } : {}),
    peer: { id: idOf(receiver), name: 'receiver', address: ports.address, signingPublicKey: receiver.signing.publicKey, boxPublicKey: receiver.box.publicKey },
  });

  const plain = async (): Promise<number> => {
    const started = performance.now();
    const res = await request(`http://127.0.0.1:${ports.plain}/`, { method: 'PUT', body: source() });
    await res.body.text();
    return performance.now() - started;
  };
  const senderCpu: number[] = [];
  const receiverCpu: number[] = [];
  const sealed = async (): Promise<number> => {
    const { transferId } = await client.open({ attemptId: randomUUID(), task: 't', share: 's', shareUuid: randomUUID(), shareOrigin: null, pool: 'p', snapshot: 's', snapshotUuid: randomUUID(), parent: null, keepRemote: 1, sizeEstimate: null });
    const receiverUsed = new Promise<number>((resolve) => child.once('message', (m) => resolve((m as { cpuSeconds: number }).cpuSeconds)));
    const cpu = process.cpuUsage();
    const started = performance.now();
    const receipt = await client.transfer(transferId, source());
    if (receipt.bytes !== total) throw new Error(`received ${receipt.bytes} of ${total}`);
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(cpu);
    senderCpu.push((used.user + used.system) / 1e6 / (total / 2 ** 30));
    receiverCpu.push((await receiverUsed) / (total / 2 ** 30));
    return elapsed;
  };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

  const rate = (ms: number): string => `${((total / 1e6 / ms) * 1000).toFixed(0)} MB/s`;
  let bestPlain = Infinity;
  let bestSealed = Infinity;
  for (let i = 0; i < rounds; i++) {
    bestPlain = Math.min(bestPlain, await plain());
    bestSealed = Math.min(bestSealed, await sealed());
  }
  console.log(`${totalMiB} MiB: plain HTTP ${rate(bestPlain)}, sealed peer upload ${rate(bestSealed)} (${((bestPlain / bestSealed) * 100).toFixed(0)}% of plain)`);
  console.log(`sealed upload CPU s/GiB (median of ${rounds}): sender ${median(senderCpu).toFixed(2)}, receiver ${median(receiverCpu).toFixed(2)}`);
  child.send('exit');
}

const hex = (pair: { publicKey: Uint8Array; secretKey: Uint8Array }) => ({
  publicKey: Buffer.from(pair.publicKey).toString('hex'),
  secretKey: Buffer.from(pair.secretKey).toString('hex'),
});
const unhex = (pair: { publicKey: string; secretKey: string }) => ({
  publicKey: new Uint8Array(Buffer.from(pair.publicKey, 'hex')),
  secretKey: new Uint8Array(Buffer.from(pair.secretKey, 'hex')),
});

if (process.argv[2] === '--serve') {
  tuneHeapForStreaming();
  const raw = JSON.parse(process.argv[3] ?? '{}') as {
    receiver: { signing: { publicKey: string; secretKey: string }; box: { publicKey: string; secretKey: string } };
    sender: Omit<PeerRecord, 'signingPublicKey' | 'boxPublicKey'> & { signingPublicKey: string; boxPublicKey: string };
  };
  await serve({
    receiver: { signing: unhex(raw.receiver.signing), box: unhex(raw.receiver.box) },
    sender: { ...raw.sender, signingPublicKey: new Uint8Array(Buffer.from(raw.sender.signingPublicKey, 'hex')), boxPublicKey: new Uint8Array(Buffer.from(raw.sender.boxPublicKey, 'hex')) },
  });
} else {
  await main();
}
