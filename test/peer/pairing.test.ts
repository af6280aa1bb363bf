// Pairing by invite over real sockets: both sides end up holding each other's
// keys; wrong proofs, expired, reused and burned invites are refused.

import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromBase64url } from '../../proto/ids.js';
import { decodeInvite, encodeInvite, pairingProof, pairingProofString, routes } from '../../proto/messages.js';
import { PROTOCOL_VERSION } from '../../proto/version.js';
import { fingerprint, generateIdentity } from '../../src/crypto/index.js';
import { FerryError } from '../../src/domain/errors.js';
import { acceptInvite, createInvite, fromPeerRecord, hello, idOf } from '../../src/peer/index.js';
import { MAX_INVITE_FAILURES } from '../../src/store/index.js';
import { pairByInvite, signedJson, startAppliance, type TestAppliance } from '../support/peer-appliance.js';

let inviter: TestAppliance;
let accepter: TestAppliance;

beforeEach(async () => {
  inviter = await startAppliance({ name: 'inviter' });
  accepter = await startAppliance({ name: 'accepter' });
});
afterEach(async () => {
  await inviter?.close();
  await accepter?.close();
});

function invite(ttlSeconds = 600): { line: string; inviteId: string } {
  const made = createInvite({ identity: inviter.identity, name: inviter.name, address: inviter.address, ttlSeconds });
  inviter.store.invites.create({ inviteId: made.invite.inviteId, secret: made.secret, expiresAt: made.invite.expiresAt });
  return { line: made.line, inviteId: made.invite.inviteId };
}

/** The invite line with another secret: its proof will be wrong. */
function withWrongSecret(line: string): string {
  return encodeInvite({ ...decodeInvite(line), secret: randomBytes(32).toString('base64url') });
}

async function refusal(promise: Promise<unknown>): Promise<FerryError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FerryError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const accept = (line: string, who: TestAppliance = accepter) =>
  acceptInvite({ identity: who.identity, name: who.name, address: who.address, invite: line });

describe('pairing by invite', () => {
  it('leaves both sides with each other’s keys, and the pair can talk', async () => {
    const { line, inviteId } = invite();
    const record = await accept(line);
    expect(record).toMatchObject({ id: inviter.id, name: 'inviter', address: inviter.address });
    expect(Buffer.from(record.signingPublicKey).equals(Buffer.from(inviter.identity.signing.publicKey))).toBe(true);
    expect(Buffer.from(record.boxPublicKey).equals(Buffer.from(inviter.identity.box.publicKey))).toBe(true);
    accepter.store.peers.add(fromPeerRecord(record));

    const stored = inviter.store.peers.get(accepter.id);
    expect(stored).toMatchObject({
      id: accepter.id,
      name: 'accepter',
      address: accepter.address,
      signingPublicKey: Buffer.from(accepter.identity.signing.publicKey).toString('base64url'),
      boxPublicKey: Buffer.from(accepter.identity.box.publicKey).toString('base64url'),
    });
    expect(inviter.store.invites.get(inviteId)).toMatchObject({ state: 'used', secret: null });
    // Fingerprints both admins compare are the same on both sides.
    expect(fingerprint({ signingPublicKey: fromBase64url(stored!.signingPublicKey)!, boxPublicKey: fromBase64url(stored!.boxPublicKey)! })).toBe(
      fingerprint({ signingPublicKey: accepter.identity.signing.publicKey, boxPublicKey: accepter.identity.box.publicKey }),
    );

    // Each side now accepts the other's signed requests (no pool granted, so a signed refusal).
    const err = await refusal(accepter.clientFor(inviter).holdings({ share: 'docs', pool: 'tank', shareUuid: randomUUID(), shareOrigin: null }));
    expect(err.code).toBe('POOL_NOT_GRANTED');
    const back = await refusal(inviter.clientFor(accepter).holdings({ share: 'docs', pool: 'tank', shareUuid: randomUUID(), shareOrigin: null }));
    expect(back.code).toBe('POOL_NOT_GRANTED');
  });

  it('answers hello unsigned', async () => {
    await expect(hello(inviter.address)).resolves.toEqual({ protocol: PROTOCOL_VERSION, applianceId: inviter.id, name: 'inviter' });
  });

  it('refuses a wrong proof, and counts it', async () => {
    const { line, inviteId } = invite();
    const err = await refusal(accept(withWrongSecret(line)));
    expect(err.code).toBe('INVITE_INVALID');
    expect(inviter.store.peers.list()).toEqual([]);
    expect(inviter.store.invites.get(inviteId)).toMatchObject({ state: 'open', failures: 1 });
    expect(inviter.refusals('INVITE_INVALID')).toHaveLength(1);
    // The right proof still works afterwards.
    await accept(line);
    expect(inviter.store.peers.get(accepter.id)).toBeDefined();
  });

  it(`burns the invite after ${MAX_INVITE_FAILURES} wrong proofs`, async () => {
    const { line, inviteId } = invite();
    for (let i = 0; i < MAX_INVITE_FAILURES; i++) {
      expect((await refusal(accept(withWrongSecret(line)))).code).toBe('INVITE_INVALID');
    }
    expect(inviter.store.invites.get(inviteId)).toMatchObject({ state: 'burned', secret: null });
    expect((await refusal(accept(line))).code).toBe('INVITE_INVALID');
    expect(inviter.store.peers.list()).toEqual([]);
    expect(inviter.refusals('INVITE_INVALID')).toHaveLength(MAX_INVITE_FAILURES + 1);
  });

  it('refuses an invite that expired on the inviter', async () => {
    const made = createInvite({ identity: inviter.identity, name: inviter.name, address: inviter.address });
    // The line still claims a future expiry; the inviter's own record is what counts.
    inviter.store.invites.create({ inviteId: made.invite.inviteId, secret: made.secret, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    expect((await refusal(accept(made.line))).code).toBe('INVITE_INVALID');
    expect(inviter.store.peers.list()).toEqual([]);
    expect(inviter.refusals('INVITE_INVALID')).toHaveLength(1);
  });

  it('refuses an expired invite line without sending anything', async () => {
    const { line } = invite(-1);
    expect((await refusal(accept(line))).code).toBe('INVITE_INVALID');
    expect(inviter.logs.filter((l) => l.msg.includes('refused'))).toEqual([]);
  });

  it('refuses a reused invite', async () => {
    const { line } = invite();
    await accept(line);
    const third = await startAppliance({ name: 'third' });
    try {
      expect((await refusal(accept(line, third))).code).toBe('INVITE_INVALID');
      expect(inviter.store.peers.get(third.id)).toBeUndefined();
      // The same accepter replaying its accept is refused too.
      expect((await refusal(accept(line))).code).toBe('INVITE_INVALID');
    } finally {
      await third.close();
    }
  });

  it('refuses an invite whose appliance id does not derive from its key', async () => {
    const { line } = invite();
    const forged = encodeInvite({ ...decodeInvite(line), signingPublicKey: Buffer.from(generateIdentity().signing.publicKey).toString('base64url') });
    expect((await refusal(accept(forged))).code).toBe('INVITE_INVALID');
  });

  it('refuses an accept signed by another key than the one in the body', async () => {
    const { line, inviteId } = invite();
    const inv = decodeInvite(line);
    const mallory = generateIdentity();
    const signing = Buffer.from(accepter.identity.signing.publicKey).toString('base64url');
    const box = Buffer.from(accepter.identity.box.publicKey).toString('base64url');
    const body = {
      inviteId,
      applianceId: accepter.id,
      name: 'accepter',
      address: accepter.address,
      signingPublicKey: signing,
      boxPublicKey: box,
      proof: pairingProof(
        fromBase64url(inv.secret)!,
        pairingProofString({ inviteId, inviterId: inviter.id, accepterId: accepter.id, accepterSigningPublicKey: signing, accepterBoxPublicKey: box }),
      ),
    };
    // Mallory knows the secret but not the accepter's signing key.
    const res = await signedJson(mallory, inviter, { path: routes.pairAccept.path, body, sign: { sender: accepter.id } });
    expect([res.status, res.json?.code]).toEqual([401, 'BAD_SIGNATURE']);
    expect(inviter.store.peers.list()).toEqual([]);
    expect(inviter.store.invites.get(inviteId)?.state).toBe('open');
    // Mallory's own id with the accepter's keys in the body: the id does not derive from them.
    const own = await signedJson(mallory, inviter, { path: routes.pairAccept.path, body: { ...body, applianceId: idOf(mallory) } });
    expect([own.status, own.json?.code]).toEqual([400, 'INVALID_INPUT']);
    expect(inviter.refusals()).toHaveLength(2);
  });

  it('pairs through the helper used by the other suites', async () => {
    await pairByInvite(inviter, accepter);
    expect(accepter.store.peers.get(inviter.id)).toBeDefined();
    expect(inviter.store.peers.get(accepter.id)).toBeDefined();
  });
});
