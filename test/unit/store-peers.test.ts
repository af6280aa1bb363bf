import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations.js';
import { MAX_INVITE_FAILURES, openStore, type Store } from '../../src/store/index.js';
import { codeOf } from '../support/errors.js';

const key = (): string => randomBytes(32).toString('base64url');

const peer = (over: Partial<{ id: string; name: string; address: string; signingPublicKey: string; boxPublicKey: string }> = {}) => ({
  id: 'fabcdefghijklmnopqrst',
  name: 'nas-two',
  address: 'https://nas2.example:7443',
  signingPublicKey: key(),
  boxPublicKey: key(),
  ...over,
});

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-store-peers-'));
  store = openStore(join(dir, 'ferry.db'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 2', () => {
  it('creates peers, invites and nonces', () => {
    expect(migrations.some((m) => m.version === 2)).toBe(true);
    expect(store.peers.list()).toEqual([]);
    expect(store.invites.list()).toEqual([]);
    expect(store.nonces.has('fabcdefghijklmnopqrst', 'n')).toBe(false);
  });
});

describe('PeerRepo', () => {
  it('adds, finds by id and name, lists by name, and removes', () => {
    const a = store.peers.add(peer({ pairedAt: '2024-05-01T10:00:00Z' } as never));
    const b = store.peers.add(peer({ id: 'fbbbbbbbbbbbbbbbbbbbb', name: 'attic' }));
    expect(a.pairedAt).toBe('2024-05-01T10:00:00.000Z');
    expect(store.peers.get(a.id)).toEqual(a);
    expect(store.peers.getByName('attic')).toEqual(b);
    expect(store.peers.getByName('nobody')).toBeUndefined();
    expect(store.peers.list().map((p) => p.name)).toEqual(['attic', 'nas-two']);
    expect(store.peers.remove(a.id)).toBe(true);
    expect(store.peers.remove(a.id)).toBe(false);
    expect(store.peers.get(a.id)).toBeUndefined();
  });

  it('refuses a second peer with the same id or the same name', () => {
    store.peers.add(peer());
    expect(codeOf(() => store.peers.add(peer({ name: 'other' })))).toBe('ALREADY_EXISTS');
    expect(codeOf(() => store.peers.add(peer({ id: 'fbbbbbbbbbbbbbbbbbbbb' })))).toBe('ALREADY_EXISTS');
  });

  it('validates ids, names, addresses and keys', () => {
    expect(codeOf(() => store.peers.add(peer({ id: '1abc' })))).toBe('INVALID_INPUT');
    expect(codeOf(() => store.peers.add(peer({ name: 'bad\nname' })))).toBe('INVALID_NAME');
    expect(codeOf(() => store.peers.add(peer({ address: 'ftp://x' })))).toBe('INVALID_INPUT');
    expect(codeOf(() => store.peers.add(peer({ address: 'http://x/' })))).toBe('INVALID_INPUT');
    expect(codeOf(() => store.peers.add(peer({ signingPublicKey: randomBytes(31).toString('base64url') })))).toBe('INVALID_INPUT');
    expect(codeOf(() => store.peers.add(peer({ boxPublicKey: 'not base64url!' })))).toBe('INVALID_INPUT');
    expect(store.peers.list()).toEqual([]);
  });

  it('changes the address', () => {
    const a = store.peers.add(peer());
    expect(store.peers.setAddress(a.id, 'http://10.0.0.2:7443')).toBe(true);
    expect(store.peers.get(a.id)?.address).toBe('http://10.0.0.2:7443');
    expect(store.peers.setAddress('fbbbbbbbbbbbbbbbbbbbb', 'http://10.0.0.2:7443')).toBe(false);
    expect(codeOf(() => store.peers.setAddress(a.id, 'not a url'))).toBe('INVALID_INPUT');
  });
});

describe('InviteRepo', () => {
  const now = 1_700_000_000;
  const secret = randomBytes(32);

  it('keeps the secret of an open invite and hands it out', () => {
    store.invites.create({ inviteId: 'invite-0001', secret, expiresAt: now + 600 });
    const got = store.invites.get('invite-0001', now);
    expect(got).toMatchObject({ inviteId: 'invite-0001', state: 'open', failures: 0, usedAt: null, expiresAt: now + 600 });
    expect(got?.secret).toBe(secret.toString('base64url'));
    expect(store.invites.secretOf('invite-0001', now)).toBe(secret.toString('base64url'));
    expect(store.invites.get('unknown-1', now)).toBeUndefined();
    expect(codeOf(() => store.invites.create({ inviteId: 'invite-0001', secret, expiresAt: now }))).toBe('ALREADY_EXISTS');
    expect(codeOf(() => store.invites.create({ inviteId: 'short', secret, expiresAt: now }))).toBe('INVALID_INPUT');
    expect(codeOf(() => store.invites.create({ inviteId: 'invite-0002', secret: randomBytes(16), expiresAt: now }))).toBe('INVALID_INPUT');
  });

  it('is single use: markUsed wins once and forgets the secret', () => {
    store.invites.create({ inviteId: 'invite-0001', secret, expiresAt: now + 600 });
    expect(store.invites.markUsed('invite-0001', now)).toBe(true);
    expect(store.invites.markUsed('invite-0001', now)).toBe(false);
    const got = store.invites.get('invite-0001', now);
    expect(got?.state).toBe('used');
    expect(got?.secret).toBeNull();
    expect(store.invites.secretOf('invite-0001', now)).toBeUndefined();
    expect(store.invites.markUsed('unknown-1', now)).toBe(false);
  });

  it('is single use across two connections to one database', () => {
    store.invites.create({ inviteId: 'invite-0001', secret, expiresAt: now + 600 });
    const other = openStore(join(dir, 'ferry.db'));
    try {
      const results = [store.invites.markUsed('invite-0001', now), other.invites.markUsed('invite-0001', now)];
      expect(results.sort()).toEqual([false, true]);
    } finally {
      other.close();
    }
  });

  it('cannot be used once expired', () => {
    store.invites.create({ inviteId: 'invite-0001', secret, expiresAt: now + 600 });
    expect(store.invites.get('invite-0001', now + 600)?.state).toBe('expired');
    expect(store.invites.secretOf('invite-0001', now + 600)).toBeUndefined();
    expect(store.invites.markUsed('invite-0001', now + 600)).toBe(false);
  });

  it(`is burned by the ${MAX_INVITE_FAILURES}th wrong proof`, () => {
    store.invites.create({ inviteId: 'invite-0001', secret, expiresAt: now + 600 });
    for (let i = 1; i < MAX_INVITE_FAILURES; i++) {
      expect(store.invites.recordFailure('invite-0001')).toEqual({ failures: i, burned: false });
      expect(store.invites.secretOf('invite-0001', now)).toBeDefined();
    }
    expect(store.invites.recordFailure('invite-0001')).toEqual({ failures: MAX_INVITE_FAILURES, burned: true });
    expect(store.invites.get('invite-0001', now)).toMatchObject({ state: 'burned', secret: null });
    expect(store.invites.secretOf('invite-0001', now)).toBeUndefined();
    expect(store.invites.markUsed('invite-0001', now)).toBe(false);
    expect(store.invites.recordFailure('invite-0001')).toEqual({ failures: MAX_INVITE_FAILURES, burned: true });
    expect(store.invites.recordFailure('unknown-1')).toEqual({ failures: 0, burned: false });
  });

  it('purges expired invites, secrets first', () => {
    store.invites.create({ inviteId: 'invite-0001', secret, expiresAt: now + 10 });
    store.invites.create({ inviteId: 'invite-0002', secret: randomBytes(32).toString('base64url'), expiresAt: now + 1000 });
    expect(store.invites.purgeExpired(now)).toBe(0);
    expect(store.invites.purgeExpired(now + 10)).toBe(1);
    expect(store.invites.list(now).map((i) => i.inviteId)).toEqual(['invite-0002']);
    expect(store.invites.remove('invite-0002')).toBe(true);
    expect(store.invites.list(now)).toEqual([]);
  });
});

describe('NonceRepo', () => {
  it('remembers a nonce once per sender, atomically', () => {
    expect(store.nonces.remember('fa', 'nonce-1', 100)).toBe(true);
    expect(store.nonces.remember('fa', 'nonce-1', 200)).toBe(false);
    expect(store.nonces.remember('fb', 'nonce-1', 100)).toBe(true);
    expect(store.nonces.has('fa', 'nonce-1')).toBe(true);
    expect(store.nonces.has('fa', 'nonce-2')).toBe(false);
  });

  it('purges expired nonces', () => {
    store.nonces.remember('fa', 'old', 100);
    store.nonces.remember('fa', 'new', 300);
    expect(store.nonces.purge(100)).toBe(1);
    expect(store.nonces.has('fa', 'old')).toBe(false);
    expect(store.nonces.has('fa', 'new')).toBe(true);
  });
});
