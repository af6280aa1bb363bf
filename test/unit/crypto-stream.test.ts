import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/domain/errors.js';
import { createOpener, createSealer, DEFAULT_CHUNK_SIZE, TAG_LENGTH, type StreamOptions } from '../../src/crypto/stream.js';
import { encodeStreamHeader } from '../../proto/frame.js';

const key = new Uint8Array(randomBytes(32));
const otherKey = new Uint8Array(randomBytes(32));

function headerFor(chunkSize: number, transferId = 'transfer-0001'): Uint8Array {
  return encodeStreamHeader({ chunkSize, salt: randomBytes(16), ephemeralPublicKey: randomBytes(32), transferId });
}

/** Feeds `pieces` in order through the stages, collecting the output. */
async function run(stages: NodeJS.ReadWriteStream | NodeJS.ReadWriteStream[], pieces: Uint8Array[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline([
    Readable.from(pieces.map((p) => Buffer.from(p))),
    ...(Array.isArray(stages) ? stages : [stages]),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        cb();
      },
    }),
  ]);
  return Buffer.concat(out);
}

function seal(data: Uint8Array, opts: StreamOptions, k: Uint8Array = key): Promise<Buffer> {
  return run(createSealer(k, opts), [data]);
}

function open(sealed: Uint8Array, opts: StreamOptions, k: Uint8Array = key): Promise<Buffer> {
  return run(createOpener(k, opts), [sealed]);
}

/** Splits `data` at the given (sorted, clamped) cut points. */
function slices(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    if (p > at) out.push(data.subarray(at, p));
    at = Math.max(at, p);
  }
  if (at < data.length) out.push(data.subarray(at));
  return out;
}

async function openError(sealed: Uint8Array, opts: StreamOptions, k: Uint8Array = key): Promise<FerryError> {
  try {
    await open(sealed, opts, k);
  } catch (err) {
    if (err instanceof FerryError) return err;
    throw err;
  }
  throw new Error('the tampered stream opened');
}

describe('round trips', () => {
  const chunkSize = 1024;
  const header = headerFor(chunkSize);
  it.each([0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3 * chunkSize, 3 * chunkSize + 7])('%i bytes', async (size) => {
    const data = randomBytes(size);
    const sealed = await seal(data, { header, chunkSize });
    const chunks = size === 0 ? 1 : Math.ceil(size / chunkSize);
    expect(sealed.length).toBe(header.length + size + chunks * (4 + TAG_LENGTH));
    expect(sealed.subarray(0, header.length)).toEqual(Buffer.from(header));
    expect(await open(sealed, { header, chunkSize })).toEqual(data);
  });

  it('an empty payload is exactly one final, empty chunk', async () => {
    const sealed = await seal(new Uint8Array(0), { header, chunkSize });
    expect(sealed.length).toBe(header.length + 4 + TAG_LENGTH);
    expect(sealed.readUInt32BE(header.length)).toBe(TAG_LENGTH);
    expect((await open(sealed, { header, chunkSize })).length).toBe(0);
  });

  it('10 MB of random data at the default chunk size', async () => {
    const h = headerFor(DEFAULT_CHUNK_SIZE);
    const data = randomBytes(10_000_000);
    const sealer = createSealer(key, { header: h });
    const opener = createOpener(key, { header: h });
    const out = await run([sealer, opener], slices(data, Array.from({ length: 200 }, () => Math.floor(Math.random() * 1e7))));
    expect(out.equals(data)).toBe(true);
    expect(sealer.bytesIn).toBe(data.length);
    expect(opener.bytesOut).toBe(data.length);
    expect(opener.bytesIn).toBe(sealer.bytesOut);
  });

  it('a receiver that parsed the header itself opens the rest', async () => {
    const data = randomBytes(5000);
    const sealed = await seal(data, { header, chunkSize });
    expect(await open(sealed.subarray(header.length), { header, chunkSize, headerIncluded: false })).toEqual(data);
    const bare = await seal(data, { header, chunkSize, headerIncluded: false });
    expect(bare).toEqual(sealed.subarray(header.length));
  });

  it('any slicing of the input and of the sealed stream round-trips, and sealing is slicing-independent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 16, max: 600 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        async (data, size, sealCuts, openCuts) => {
          const h = headerFor(size);
          const whole = await seal(data, { header: h, chunkSize: size });
          const sealed = await run(createSealer(key, { header: h, chunkSize: size }), slices(data, sealCuts));
          expect(sealed).toEqual(whole);
          const opened = await run(createOpener(key, { header: h, chunkSize: size }), slices(sealed, openCuts));
          expect(opened).toEqual(Buffer.from(data));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('tampering is detected', () => {
  const chunkSize = 64;
  const header = headerFor(chunkSize);
  const opts = { header, chunkSize };
  const data = randomBytes(4 * chunkSize + 44); // chunks of 64, 64, 64, 64, 44 bytes
  const chunkAt = (i: number) => header.length + i * (4 + chunkSize + TAG_LENGTH);

  async function sealed(): Promise<Buffer> {
    return seal(data, opts);
  }
  function chunk(s: Buffer, i: number): Buffer {
    const at = chunkAt(i);
    return s.subarray(at, at + 4 + s.readUInt32BE(at));
  }
  function flip(s: Buffer, at: number): Buffer {
    const copy = Buffer.from(s);
    copy[at]! ^= 0x01;
    return copy;
  }

  const cases: [string, () => Promise<{ stream: Uint8Array; opts?: StreamOptions; key?: Uint8Array }>, RegExp][] = [
    ['an empty stream', () => Promise.resolve({ stream: new Uint8Array(0) }), /empty/],
    ['only the header', async () => ({ stream: (await sealed()).subarray(0, header.length) }), /before any chunk/],
    ['cut inside the header', async () => ({ stream: (await sealed()).subarray(0, 10) }), /inside its header/],
    ['a bit flipped in the header', async () => ({ stream: flip(await sealed(), 20) }), /header differs/],
    [
      'a header field changed, as a receiver parsed it',
      async () => {
        const s = await sealed();
        const forged = Buffer.from(header);
        forged[15]! ^= 0x80; // a salt byte
        return { stream: s.subarray(header.length), opts: { header: forged, chunkSize, headerIncluded: false } };
      },
      /chunk 0 failed authentication/,
    ],
    ['a bit flipped in a length prefix', async () => ({ stream: flip(await sealed(), chunkAt(1) + 3) }), /chunk 1/],
    ['a bit flipped in ciphertext', async () => ({ stream: flip(await sealed(), chunkAt(2) + 10) }), /chunk 2 failed authentication/],
    ['a bit flipped in a tag', async () => ({ stream: flip(await sealed(), (await sealed()).length - 1) }), /chunk 4 failed authentication/],
    ['truncated at a chunk boundary', async () => ({ stream: (await sealed()).subarray(0, chunkAt(4)) }), /without a final chunk/],
    ['truncated inside a chunk', async () => ({ stream: (await sealed()).subarray(0, chunkAt(2) + 30) }), /truncated inside chunk 2/],
    ['truncated inside a length prefix', async () => ({ stream: (await sealed()).subarray(0, chunkAt(3) + 2) }), /truncated inside chunk 3/],
    [
      'a chunk dropped',
      async () => {
        const s = await sealed();
        return { stream: Buffer.concat([s.subarray(0, chunkAt(1)), s.subarray(chunkAt(2))]) };
      },
      /chunk 1 failed authentication/,
    ],
    [
      'a chunk duplicated',
      async () => {
        const s = await sealed();
        return { stream: Buffer.concat([s.subarray(0, chunkAt(2)), chunk(s, 1), s.subarray(chunkAt(2))]) };
      },
      /chunk 2 failed authentication/,
    ],
    [
      'two chunks swapped',
      async () => {
        const s = await sealed();
        return { stream: Buffer.concat([s.subarray(0, chunkAt(1)), chunk(s, 2), chunk(s, 1), s.subarray(chunkAt(3))]) };
      },
      /chunk 1 failed authentication/,
    ],
    ['a byte after the final chunk', async () => ({ stream: Buffer.concat([await sealed(), Buffer.from([0])]) }), /follow the final chunk/],
    [
      'the final chunk repeated',
      async () => {
        const s = await sealed();
        return { stream: Buffer.concat([s, chunk(s, 4)]) };
      },
      /follow the final chunk/,
    ],
    [
      'a chunk spliced from another transfer',
      async () => {
        const s = await sealed();
        const other = await seal(data, opts, otherKey);
        return { stream: Buffer.concat([s.subarray(0, chunkAt(2)), chunk(other, 2), s.subarray(chunkAt(3))]) };
      },
      /chunk 2 failed authentication/,
    ],
    [
      'a whole stream of another transfer under the same header',
      async () => ({ stream: await seal(data, opts, otherKey) }),
      /chunk 0 failed authentication/,
    ],
    [
      'a non-final chunk presented as the last (full-size payload cut)',
      async () => {
        const full = randomBytes(2 * chunkSize);
        const s = await seal(full, opts);
        return { stream: s.subarray(0, chunkAt(1)) };
      },
      /without a final chunk/,
    ],
    [
      'a length beyond the chunk size',
      async () => {
        const s = Buffer.from(await sealed());
        s.writeUInt32BE(chunkSize + TAG_LENGTH + 1, chunkAt(0));
        return { stream: s };
      },
      /longer than the chunk size/,
    ],
    [
      'a length shorter than a tag',
      async () => {
        const s = Buffer.from(await sealed());
        s.writeUInt32BE(TAG_LENGTH - 1, chunkAt(1));
        return { stream: s };
      },
      /shorter than its tag/,
    ],
    [
      'an empty chunk after the first',
      async () => {
        const s = await sealed();
        const empty = await seal(new Uint8Array(0), opts);
        return { stream: Buffer.concat([s.subarray(0, chunkAt(1)), empty.subarray(header.length)]) };
      },
      /empty but not the first/,
    ],
    ['opened with a different chunk size', async () => ({ stream: await sealed(), opts: { header, chunkSize: 128 } }), /failed authentication/],
  ];

  it.each(cases)('%s', async (_name, make, message) => {
    const { stream, opts: o, key: k } = await make();
    const err = await openError(stream, o ?? opts, k ?? key);
    expect(err.code).toBe('BAD_STREAM');
    expect(err.message).toMatch(message);
  });

  it('a bit flipped at any position of the stream fails with BAD_STREAM', async () => {
    const s = await sealed();
    for (let at = 0; at < s.length; at++) {
      for (const bit of [0x01, 0x80]) {
        const copy = Buffer.from(s);
        copy[at]! ^= bit;
        const err = await openError(copy, opts);
        expect(err.code, `byte ${at}`).toBe('BAD_STREAM');
      }
    }
  });

  it('emits only verified plaintext: a prefix of the payload, whole chunks, before the error', async () => {
    const s = flip(await sealed(), chunkAt(3) + 20);
    const out: Buffer[] = [];
    const opener = createOpener(key, opts);
    opener.on('data', (c: Buffer) => out.push(c));
    await expect(pipeline(Readable.from([s]), opener)).rejects.toMatchObject({ code: 'BAD_STREAM' });
    expect(Buffer.concat(out)).toEqual(data.subarray(0, 3 * chunkSize));
  });
});

describe('backpressure', () => {
  it('holds a bounded amount when the consumer stalls, whatever the stream size', async () => {
    const chunkSize = 64 * 1024;
    const header = headerFor(chunkSize);
    let produced = 0;
    const source = new Readable({
      read() {
        produced += 16 * 1024;
        this.push(randomBytes(16 * 1024));
      },
    });
    const stalled = new Writable({ highWaterMark: 1, write: () => undefined }); // never calls back
    const done = pipeline(source, createSealer(key, { header, chunkSize }), createOpener(key, { header, chunkSize }), stalled).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    // Each stage may buffer about a chunk plus its high-water marks: a few chunks in all.
    expect(produced).toBeLessThan(8 * chunkSize);
    source.destroy();
    await done;
  });
});
