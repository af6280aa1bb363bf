// Writes proto/vectors/*.json: fixed inputs and the outputs this implementation
// computes from them. Run once (npx tsx test/vectors/generate.ts) when the
// protocol version changes; test/unit/proto-vectors.test.ts recomputes every
// output, partly with independent code, and fails on any difference.

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import nacl from 'tweetnacl';
import { applianceId, fingerprint } from '../../src/crypto/identity.js';
import { sign } from '../../src/crypto/sign.js';
import { senderStreamKeyWith, streamKeyInfo } from '../../src/crypto/agree.js';
import { createSealer } from '../../src/crypto/stream.js';
import { encodeStreamHeader } from '../../proto/frame.js';
import { bodyDigest, requestSigningString, responseSigningString } from '../../proto/signing.js';
import { encodeInvite, pairingProof, pairingProofString, type Invite } from '../../proto/messages.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';

const out = join(import.meta.dirname, '../../proto/vectors');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
/** Deterministic bytes: sha256(label) repeated, so inputs are reproducible and distinct. */
function bytes(label: string, length: number): Uint8Array {
  const outBytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 32) outBytes.set(createHash('sha256').update(`${label}/${i}`).digest().subarray(0, Math.min(32, length - i)), i);
  return outBytes;
}

function identity(label: string) {
  const seed = bytes(`${label}/signing-seed`, 32);
  const boxSecret = bytes(`${label}/box-secret`, 32);
  const signing = nacl.sign.keyPair.fromSeed(seed);
  const box = nacl.box.keyPair.fromSecretKey(boxSecret);
  return {
    input: { signingSeed: hex(seed), boxSecretKey: hex(boxSecret) },
    output: {
      signingPublicKey: hex(signing.publicKey),
      boxPublicKey: hex(box.publicKey),
      applianceId: applianceId(signing.publicKey),
      fingerprint: fingerprint({ signingPublicKey: signing.publicKey, boxPublicKey: box.publicKey }),
    },
    signing,
    box,
  };
}

const alice = identity('alice');
const bob = identity('bob');
const aliceId = alice.output.applianceId;
const bobId = bob.output.applianceId;

function write(name: string, value: unknown): void {
  writeFileSync(join(out, name), JSON.stringify(value, null, 2) + '\n');
  console.log(`wrote proto/vectors/${name}`);
}

write('identity.json', {
  description: 'Appliance ids and fingerprints from fixed keys. Ed25519 key from the 32-byte seed; X25519 public = X25519(secret, 9).',
  protocol: PROTOCOL_VERSION,
  cases: [
    { name: 'alice', ...alice.input, ...alice.output },
    { name: 'bob', ...bob.input, ...bob.output },
  ],
});

const body = '{"share":"data","pool":"tank"}';
const request = {
  method: 'POST',
  target: '/ferry/v2/holdings',
  audience: bobId,
  sender: aliceId,
  time: 1_767_225_600,
  nonce: b64u(bytes('request-nonce', 16)),
  body,
};
const requestString = requestSigningString({ ...request, digest: bodyDigest(body) });
const responseBody = '{"share":"data","pool":"tank","replicas":[]}';
const response = { responder: bobId, audience: aliceId, requestNonce: request.nonce, status: 200, body: responseBody };
const responseString = responseSigningString({ ...response, digest: bodyDigest(responseBody) });
write('signing.json', {
  description: 'Signing strings and Ed25519 signatures (base64url). Request signed by alice for bob, response by bob. Keys: identity.json.',
  protocol: PROTOCOL_VERSION,
  request: {
    input: { signer: 'alice', ...request },
    digest: bodyDigest(body),
    signingString: requestString,
    signature: sign(requestString, alice.signing.secretKey),
  },
  response: {
    input: { signer: 'bob', ...response },
    digest: bodyDigest(responseBody),
    signingString: responseString,
    signature: sign(responseString, bob.signing.secretKey),
  },
});

async function seal(key: Uint8Array, header: Uint8Array, chunkSize: number, plaintext: Uint8Array): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    Readable.from([Buffer.from(plaintext)]),
    createSealer(key, { header, chunkSize }),
    new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }),
  );
  return Buffer.concat(parts);
}

async function streamCase(name: string, chunkSize: number, plaintext: Uint8Array) {
  const ephemeral = nacl.box.keyPair.fromSecretKey(bytes(`${name}/ephemeral`, 32));
  const salt = bytes(`${name}/salt`, 16);
  const transferId = `vector-${name}`;
  const key = senderStreamKeyWith(ephemeral, { senderBox: alice.box, receiverBoxPublicKey: bob.box.publicKey, salt, transferId });
  const header = encodeStreamHeader({ chunkSize, salt, ephemeralPublicKey: ephemeral.publicKey, transferId });
  const sealed = await seal(key, header, chunkSize, plaintext);
  const chunks: string[] = [];
  for (let at = header.length; at < sealed.length; ) {
    const n = 4 + sealed.readUInt32BE(at);
    chunks.push(hex(sealed.subarray(at, at + n)));
    at += n;
  }
  return {
    name,
    input: { sender: 'alice', receiver: 'bob', ephemeralSecretKey: hex(ephemeral.secretKey), salt: hex(salt), transferId, chunkSize, plaintext: hex(plaintext) },
    ephemeralPublicKey: hex(ephemeral.publicKey),
    dhEphemeral: hex(nacl.scalarMult(ephemeral.secretKey, bob.box.publicKey)),
    dhStatic: hex(nacl.scalarMult(alice.box.secretKey, bob.box.publicKey)),
    hkdfInfo: hex(streamKeyInfo(transferId, ephemeral.publicKey, alice.box.publicKey, bob.box.publicKey)),
    key: hex(key),
    header: hex(header),
    headerDigest: bodyDigest(header),
    chunks,
    sealed: hex(sealed),
  };
}

write('stream.json', {
  description:
    'Sealed streams from alice to bob (keys: identity.json). key = HKDF-SHA256(dhEphemeral || dhStatic, salt, hkdfInfo, 32); ' +
    'sealed = header || chunks; each chunk = u32be length || AES-256-GCM(ciphertext || tag), nonce = 11-byte counter || final flag, chunk 0 with the header as AAD.',
  protocol: PROTOCOL_VERSION,
  cases: [
    await streamCase('empty', 32, new Uint8Array(0)),
    await streamCase('short', 32, new TextEncoder().encode('hello, ferry')),
    await streamCase('multi', 32, bytes('multi/plaintext', 100)),
    await streamCase('exact', 32, bytes('exact/plaintext', 64)),
  ],
});

const secret = bytes('invite-secret', 32);
const invite: Invite = {
  protocol: PROTOCOL_VERSION,
  address: 'https://bob.example:7443',
  applianceId: bobId,
  name: 'bob',
  signingPublicKey: b64u(bob.signing.publicKey),
  boxPublicKey: b64u(bob.box.publicKey),
  inviteId: 'inv-0001',
  secret: b64u(secret),
  expiresAt: 1_767_226_200,
};
const proofString = pairingProofString({
  inviteId: invite.inviteId,
  inviterId: bobId,
  accepterId: aliceId,
  accepterSigningPublicKey: b64u(alice.signing.publicKey),
  accepterBoxPublicKey: b64u(alice.box.publicKey),
});
write('pairing.json', {
  description: 'An invite printed by bob and the proof alice sends back: base64url(HMAC-SHA256(secret, proofString)).',
  protocol: PROTOCOL_VERSION,
  invite,
  inviteLine: encodeInvite(invite),
  proofString,
  proof: pairingProof(secret, proofString),
});
