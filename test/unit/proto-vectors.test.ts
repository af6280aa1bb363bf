// Recomputes every output in proto/vectors/ from its inputs, twice where it can:
// once with Ferry's code (src/crypto + proto/) and once with independent code
// written from proto/frame.ts and proto/signing.ts on node:crypto alone, so the
// vectors pin the documented format and not just whatever Ferry happens to do.

import { createCipheriv, createHash, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { applianceId, fingerprint } from '../../src/crypto/identity.js';
import { sign, verify } from '../../src/crypto/sign.js';
import { receiverStreamKey, senderStreamKeyWith, streamKeyInfo } from '../../src/crypto/agree.js';
import * as stream from '../../src/crypto/stream.js';
import * as frame from '../../proto/frame.js';
import { applianceIdOf, toBase32 } from '../../proto/ids.js';
import { bodyDigest, requestSigningString, responseSigningString } from '../../proto/signing.js';
import { decodeInvite, encodeInvite, type Invite, pairingProof, pairingProofString } from '../../proto/messages.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';

const dir = join(import.meta.dirname, '../../proto/vectors');
const load = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const unhex = (h: string): Buffer => Buffer.from(h, 'hex');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface IdentityCase {
  name: string;
  signingSeed: string;
  boxSecretKey: string;
  signingPublicKey: string;
  boxPublicKey: string;
  applianceId: string;
  fingerprint: string;
}
const identities = load('identity.json') as { protocol: number; cases: IdentityCase[] };
const byName = (name: string): IdentityCase => identities.cases.find((c) => c.name === name)!;

/** X25519 with node:crypto (OpenSSL), independent of tweetnacl: raw keys wrapped in fixed DER prefixes. */
function x25519(secretHex: string, publicHex: string): Buffer {
  const privateKey = createPrivateKey({ key: Buffer.concat([unhex('302e020100300506032b656e04220420'), unhex(secretHex)]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey({ key: Buffer.concat([unhex('302a300506032b656e032100'), unhex(publicHex)]), format: 'der', type: 'spki' });
  return diffieHellman({ privateKey, publicKey });
}

describe('vectors: all of them', () => {
  it('are for this protocol version', () => {
    for (const f of ['identity.json', 'signing.json', 'stream.json', 'pairing.json']) {
      expect((load(f) as { protocol: number }).protocol, f).toBe(PROTOCOL_VERSION);
    }
  });
});

describe('vectors: identity', () => {
  it.each(identities.cases)('$name', (c) => {
    const signing = nacl.sign.keyPair.fromSeed(unhex(c.signingSeed));
    const box = nacl.box.keyPair.fromSecretKey(unhex(c.boxSecretKey));
    expect(hex(signing.publicKey)).toBe(c.signingPublicKey);
    expect(hex(box.publicKey)).toBe(c.boxPublicKey);
    expect(applianceId(signing.publicKey)).toBe(c.applianceId);
    expect(applianceIdOf(signing.publicKey)).toBe(c.applianceId);
    // Independently: "f" + base32(sha256(label || 0 || key)[0..12]).
    const digest = createHash('sha256').update('ferry-appliance-id-v1\0').update(signing.publicKey).digest();
    expect('f' + toBase32(digest.subarray(0, 12))).toBe(c.applianceId);
    expect(fingerprint({ signingPublicKey: signing.publicKey, boxPublicKey: box.publicKey })).toBe(c.fingerprint);
    const fp = createHash('sha256').update('ferry-fingerprint-v1\0').update(signing.publicKey).update(box.publicKey).digest();
    expect(c.fingerprint).toBe(fp.subarray(0, 16).toString('hex').match(/.{4}/g)!.join(' '));
  });
});

describe('vectors: signing', () => {
  interface Signed {
    input: Record<string, unknown> & { signer: string; body: string };
    digest: string;
    signingString: string;
    signature: string;
  }
  const v = load('signing.json') as { request: Signed; response: Signed };

  function checkSignature(s: Signed): void {
    const signer = byName(s.input.signer);
    const pair = nacl.sign.keyPair.fromSeed(unhex(signer.signingSeed));
    expect(sign(s.signingString, pair.secretKey)).toBe(s.signature); // Ed25519 is deterministic
    expect(verify(s.signingString, s.signature, pair.publicKey)).toBe(true);
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: unhex(signer.signingPublicKey).toString('base64url') }, format: 'jwk' });
    expect(nodeVerify(null, Buffer.from(s.signingString, 'utf8'), pub, Buffer.from(s.signature, 'base64url'))).toBe(true);
  }

  it('request', () => {
    const i = v.request.input as unknown as { method: string; target: string; audience: string; sender: string; time: number; nonce: string; body: string };
    expect(bodyDigest(i.body)).toBe(v.request.digest);
    expect(createHash('sha256').update(i.body).digest('base64url')).toBe(v.request.digest);
    expect(requestSigningString({ ...i, digest: v.request.digest })).toBe(v.request.signingString);
    expect(v.request.signingString).toBe(
      ['ferry-request-v1', String(PROTOCOL_VERSION), i.method, i.target, i.audience, i.sender, String(i.time), i.nonce, v.request.digest].join('\n'),
    );
    expect(i.sender).toBe(byName('alice').applianceId);
    checkSignature(v.request);
  });

  it('response', () => {
    const i = v.response.input as unknown as { responder: string; audience: string; requestNonce: string; status: number; body: string };
    expect(bodyDigest(i.body)).toBe(v.response.digest);
    expect(responseSigningString({ ...i, digest: v.response.digest })).toBe(v.response.signingString);
    expect(i.requestNonce).toBe((v.request.input as unknown as { nonce: string }).nonce);
    checkSignature(v.response);
  });
});

describe('vectors: sealed streams', () => {
  interface StreamCase {
    name: string;
    input: { sender: string; receiver: string; ephemeralSecretKey: string; salt: string; transferId: string; chunkSize: number; plaintext: string };
    ephemeralPublicKey: string;
    dhEphemeral: string;
    dhStatic: string;
    hkdfInfo: string;
    key: string;
    header: string;
    headerDigest: string;
    chunks: string[];
    sealed: string;
  }
  const v = load('stream.json') as { cases: StreamCase[] };

  /** The sealer, as a second implementation would write it from proto/frame.ts. */
  function referenceSeal(key: Buffer, header: Buffer, chunkSize: number, plaintext: Buffer): Buffer[] {
    const pieces: Buffer[] = [];
    for (let at = 0; at < plaintext.length; at += chunkSize) pieces.push(plaintext.subarray(at, at + chunkSize));
    if (pieces.length === 0) pieces.push(Buffer.alloc(0));
    return pieces.map((piece, i) => {
      const nonce = Buffer.alloc(12);
      nonce.writeUIntBE(i, 5, 6);
      nonce[11] = i === pieces.length - 1 ? 1 : 0;
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      if (i === 0) cipher.setAAD(header);
      const body = Buffer.concat([cipher.update(piece), cipher.final(), cipher.getAuthTag()]);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(body.length);
      return Buffer.concat([length, body]);
    });
  }

  async function through(t: NodeJS.ReadWriteStream, data: Buffer): Promise<Buffer> {
    const parts: Buffer[] = [];
    await pipeline(Readable.from([data]), t, new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
    return Buffer.concat(parts);
  }

  it.each(v.cases)('$name', async (c) => {
    const alice = byName(c.input.sender);
    const bob = byName(c.input.receiver);
    const ephemeral = nacl.box.keyPair.fromSecretKey(unhex(c.input.ephemeralSecretKey));
    expect(hex(ephemeral.publicKey)).toBe(c.ephemeralPublicKey);
    // Key agreement, independently with OpenSSL's X25519 and HKDF.
    expect(hex(x25519(c.input.ephemeralSecretKey, bob.boxPublicKey))).toBe(c.dhEphemeral);
    expect(hex(x25519(alice.boxSecretKey, bob.boxPublicKey))).toBe(c.dhStatic);
    expect(hex(x25519(bob.boxSecretKey, alice.boxPublicKey))).toBe(c.dhStatic);
    const info = frame.streamKeyInfo(c.input.transferId, ephemeral.publicKey, unhex(alice.boxPublicKey), unhex(bob.boxPublicKey));
    expect(hex(info)).toBe(c.hkdfInfo);
    expect(hex(streamKeyInfo(c.input.transferId, ephemeral.publicKey, unhex(alice.boxPublicKey), unhex(bob.boxPublicKey)))).toBe(c.hkdfInfo);
    const key = Buffer.from(hkdfSync('sha256', Buffer.concat([unhex(c.dhEphemeral), unhex(c.dhStatic)]), unhex(c.input.salt), info, 32));
    expect(hex(key)).toBe(c.key);
    // ... and with Ferry's code, on both sides.
    const senderBox = nacl.box.keyPair.fromSecretKey(unhex(alice.boxSecretKey));
    const receiverBox = nacl.box.keyPair.fromSecretKey(unhex(bob.boxSecretKey));
    const salt = unhex(c.input.salt);
    expect(hex(senderStreamKeyWith(ephemeral, { senderBox, receiverBoxPublicKey: receiverBox.publicKey, salt, transferId: c.input.transferId }))).toBe(c.key);
    expect(
      hex(receiverStreamKey({ receiverBox, senderBoxPublicKey: senderBox.publicKey, ephemeralPublicKey: ephemeral.publicKey, salt, transferId: c.input.transferId })),
    ).toBe(c.key);

    // Header.
    const header = frame.encodeStreamHeader({ chunkSize: c.input.chunkSize, salt, ephemeralPublicKey: ephemeral.publicKey, transferId: c.input.transferId });
    expect(hex(header)).toBe(c.header);
    expect(bodyDigest(header)).toBe(c.headerDigest);
    const decoded = frame.decodeStreamHeader(unhex(c.sealed));
    expect(decoded?.length).toBe(header.length);
    expect(decoded?.header.transferId).toBe(c.input.transferId);

    // Chunks: the reference sealer, Ferry's sealer, and Ferry's opener.
    const plaintext = unhex(c.input.plaintext);
    expect(referenceSeal(key, Buffer.from(header), c.input.chunkSize, plaintext).map(hex)).toEqual(c.chunks);
    expect(c.sealed).toBe(c.header + c.chunks.join(''));
    const sealed = await through(stream.createSealer(key, { header, chunkSize: c.input.chunkSize }), plaintext);
    expect(hex(sealed)).toBe(c.sealed);
    const opened = await through(stream.createOpener(key, { header, chunkSize: c.input.chunkSize }), unhex(c.sealed));
    expect(hex(opened)).toBe(c.input.plaintext);
  });

  it('the format constants of proto/frame.ts and src/crypto/stream.ts agree', () => {
    expect(stream.TAG_LENGTH).toBe(frame.TAG_LENGTH);
    expect(stream.LENGTH_PREFIX).toBe(frame.LENGTH_PREFIX);
    expect(stream.NONCE_LENGTH).toBe(frame.NONCE_LENGTH);
    expect(stream.MIN_CHUNK_SIZE).toBe(frame.MIN_CHUNK_SIZE);
    expect(stream.MAX_CHUNK_SIZE).toBe(frame.MAX_CHUNK_SIZE);
    expect(stream.DEFAULT_CHUNK_SIZE).toBe(frame.DEFAULT_CHUNK_SIZE);
    expect(stream.MAX_CHUNKS).toBe(frame.MAX_CHUNKS);
    expect(stream.STREAM_CIPHER).toBe(frame.STREAM_CIPHER);
  });
});

describe('vectors: pairing', () => {
  const v = load('pairing.json') as { invite: Invite; inviteLine: string; proofString: string; proof: string };
  it('invite line and proof', () => {
    expect(encodeInvite(v.invite)).toBe(v.inviteLine);
    expect(decodeInvite(v.inviteLine)).toEqual(v.invite);
    const bob = byName('bob');
    const alice = byName('alice');
    expect(v.invite.applianceId).toBe(bob.applianceId);
    const proofString = pairingProofString({
      inviteId: v.invite.inviteId,
      inviterId: bob.applianceId,
      accepterId: alice.applianceId,
      accepterSigningPublicKey: unhex(alice.signingPublicKey).toString('base64url'),
      accepterBoxPublicKey: unhex(alice.boxPublicKey).toString('base64url'),
    });
    expect(proofString).toBe(v.proofString);
    expect(pairingProof(Buffer.from(v.invite.secret, 'base64url'), proofString)).toBe(v.proof);
  });
});
