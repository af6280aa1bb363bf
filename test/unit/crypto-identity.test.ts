import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  applianceId,
  fingerprint,
  generateIdentity,
  parseIdentity,
  publicIdentity,
  serializeIdentity,
} from '../../src/crypto/identity.js';
import { sign, verify } from '../../src/crypto/sign.js';
import { receiverStreamKey, senderStreamKey, senderStreamKeyWith } from '../../src/crypto/agree.js';
import { APPLIANCE_ID_PATTERN, applianceIdOf } from '../../proto/ids.js';
import { errorOf } from '../support/errors.js';

describe('appliance ids', () => {
  it('start with a letter, fit the wire pattern, and match the reference derivation in proto', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        const id = applianceId(key);
        expect(id).toMatch(/^[a-z]/);
        expect(id).toMatch(APPLIANCE_ID_PATTERN);
        expect(id).toHaveLength(21);
        expect(id).toBe(applianceIdOf(key));
      }),
      { numRuns: 300 },
    );
  });

  it('are stable for a key and differ between keys', () => {
    const a = generateIdentity();
    const b = generateIdentity();
    expect(applianceId(a.signing.publicKey)).toBe(applianceId(new Uint8Array(a.signing.publicKey)));
    expect(applianceId(a.signing.publicKey)).not.toBe(applianceId(b.signing.publicKey));
  });

  it('refuse a key of the wrong length', () => {
    expect(errorOf(() => applianceId(new Uint8Array(31))).code).toBe('BAD_KEY');
  });
});

describe('fingerprints', () => {
  it('are 8 groups of 4 hex digits, stable, and cover both keys', () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const fp = fingerprint(publicIdentity(a));
    expect(fp).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){7}$/);
    expect(fingerprint(publicIdentity(a))).toBe(fp);
    expect(fingerprint({ signingPublicKey: a.signing.publicKey, boxPublicKey: b.box.publicKey })).not.toBe(fp);
    expect(fingerprint({ signingPublicKey: b.signing.publicKey, boxPublicKey: a.box.publicKey })).not.toBe(fp);
  });

  it('are fixed for fixed keys', () => {
    const keys = { signingPublicKey: new Uint8Array(32).fill(1), boxPublicKey: new Uint8Array(32).fill(2) };
    expect(fingerprint(keys)).toBe(fingerprint({ ...keys }));
    expect(applianceId(keys.signingPublicKey)).toBe(applianceIdOf(keys.signingPublicKey));
  });
});

describe('identity files', () => {
  it('round-trip', () => {
    const id = generateIdentity();
    const back = parseIdentity(serializeIdentity(id));
    expect(back.signing.publicKey).toEqual(id.signing.publicKey);
    expect(back.signing.secretKey).toEqual(id.signing.secretKey);
    expect(back.box.publicKey).toEqual(id.box.publicKey);
    expect(back.box.secretKey).toEqual(id.box.secretKey);
  });

  it('carry the appliance id for the admin to read', () => {
    const id = generateIdentity();
    expect(JSON.parse(serializeIdentity(id))).toMatchObject({ format: 'ferry-identity', version: 1, applianceId: applianceId(id.signing.publicKey) });
  });

  const tampered: [string, (file: Record<string, unknown>) => unknown][] = [
    ['a different signing public key', (f) => ({ ...f, signingPublicKey: Buffer.alloc(32, 7).toString('base64url') })],
    ['a different box public key', (f) => ({ ...f, boxPublicKey: Buffer.alloc(32, 7).toString('base64url') })],
    ['a different appliance id', (f) => ({ ...f, applianceId: 'faaaaaaaaaaaaaaaaaaaa' })],
    ['a short seed', (f) => ({ ...f, signingSeed: Buffer.alloc(31).toString('base64url') })],
    ['junk in a key', (f) => ({ ...f, boxSecretKey: `${String(f.boxSecretKey)}!` })],
    ['an unknown field', (f) => ({ ...f, extra: 1 })],
    ['a missing field', ({ boxSecretKey: _, ...rest }) => rest],
    ['another format', (f) => ({ ...f, format: 'ssh' })],
  ];
  it.each(tampered)('refuse %s', (_name, change) => {
    const file = JSON.parse(serializeIdentity(generateIdentity())) as Record<string, unknown>;
    expect(errorOf(() => parseIdentity(JSON.stringify(change(file)))).code).toBe('BAD_KEY');
  });

  it('refuse text that is not JSON', () => {
    expect(errorOf(() => parseIdentity('not json')).code).toBe('BAD_KEY');
  });
});

describe('signatures', () => {
  const id = generateIdentity();
  const other = generateIdentity();
  const message = 'ferry-request-v1\n1\nPOST\n/ferry/v1/holdings';

  it('verify with the signer key only', () => {
    const sig = sign(message, id.signing.secretKey);
    expect(sig).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(verify(message, sig, id.signing.publicKey)).toBe(true);
    expect(verify(message, sig, other.signing.publicKey)).toBe(false);
  });

  it('fail on any change to the message or signature, malformed ones included', () => {
    const sig = sign(message, id.signing.secretKey);
    expect(verify(message + ' ', sig, id.signing.publicKey)).toBe(false);
    expect(verify(message.replace('POST', 'GET'), sig, id.signing.publicKey)).toBe(false);
    const bytes = Buffer.from(sig, 'base64url');
    bytes[10]! ^= 1;
    expect(verify(message, bytes.toString('base64url'), id.signing.publicKey)).toBe(false);
    expect(verify(message, '', id.signing.publicKey)).toBe(false);
    expect(verify(message, sig.slice(0, 85), id.signing.publicKey)).toBe(false);
    expect(verify(message, `${sig.slice(0, 85)}!`, id.signing.publicKey)).toBe(false);
    expect(verify(message, sig, new Uint8Array(31))).toBe(false);
  });

  it('cover the UTF-8 of the string', () => {
    const text = 'share Фото ✓';
    expect(verify(text, sign(text, id.signing.secretKey), id.signing.publicKey)).toBe(true);
  });

  it('are the bytes tweetnacl makes, and tweetnacl\'s verify here and ours there: peers on either side agree', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string({ maxLength: 300 }), (seed, text) => {
        const keys = nacl.sign.keyPair.fromSeed(seed);
        const bytes = new TextEncoder().encode(text);
        const theirs = Buffer.from(nacl.sign.detached(bytes, keys.secretKey)).toString('base64url');
        const ours = sign(text, keys.secretKey);
        expect(ours).toBe(theirs);
        expect(verify(text, theirs, keys.publicKey)).toBe(true);
        expect(nacl.sign.detached.verify(bytes, Buffer.from(ours, 'base64url'), keys.publicKey)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('refuse, without throwing, a public key that is no point on the curve', () => {
    const sig = sign(message, id.signing.secretKey);
    expect(verify(message, sig, new Uint8Array(32).fill(0xff))).toBe(false);
    expect(verify(message, sig, new Uint8Array(32))).toBe(false);
  });
});

describe('stream key agreement', () => {
  const sender = generateIdentity();
  const receiver = generateIdentity();
  const salt = new Uint8Array(randomBytes(16));
  const transferId = 'transfer-0001';

  function both(s = salt, t = transferId) {
    const { key, ephemeralPublicKey } = senderStreamKey({ senderBox: sender.box, receiverBoxPublicKey: receiver.box.publicKey, salt: s, transferId: t });
    const theirs = receiverStreamKey({ receiverBox: receiver.box, senderBoxPublicKey: sender.box.publicKey, ephemeralPublicKey, salt: s, transferId: t });
    return { key, theirs, ephemeralPublicKey };
  }

  it('gives both sides the same 32-byte key', () => {
    const { key, theirs } = both();
    expect(key).toHaveLength(32);
    expect(theirs).toEqual(key);
  });

  it('gives a fresh key per transfer, salt and ephemeral key', () => {
    const a = both();
    const b = both();
    expect(b.ephemeralPublicKey).not.toEqual(a.ephemeralPublicKey);
    expect(b.key).not.toEqual(a.key);
    const eph = nacl.box.keyPair();
    const base = { senderBox: sender.box, receiverBoxPublicKey: receiver.box.publicKey, salt, transferId };
    const k = senderStreamKeyWith(eph, base);
    expect(senderStreamKeyWith(eph, base)).toEqual(k);
    expect(senderStreamKeyWith(eph, { ...base, salt: new Uint8Array(randomBytes(16)) })).not.toEqual(k);
    expect(senderStreamKeyWith(eph, { ...base, transferId: 'transfer-0002' })).not.toEqual(k);
  });

  it('does not match when the receiver assumes another sender (static-static part)', () => {
    const { key, ephemeralPublicKey } = both();
    const impostor = generateIdentity();
    const theirs = receiverStreamKey({ receiverBox: receiver.box, senderBoxPublicKey: impostor.box.publicKey, ephemeralPublicKey, salt, transferId });
    expect(theirs).not.toEqual(key);
  });

  it('refuses a low-order public key, salts of the wrong size, and malformed transfer ids', () => {
    const zero = new Uint8Array(32);
    expect(errorOf(() => senderStreamKey({ senderBox: sender.box, receiverBoxPublicKey: zero, salt, transferId })).code).toBe('BAD_KEY');
    expect(
      errorOf(() => receiverStreamKey({ receiverBox: receiver.box, senderBoxPublicKey: sender.box.publicKey, ephemeralPublicKey: zero, salt, transferId })).code,
    ).toBe('BAD_KEY');
    expect(errorOf(() => both(new Uint8Array(15))).code).toBe('BAD_KEY');
    expect(errorOf(() => both(salt, 'bad id with spaces')).code).toBe('INVALID_INPUT');
  });
});
