// The floor under Ferry's throughput on this machine: the leanest Node relay
// that can carry a `btrfs send` stream from one process to another over TCP on
// 127.0.0.1, with and without AES-256-GCM. No HTTP, no signing, no stream
// classes, no trail: a raw socket, one cipher call per 256 KiB chunk (the frame
// of proto/frame.ts without its header: length, ciphertext, tag), and the
// child processes' pipes read and written directly.
//
// bench/run.ts runs it beside the raw pipe and Ferry, so the report can say how
// much of the gap to the raw pipe is Ferry's and how much is the price of
// moving the bytes through two Node processes and node:crypto at all.
//
// Two roles, each its own process (as Ferry's sender and receiver are), forked
// by run.ts with the daemons' node flags:
//   floor.ts receive DIR MODE  listens on 127.0.0.1, posts { port }, runs
//                              `btrfs receive -e -C DIR` for one connection,
//                              then posts { cpu } and exits;
//   floor.ts send SNAP PORT MODE  on a 'go' message, runs `btrfs send SNAP`
//                              into the socket, posts { cpu } and exits.
// MODE is `aes` or `plain`. Any failure exits non-zero with the reason on stderr.

import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { chunkNonce, DEFAULT_CHUNK_SIZE as CHUNK, LENGTH_PREFIX as PREFIX, STREAM_CIPHER, TAG_LENGTH as TAG } from '../proto/frame.js';
import { tuneHeapForStreaming } from '../src/daemon/heap.js';

/** This process's CPU seconds (user + system), from /proc: what run.ts reports per GiB. */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function fail(message: string): never {
  console.error(`floor: ${message}`);
  process.exit(1);
}

function post(message: object): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

/** Resolves when `child` exited 0; exits the process otherwise, with what it said on stderr. */
function exited(child: ChildProcess, what: string): Promise<void> {
  const said: Buffer[] = [];
  child.stderr?.on('data', (b: Buffer) => said.push(b));
  return new Promise((resolve) => {
    child.once('error', (err) => fail(`${what}: ${err.message}`));
    child.once('close', (code) => (code === 0 ? resolve() : fail(`${what} exited ${code}: ${Buffer.concat(said).toString('utf8').trim()}`)));
  });
}

async function receive(dir: string, aes: boolean, key: Buffer): Promise<void> {
  const server = net.createServer({ noDelay: true });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const socket = await new Promise<net.Socket>((resolve) => {
    server.once('connection', resolve);
    void post({ port: (server.address() as net.AddressInfo).port });
  });
  server.close();
  const before = cpuSeconds();
  const child = spawn('btrfs', ['receive', '-e', '-C', '--', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
  const done = exited(child, 'btrfs receive');
  const stdin = child.stdin;
  const out = (data: Buffer): void => {
    if (!stdin.write(data)) {
      socket.pause();
      stdin.once('drain', () => socket.resume());
    }
  };
  // Gathers each sealed chunk (length prefix, then ciphertext and tag) and opens it.
  const staging = Buffer.allocUnsafeSlow(CHUNK + TAG);
  const prefix = Buffer.alloc(PREFIX);
  let prefixFill = 0;
  let want = -1;
  let fill = 0;
  let index = 0;
  let finished = false;
  const open = (sealed: Buffer): void => {
    const text = sealed.subarray(0, sealed.length - TAG);
    const tag = sealed.subarray(sealed.length - TAG);
    // As Ferry's opener: a full chunk is tried as non-final first, a short one is final.
    for (const final of text.length === CHUNK ? [false, true] : [true]) {
      const decipher = createDecipheriv(STREAM_CIPHER, key, chunkNonce(index, final));
      decipher.setAuthTag(tag);
      const plain = decipher.update(text);
      try {
        decipher.final();
      } catch {
        continue;
      }
      index++;
      finished = final;
      if (plain.length > 0) out(plain);
      return;
    }
    fail(`chunk ${index} failed authentication`);
  };
  socket.on('data', (data: Buffer) => {
    if (!aes) return out(data);
    let at = 0;
    while (at < data.length) {
      if (finished) fail('bytes after the final chunk');
      if (want < 0) {
        const n = Math.min(PREFIX - prefixFill, data.length - at);
        data.copy(prefix, prefixFill, at, at + n);
        prefixFill += n;
        at += n;
        if (prefixFill < PREFIX) break;
        want = prefix.readUInt32BE(0);
        if (want < TAG || want > CHUNK + TAG) fail(`bad chunk length ${want}`);
        prefixFill = 0;
        fill = 0;
      }
      const n = Math.min(want - fill, data.length - at);
      if (fill === 0 && n === want) open(data.subarray(at, at + n));
      else {
        data.copy(staging, fill, at, at + n);
        fill += n;
        if (fill === want) open(staging.subarray(0, want));
      }
      at += n;
      if (fill === want || n === want) want = -1;
    }
  });
  socket.once('error', (err) => fail(`socket: ${err.message}`));
  await new Promise((resolve) => socket.once('end', resolve));
  if (aes && !finished) fail('the stream ended without a final chunk');
  stdin.end();
  await done;
  await post({ cpu: cpuSeconds() - before });
  socket.end();
}

async function send(snapshot: string, port: number, aes: boolean, key: Buffer): Promise<void> {
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    void post({ ready: true });
  });
  const before = cpuSeconds();
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.once('error', (err) => fail(`socket: ${err.message}`));
  const child = spawn('btrfs', ['send', '-q', '--', snapshot], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = exited(child, 'btrfs send');
  const stdout = child.stdout;
  const write = (...parts: Buffer[]): void => {
    socket.cork();
    let ok = true;
    for (const part of parts) ok = socket.write(part);
    socket.uncork();
    if (!ok) {
      stdout.pause();
      socket.once('drain', () => stdout.resume());
    }
  };
  // A full chunk waits for the next byte (or the end) to know its final flag, as in Ferry's sealer.
  const staging = Buffer.allocUnsafeSlow(CHUNK);
  let fill = 0;
  let index = 0;
  const seal = (final: boolean): void => {
    const cipher = createCipheriv(STREAM_CIPHER, key, chunkNonce(index++, final));
    const prefix = Buffer.allocUnsafe(PREFIX);
    prefix.writeUInt32BE(fill + TAG, 0);
    const sealed = cipher.update(staging.subarray(0, fill));
    cipher.final();
    write(prefix, sealed, cipher.getAuthTag());
    fill = 0;
  };
  stdout.on('data', (data: Buffer) => {
    if (!aes) return write(data);
    let at = 0;
    while (at < data.length) {
      if (fill === CHUNK) seal(false);
      const n = Math.min(CHUNK - fill, data.length - at);
      data.copy(staging, fill, at, at + n);
      fill += n;
      at += n;
    }
  });
  await new Promise((resolve) => stdout.once('end', resolve));
  await done;
  if (aes) seal(true);
  socket.end();
  await new Promise((resolve) => socket.once('close', resolve));
  await post({ cpu: cpuSeconds() - before });
}

const [role, a, b, c] = process.argv.slice(2);
if (!process.send) fail('run by bench/run.ts (needs an IPC channel)');
tuneHeapForStreaming();
// Both ends derive nothing: the key is not the point here, the cipher's cost is.
const key = Buffer.from(process.env.FERRY_FLOOR_KEY ?? randomBytes(32).toString('hex'), 'hex');
if (role === 'receive' && a && b) await receive(a, b === 'aes', key);
else if (role === 'send' && a && b && c) await send(a, Number(b), c === 'aes', key);
else fail('usage: floor.ts receive DIR aes|plain | send SNAPSHOT PORT aes|plain');
process.exit(0);
