// Tampering on the wire and hostile names, against the real peer server on a
// real socket with the real Receiver on real loop pools. Complements
// refusals.test.ts: a signed request whose method or signed headers were changed
// after signing, or that lacks one of its headers; names from the network that
// must never become paths. The sealed-stream attacks are in tamper-stream.test.ts.
//
// Every case asserts the exact status and wire code, that the refusal was logged
// with its code, and that nothing was written: no trail entry, no subvolume at
// all on the receiving pool, nothing under <pool>/<peer>/, and (where the wire
// refuses) neither the Receiver nor btrfs was ever called.

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { routes, type OpenTransferRequest } from '../../proto/messages.js';
import { bodyDigest, HEADERS } from '../../proto/signing.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';
import { Btrfs } from '../../src/btrfs/index.js';
import { generateIdentity, type Identity } from '../../src/crypto/index.js';
import { isSnapshotName, snapshotName } from '../../src/domain/names.js';
import { idOf, newNonce } from '../../src/peer/index.js';
import { pairByInvite, rawRequest, signedHeaders, startAppliance, type RawResponse, type TestAppliance } from '../support/peer-appliance.js';
import { subvolumesOf, treeOf } from '../support/leftovers.js';
import { createPool, type Pool } from '../support/pools.js';

/** The sending share's identity, as the requests announce it. */
const SHARE_UUID = '5a4e0000-0000-4000-8000-000000000001';
let target: Pool | undefined;
let receiving: TestAppliance;
let sending: TestAppliance;
/** Paired with the receiver too: a sender id whose key the receiver knows, but that did not sign. */
let third: TestAppliance;
let stranger: Identity;
/** The receiving Receiver's btrfs: spied on to prove that refused names never reach it. */
const receiverBtrfs = new Btrfs();

/** A snapshot name and UUID the Receiver accepts; these requests are refused before any use of them. */
const SNAPSHOT = snapshotName(new Date(), []);
const SNAPSHOT_UUID = '6a1f7c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';

beforeAll(async () => {
  target = await createPool();
  receiving = await startAppliance({ name: 'receiving', pools: [{ name: 'backup', path: target.path }], btrfs: receiverBtrfs });
  sending = await startAppliance({ name: 'sending' });
  third = await startAppliance({ name: 'third' });
  stranger = generateIdentity();
  await pairByInvite(receiving, sending);
  await pairByInvite(receiving, third);
});

afterAll(async () => {
  // Every step runs even when another fails; the first failure is reported.
  const results = await Promise.allSettled([sending?.close(), third?.close(), receiving?.close()]);
  const pool = await Promise.allSettled([target?.destroy()]);
  const failed = [...results, ...pool].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
});

// ---- helpers ---------------------------------------------------------------------------

function openBody(over: Partial<OpenTransferRequest> = {}): OpenTransferRequest {
  return {
    attemptId: randomUUID(),
    task: 'nightly',
    share: 'share',
    shareUuid: SHARE_UUID,
    shareOrigin: null,
    pool: 'backup',
    snapshot: SNAPSHOT,
    snapshotUuid: SNAPSHOT_UUID,
    parent: null,
    sizeEstimate: null,
    ...over,
  };
}

/** Counts every call into the Receiver's open/holdings and into its btrfs, until `stop`. */
function watchReceiver(): { calls: () => { receiver: number; btrfs: string[] }; stop: () => void } {
  // Its methods: not the constructor, not the `changes` getter.
  const names = Object.getOwnPropertyNames(Btrfs.prototype).filter((n) => typeof Object.getOwnPropertyDescriptor(Btrfs.prototype, n)?.value === 'function' && n !== 'constructor') as Exclude<keyof Btrfs, 'changes'>[];
  const btrfs = names.map((name) => [name, vi.spyOn(receiverBtrfs, name)] as const);
  const receiver = [vi.spyOn(receiving.receiver, 'open'), vi.spyOn(receiving.receiver, 'holdings')];
  return {
    calls: () => ({
      receiver: receiver.reduce((n, spy) => n + spy.mock.calls.length, 0),
      btrfs: btrfs.flatMap(([name, spy]) => spy.mock.calls.map(() => name)),
    }),
    stop: () => {
      for (const [, spy] of btrfs) spy.mockRestore();
      for (const spy of receiver) spy.mockRestore();
    },
  };
}

/**
 * Runs `act`, then checks the answer (status and code), the log, and that nothing
 * was written: no trail entry, no subvolume, no file or directory on the pool.
 * btrfs must never have been called; with `reached: 'nothing'` (the default) the
 * Receiver neither, with `reached: 'receiver'` the Receiver's own checks refused.
 */
async function expectRefused(
  status: number,
  code: string,
  act: () => Promise<RawResponse>,
  options: { reached?: 'nothing' | 'receiver' } = {},
): Promise<RawResponse> {
  const before = {
    tree: await treeOf(target!.path),
    subvolumes: await subvolumesOf(target!.path),
    trail: receiving.store.receiveTrail.list({}).length,
    logged: receiving.refusals(code).length,
  };
  const watch = watchReceiver();
  let res: RawResponse;
  let seen: ReturnType<typeof watch.calls>;
  try {
    res = await act();
    seen = watch.calls();
  } finally {
    watch.stop();
  }
  expect([res.status, res.json?.code], res.text).toEqual([status, code]);
  expect(res.json?.message).toBeTypeOf('string');
  expect(receiving.refusals(code)).toHaveLength(before.logged + 1);
  // btrfs is never touched by a refused request, whichever layer refused it.
  expect(seen.btrfs).toEqual([]);
  if ((options.reached ?? 'nothing') === 'nothing') expect(seen.receiver).toBe(0);
  else expect(seen.receiver).toBe(1);
  expect(before.subvolumes).toEqual([]);
  expect(await subvolumesOf(target!.path)).toEqual([]);
  expect(await treeOf(target!.path)).toEqual(before.tree);
  expect(receiving.store.receiveTrail.list({})).toHaveLength(before.trail);
  expect(receiving.receiver.active).toEqual([]);
  return res;
}

/** Signed headers for a JSON request of `sending`, plus its content type. */
function jsonHeaders(method: string, target: string, body: string | undefined, sign: { audience?: string; version?: number } = {}): Record<string, string> {
  return {
    ...signedHeaders(sending.identity, receiving, { method, target, ...(body === undefined ? {} : { body }), ...sign }),
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  };
}

/**
 * One request with its target sent byte for byte (undici, like any WHATWG URL
 * user, would resolve `..` and `%2e%2e` before sending).
 */
function exactRequest(options: { method: string; path: string; headers: Record<string, string>; body?: Buffer }): Promise<RawResponse> {
  const url = new URL(receiving.address);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: options.method, path: options.path, headers: options.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: RawResponse['json'];
        try {
          json = JSON.parse(text) as RawResponse['json'];
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Table rows with their test name first, for `%s`: vitest would cut a long `$field` short. */
function named<T>(rows: readonly T[], name: (row: T) => string): [string, T][] {
  return rows.map((row) => [name(row), row]);
}

const without = (headers: Record<string, string>, name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name));

// ---- tampered method, tampered signed headers, missing headers ----------------------------------

describe('a signed request changed after signing', () => {
  const holdingsBody = JSON.stringify({ share: 'share', pool: 'backup', shareUuid: SHARE_UUID, shareOrigin: null });

  const methods = [
    { signed: 'POST', sent: 'PUT', withBody: true },
    { signed: 'POST', sent: 'PATCH', withBody: true },
    { signed: 'POST', sent: 'DELETE', withBody: true },
    { signed: 'POST', sent: 'GET', withBody: false },
  ];

  it.each(named(methods, (c) => `signed as ${c.signed}, sent as ${c.sent}`))('refuses a holdings request %s (BAD_SIGNATURE); the genuine one still passes', async (_name, { signed, sent, withBody }) => {
    const target = routes.holdings.path;
    const headers = jsonHeaders(signed, target, holdingsBody);
    await expectRefused(401, 'BAD_SIGNATURE', () =>
      rawRequest(receiving, { method: sent, path: target, headers: withBody ? headers : without(headers, 'content-type'), body: withBody ? holdingsBody : null }),
    );
    // The forgery did not use up the nonce: the request as signed is still accepted (once).
    const genuine = await rawRequest(receiving, { method: signed, path: target, headers, body: holdingsBody });
    expect(genuine.status, genuine.text).toBe(200);
    expect(genuine.json).toEqual({ share: 'share', pool: 'backup', replicas: [] });
  });

  it('refuses a stream upload signed as PUT but sent as POST, and an abort signed as DELETE sent as PUT (BAD_SIGNATURE)', async () => {
    const upload = routes.uploadStream.path('abcdefgh12');
    const header = Buffer.from('FERRYSTM');
    const headers = { ...signedHeaders(sending.identity, receiving, { method: 'PUT', target: upload, digest: bodyDigest(header) }), 'content-type': 'application/octet-stream' };
    await expectRefused(401, 'BAD_SIGNATURE', () => rawRequest(receiving, { method: 'POST', path: upload, headers, body: header }));
    const abort = routes.abortTransfer.path('abcdefgh12');
    const abortHeaders = signedHeaders(sending.identity, receiving, { method: 'DELETE', target: abort });
    await expectRefused(401, 'BAD_SIGNATURE', () => rawRequest(receiving, { method: 'PUT', path: abort, headers: abortHeaders }));
  });

  interface HeaderCase {
    readonly what: string;
    readonly status: number;
    readonly code: string;
    /** Signing fields that differ from the defaults. */
    readonly sign?: () => { audience?: string; version?: number };
    /** The header values sent instead of the signed ones. */
    readonly change: (signed: Record<string, string>) => Record<string, string>;
    /** A different body sent (with the header change), for the digest case. */
    readonly body?: (body: string) => string;
  }

  const headerCases: HeaderCase[] = [
    { what: 'ferry-time, one second later', status: 401, code: 'BAD_SIGNATURE', change: (h) => ({ [HEADERS.time]: String(Number(h[HEADERS.time]) + 1) }) },
    { what: 'ferry-time, one minute earlier', status: 401, code: 'BAD_SIGNATURE', change: (h) => ({ [HEADERS.time]: String(Number(h[HEADERS.time]) - 60) }) },
    { what: 'ferry-nonce, a fresh one', status: 401, code: 'BAD_SIGNATURE', change: () => ({ [HEADERS.nonce]: newNonce() }) },
    { what: 'ferry-sender, another paired peer', status: 401, code: 'BAD_SIGNATURE', change: () => ({ [HEADERS.sender]: third.id }) },
    { what: 'ferry-sender, an unpaired appliance', status: 403, code: 'NOT_PAIRED', change: () => ({ [HEADERS.sender]: idOf(stranger) }) },
    {
      what: 'ferry-audience, redirected from the appliance it was signed for',
      status: 401,
      code: 'BAD_SIGNATURE',
      sign: () => ({ audience: idOf(stranger) }),
      change: () => ({ [HEADERS.audience]: receiving.id }),
    },
    { what: 'ferry-version, signed as another and sent as ours', status: 401, code: 'BAD_SIGNATURE', sign: () => ({ version: PROTOCOL_VERSION + 1 }), change: () => ({ [HEADERS.version]: String(PROTOCOL_VERSION) }) },
    {
      what: 'ferry-digest, changed along with the body',
      status: 401,
      code: 'BAD_SIGNATURE',
      body: (body) => body.replace('"nightly"', '"daily"'),
      change: () => ({}),
    },
  ];

  it.each(named(headerCases, (c) => `${c.what} (${c.code})`))('refuses an open-transfer request whose %s', async (_name, { status, code, sign, change, body: changeBody }) => {
    const body = JSON.stringify(openBody());
    const signed = jsonHeaders('POST', routes.openTransfer.path, body, sign?.() ?? {});
    const sent = changeBody ? changeBody(body) : body;
    expect(sent === body).toBe(changeBody === undefined);
    const headers = { ...signed, ...change(signed), ...(changeBody ? { [HEADERS.digest]: bodyDigest(sent) } : {}) };
    expect(headers).not.toEqual(signed);
    await expectRefused(status, code, () => rawRequest(receiving, { method: 'POST', path: routes.openTransfer.path, headers, body: sent }));
  });

  const missing = [
    { header: HEADERS.signature, status: 400, code: 'INVALID_INPUT' },
    { header: HEADERS.digest, status: 400, code: 'INVALID_INPUT' },
    { header: HEADERS.nonce, status: 400, code: 'INVALID_INPUT' },
    { header: HEADERS.time, status: 400, code: 'INVALID_INPUT' },
    { header: HEADERS.sender, status: 400, code: 'INVALID_INPUT' },
    { header: HEADERS.audience, status: 400, code: 'INVALID_INPUT' },
    { header: HEADERS.version, status: 400, code: 'UNSUPPORTED_VERSION' },
  ];

  it.each(named(missing, (c) => `${c.header}, all other headers present (${c.code})`))('refuses an open-transfer request without %s', async (_name, { header, status, code }) => {
    const body = JSON.stringify(openBody());
    const headers = without(jsonHeaders('POST', routes.openTransfer.path, body), header);
    expect(Object.keys(headers)).toHaveLength(7); // six ferry-* headers and the content type
    const res = await expectRefused(status, code, () => rawRequest(receiving, { method: 'POST', path: routes.openTransfer.path, headers, body }));
    if (code === 'INVALID_INPUT') expect(res.json?.message).toContain(header);
  });
});

// ---- names from the network ------------------------------------------------------------------

describe('names from the network', () => {
  const long = 'x'.repeat(256);
  const hostileShares: [string, string][] = [
    ['..', '..'],
    ['.', '.'],
    ['a/b', 'a/b'],
    ['a NUL inside', 'a\u0000b'],
    ['a newline inside', 'a\nb'],
    ['.hidden', '.hidden'],
    ['a staging name', '.incoming-0123456789'],
    ['-flag', '-flag'],
    ['256 bytes', long],
    ['256 bytes in 128 characters', 'é'.repeat(128)],
  ];

  /** A signed JSON POST of `sending`, exactly as a well-behaved but hostile peer would send it. */
  const post = (target: string, body: unknown): Promise<RawResponse> => {
    const text = JSON.stringify(body);
    return rawRequest(receiving, { method: 'POST', path: target, headers: jsonHeaders('POST', target, text), body: text });
  };

  it.each(hostileShares)('refuses holdings of share %s (INVALID_INPUT) before the receiver', async (_what, share) => {
    const res = await expectRefused(400, 'INVALID_INPUT', () => post(routes.holdings.path, { share, pool: 'backup', shareUuid: SHARE_UUID, shareOrigin: null }));
    expect(res.json?.message).toMatch(/share/);
  });

  it.each(hostileShares)('refuses to open a transfer of share %s (INVALID_INPUT) before the receiver', async (_what, share) => {
    const res = await expectRefused(400, 'INVALID_INPUT', () => post(routes.openTransfer.path, openBody({ share })));
    expect(res.json?.message).toMatch(/share/);
  });

  it.each<[string, Partial<OpenTransferRequest>, string]>([
    ['snapshot ../../etc', { snapshot: '../../etc' }, 'snapshot'],
    ['snapshot ..', { snapshot: '..' }, 'snapshot'],
    ['parent ../../etc', { parent: { name: '../../etc', uuid: SNAPSHOT_UUID } }, 'parent'],
    ['pool ..', { pool: '..' }, 'pool'],
    ['pool ../../etc', { pool: '../../etc' }, 'pool'],
    ['task -flag', { task: '-flag' }, 'task'],
  ])('refuses to open a transfer with %s (INVALID_INPUT) before the receiver', async (_what, over, field) => {
    const res = await expectRefused(400, 'INVALID_INPUT', () => post(routes.openTransfer.path, openBody(over)));
    expect(res.json?.message).toContain(field);
  });

  it('refuses holdings of pool ..', async () => {
    await expectRefused(400, 'INVALID_INPUT', () => post(routes.holdings.path, { share: 'share', pool: '..' }));
  });

  // Acceptable on the wire, but not to the Receiver's own, stricter rules: refused there, still before btrfs.
  it.each<[string, Partial<OpenTransferRequest>, RegExp]>([
    ['a 201-byte share name', { share: 'x'.repeat(201) }, /share name .* over the limit of 200/],
    ['a snapshot name that is not a Ferry snapshot name', { snapshot: 'etc' }, /'etc' is not a snapshot name/],
    ['a parent name that is not a Ferry snapshot name', { parent: { name: 'etc', uuid: SNAPSHOT_UUID } }, /'etc' is not a snapshot name/],
  ])('refuses to open a transfer with %s (INVALID_INPUT) in the receiver, before btrfs', async (_what, over, message) => {
    expect(isSnapshotName(SNAPSHOT)).toBe(true);
    const res = await expectRefused(400, 'INVALID_INPUT', () => post(routes.openTransfer.path, openBody(over)), { reached: 'receiver' });
    expect(res.json?.message).toMatch(message);
  });

  it('refuses holdings of a 201-byte share name (INVALID_INPUT) in the receiver, before btrfs', async () => {
    const res = await expectRefused(400, 'INVALID_INPUT', () => post(routes.holdings.path, { share: 'x'.repeat(201), pool: 'backup', shareUuid: SHARE_UUID, shareOrigin: null }), { reached: 'receiver' });
    expect(res.json?.message).toMatch(/share name .* over the limit of 200/);
  });

  it.each([
    ['..', '..'],
    ['%2e%2e', '%2e%2e'],
    ['..%2F..%2Fetc', '..%2F..%2Fetc'],
    ['a staging name', '.incoming-abcdefgh12'],
    ['65 characters', 'a'.repeat(65)],
    ['7 characters', 'abcdefg'],
    ['an encoded NUL', 'abcdefgh%00'],
  ])('refuses a transfer id %s in the path of an upload and of an abort (INVALID_INPUT)', async (_what, id) => {
    const upload = routes.uploadStream.path(id);
    const header = Buffer.from('FERRYSTM');
    const headers = { ...signedHeaders(sending.identity, receiving, { method: 'PUT', target: upload, digest: bodyDigest(header) }), 'content-type': 'application/octet-stream' };
    await expectRefused(400, 'INVALID_INPUT', () => exactRequest({ method: 'PUT', path: upload, headers, body: header }));
    const abort = routes.abortTransfer.path(id);
    await expectRefused(400, 'INVALID_INPUT', () => exactRequest({ method: 'DELETE', path: abort, headers: signedHeaders(sending.identity, receiving, { method: 'DELETE', target: abort }) }));
  });
});
