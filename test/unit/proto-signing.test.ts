import { describe, expect, it } from 'vitest';
import {
  bodyDigest,
  checkRequestHeaders,
  EMPTY_BODY_DIGEST,
  HEADERS,
  MAX_CLOCK_SKEW_SECONDS,
  requestSigningString,
  responseSigningString,
  type RequestSigningInput,
} from '../../proto/signing.js';
import { ProtocolError } from '../../proto/errors.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';
import { generateIdentity, applianceId } from '../../src/crypto/identity.js';
import { sign, verify } from '../../src/crypto/sign.js';
import { errorOf } from '../support/errors.js';

const alice = 'faaaaaaaaaaaaaaaaaaaa';
const bob = 'fbbbbbbbbbbbbbbbbbbbb';
const nonce = 'AAAAAAAAAAAAAAAAAAAAAA';

const request: RequestSigningInput = {
  method: 'POST',
  target: '/ferry/v1/holdings?x=1',
  audience: bob,
  sender: alice,
  time: 1_700_000_000,
  nonce,
  digest: bodyDigest('{"share":"data","pool":"tank"}'),
};

describe('body digests', () => {
  it('are sha256 in unpadded base64url', () => {
    expect(EMPTY_BODY_DIGEST).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
    expect(bodyDigest('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    expect(bodyDigest(new TextEncoder().encode('abc'))).toBe(bodyDigest('abc'));
  });
});

describe('the request signing string', () => {
  it('is the fixed prefix and the fields, one per line, no trailing newline', () => {
    expect(requestSigningString(request)).toBe(
      [
        'ferry-request-v1',
        String(PROTOCOL_VERSION),
        'POST',
        '/ferry/v1/holdings?x=1',
        bob,
        alice,
        '1700000000',
        nonce,
        request.digest,
      ].join('\n'),
    );
  });

  it('changes with every field', () => {
    const base = requestSigningString(request);
    const changes: Partial<RequestSigningInput>[] = [
      { version: PROTOCOL_VERSION + 1 },
      { method: 'PUT' },
      { target: '/ferry/v1/holdings?x=2' },
      { audience: 'fcccccccccccccccccccc' },
      { sender: 'fcccccccccccccccccccc' },
      { time: request.time + 1 },
      { nonce: 'BAAAAAAAAAAAAAAAAAAAAA' },
      { digest: EMPTY_BODY_DIGEST },
    ];
    for (const change of changes) expect(requestSigningString({ ...request, ...change })).not.toBe(base);
  });

  it.each<[string, Partial<RequestSigningInput>]>([
    ['a newline in the target', { target: '/a\nb' }],
    ['a space in the target', { target: '/a b' }],
    ['a relative target', { target: 'ferry/v1' }],
    ['a lowercase method', { method: 'post' }],
    ['a method with a newline', { method: 'POST\nX' }],
    ['an id starting with a digit', { sender: '1aaaaaaaaaaaaaaaaaaaa' }],
    ['a fractional time', { time: 1.5 }],
    ['a short nonce', { nonce: 'AAAA' }],
    ['a hex digest', { digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }],
  ])('refuses %s', (_name, change) => {
    expect(errorOf(() => requestSigningString({ ...request, ...change }), ProtocolError).code).toBe('INVALID_INPUT');
  });

  it('signs and verifies with appliance keys', () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const input = { ...request, sender: applianceId(a.signing.publicKey), audience: applianceId(b.signing.publicKey) };
    const signature = sign(requestSigningString(input), a.signing.secretKey);
    expect(verify(requestSigningString(input), signature, a.signing.publicKey)).toBe(true);
    // A request re-aimed at another appliance no longer verifies.
    expect(verify(requestSigningString({ ...input, audience: alice }), signature, a.signing.publicKey)).toBe(false);
  });
});

describe('the response signing string', () => {
  it('binds responder, requester, the request nonce, status and digest', () => {
    const input = { responder: bob, audience: alice, requestNonce: nonce, status: 200, digest: EMPTY_BODY_DIGEST };
    expect(responseSigningString(input)).toBe(['ferry-response-v1', String(PROTOCOL_VERSION), bob, alice, nonce, '200', EMPTY_BODY_DIGEST].join('\n'));
    expect(responseSigningString({ ...input, status: 409 })).not.toBe(responseSigningString(input));
    expect(responseSigningString({ ...input, requestNonce: 'BAAAAAAAAAAAAAAAAAAAAA' })).not.toBe(responseSigningString(input));
    expect(errorOf(() => responseSigningString({ ...input, status: 99 }), ProtocolError).code).toBe('INVALID_INPUT');
  });
});

describe('request header checks', () => {
  const now = 1_700_000_000;
  const headers = {
    [HEADERS.version]: String(PROTOCOL_VERSION),
    [HEADERS.sender]: alice,
    [HEADERS.audience]: bob,
    [HEADERS.time]: String(now),
    [HEADERS.nonce]: nonce,
    [HEADERS.digest]: EMPTY_BODY_DIGEST,
    [HEADERS.signature]: 'A'.repeat(86),
  };

  it('pass and parse good headers', () => {
    expect(checkRequestHeaders(headers, { self: bob, now })).toMatchObject({ sender: alice, audience: bob, time: now, nonce });
    expect(checkRequestHeaders({ ...headers, [HEADERS.time]: String(now - MAX_CLOCK_SKEW_SECONDS) }, { self: bob, now }).time).toBe(
      now - MAX_CLOCK_SKEW_SECONDS,
    );
  });

  it.each<[string, Record<string, string | string[] | undefined>, string]>([
    ['another version', { [HEADERS.version]: String(PROTOCOL_VERSION + 1) }, 'UNSUPPORTED_VERSION'],
    ['no version', { [HEADERS.version]: undefined }, 'UNSUPPORTED_VERSION'],
    ['a malformed sender', { [HEADERS.sender]: 'alice' }, 'INVALID_INPUT'],
    ['a repeated header', { [HEADERS.nonce]: [nonce, nonce] }, 'INVALID_INPUT'],
    ['a time with a sign', { [HEADERS.time]: '+1700000000' }, 'INVALID_INPUT'],
    ['a missing signature', { [HEADERS.signature]: undefined }, 'INVALID_INPUT'],
    ['another audience', { [HEADERS.audience]: alice }, 'WRONG_AUDIENCE'],
    ['a time too old', { [HEADERS.time]: String(now - MAX_CLOCK_SKEW_SECONDS - 1) }, 'STALE_TIME'],
    ['a time too far ahead', { [HEADERS.time]: String(now + MAX_CLOCK_SKEW_SECONDS + 1) }, 'STALE_TIME'],
    // The version is checked before anything else, the audience before the time.
    ['another version and a bad audience', { [HEADERS.version]: '0', [HEADERS.audience]: alice }, 'UNSUPPORTED_VERSION'],
    ['a bad audience and a stale time', { [HEADERS.audience]: alice, [HEADERS.time]: '5' }, 'WRONG_AUDIENCE'],
  ])('refuse %s', (_name, change, code) => {
    expect(errorOf(() => checkRequestHeaders({ ...headers, ...change }, { self: bob, now }), ProtocolError).code).toBe(code);
  });
});
