// The receiver's authority as the store keeps it: pool grants, retention
// floors and quotas per pool and peer, replica chains; and the pure rules
// that resolve a UUID the way `btrfs receive` does.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolutionProblem, resolveAsBtrfs, uuidHolders, type SubvolumeIds } from '../../src/domain/chain.js';
import { openStore, type Store } from '../../src/store/index.js';
import { codeOf } from '../support/errors.js';

let store: Store;
beforeEach(() => {
  store = openStore(':memory:');
  store.pools.add({ name: 'backup', path: '/mnt/backup' });
  store.pools.add({ name: 'offsite', path: '/mnt/offsite' });
});
afterEach(() => store.close());

describe('pool grants', () => {
  it('admits every peer to a pool without grants, and only the granted ones once it has any', () => {
    expect(store.grants.admits('backup', 'fpeera')).toBe(true);
    expect(store.grants.grant('backup', 'fpeera')).toBe(true);
    expect(store.grants.grant('backup', 'fpeera')).toBe(false);
    expect(store.grants.admits('backup', 'fpeera')).toBe(true);
    expect(store.grants.admits('backup', 'fpeerb')).toBe(false);
    expect(store.grants.admits('offsite', 'fpeerb')).toBe(true);
    expect(store.grants.peersOf('backup')).toEqual(['fpeera']);
    expect(store.grants.poolsOf('fpeera')).toEqual(['backup']);
    expect(store.grants.revoke('backup', 'fpeera')).toBe(true);
    expect(store.grants.revoke('backup', 'fpeera')).toBe(false);
    expect(store.grants.admits('backup', 'fpeerb')).toBe(true);
  });

  it('drops a removed pool’s grants and an unpaired peer’s', () => {
    store.grants.grant('backup', 'fpeera');
    store.grants.grant('offsite', 'fpeera');
    store.grants.grant('offsite', 'fpeerb');
    store.pools.remove('backup');
    expect(store.grants.poolsOf('fpeera')).toEqual(['offsite']);
    expect(store.grants.removePeer('fpeera')).toBe(1);
    expect(store.grants.peersOf('offsite')).toEqual(['fpeerb']);
  });
});

describe('pool policies', () => {
  it('lets a peer’s own fields override the pool’s, field by field', () => {
    store.policies.set('backup', null, { keepAtLeast: 3, keepDays: 30 });
    store.policies.set('backup', 'fpeera', { keepDays: 7, quotaBytes: 1000 });
    expect(store.policies.effective('backup', 'fpeera')).toEqual({ keepAtLeast: 3, keepDays: 7, quotaBytes: 1000, maxTransfers: null });
    expect(store.policies.effective('backup', 'fpeerb')).toEqual({ keepAtLeast: 3, keepDays: 30, quotaBytes: null, maxTransfers: null });
    expect(store.policies.effective('offsite', 'fpeera')).toEqual({ keepAtLeast: null, keepDays: null, quotaBytes: null, maxTransfers: null });
    expect(store.policies.list('backup').map((r) => r.peer)).toEqual([null, 'fpeera']);
  });

  it('clears a field with null, leaves it with undefined, and drops an empty row', () => {
    store.policies.set('backup', null, { keepAtLeast: 3, quotaBytes: 10 });
    expect(store.policies.set('backup', null, { quotaBytes: null })).toEqual({ keepAtLeast: 3, keepDays: null, quotaBytes: null, maxTransfers: null });
    store.policies.set('backup', null, { keepAtLeast: null });
    expect(store.policies.list('backup')).toEqual([]);
  });

  it('refuses out-of-range values', () => {
    expect(codeOf(() => store.policies.set('backup', null, { keepAtLeast: 0 }))).toBe('INVALID_INPUT');
    expect(codeOf(() => store.policies.set('backup', null, { quotaBytes: -1 }))).toBe('INVALID_INPUT');
    expect(codeOf(() => store.policies.set('backup', null, { maxTransfers: 0 }))).toBe('INVALID_INPUT');
    expect(codeOf(() => store.policies.set('backup', 'fpeera', { maxTransfers: 65 }))).toBe('INVALID_INPUT');
  });
});

describe('chains', () => {
  const replica = (name: string, uuid: string, bytes = 100) => ({ name, uuid, receivedUuid: `r-${uuid}`, parent: null, bytes, committedAt: '2026-11-29T10:00:00.000Z' });

  it('keeps one chain per peer, pool and share, its replicas by name, and the bytes a peer holds', () => {
    const chain = store.chains.create({ peer: 'fpeera', pool: 'backup', share: 'photos', sourceUuid: 'src-1' });
    expect(codeOf(() => store.chains.create({ peer: 'fpeera', pool: 'backup', share: 'photos', sourceUuid: 'src-2' }))).toBe('ALREADY_EXISTS');
    store.chains.addReplica(chain.id, replica('20261129T100000.000Z', 'u1', 300));
    store.chains.addReplica(chain.id, replica('20261129T090000.000Z', 'u0', 200));
    const other = store.chains.create({ peer: 'fpeera', pool: 'offsite', share: 'photos', sourceUuid: 'src-1' });
    store.chains.addReplica(other.id, replica('20261129T100000.000Z', 'u2', 5));
    expect(store.chains.replicas(chain.id).map((r) => r.name)).toEqual(['20261129T090000.000Z', '20261129T100000.000Z']);
    expect(store.chains.bytesHeld('fpeera', 'backup')).toBe(500);
    expect(store.chains.bytesHeld('fpeerb', 'backup')).toBe(0);
    expect(store.chains.removeReplica(chain.id, '20261129T090000.000Z')).toBe(true);
    expect(store.chains.bytesHeld('fpeera', 'backup')).toBe(300);
    expect(store.chains.list({ peer: 'fpeera' }).map((c) => c.pool)).toEqual(['backup', 'offsite']);
    store.chains.rebind(chain.id, 'src-9');
    expect(store.chains.get('fpeera', 'backup', 'photos')?.sourceUuid).toBe('src-9');
  });

  it('refuses a replica UUID recorded twice', () => {
    const chain = store.chains.create({ peer: 'fpeera', pool: 'backup', share: 'photos', sourceUuid: 'src-1' });
    store.chains.addReplica(chain.id, replica('20261129T100000.000Z', 'u1'));
    expect(() => store.chains.addReplica(chain.id, replica('20261129T110000.000Z', 'u1'))).toThrow();
  });
});

describe('resolving a UUID the way btrfs receive does', () => {
  const sv = (path: string, uuid: string, receivedUuid: string | null = null, parentUuid: string | null = null): SubvolumeIds => ({ path, uuid, receivedUuid, parentUuid });
  const ours = sv('backup/fa/photos/20261129T100000.000Z', 'local-1', 'sent-1');
  const theirs = sv('backup/fb/photos/20261129T100000.000Z', 'local-2', 'sent-2');
  const localSnapshot = sv('admin/keep', 'local-3', 'sent-1', 'local-1');
  const decoy = sv('backup/fb/x/20261129T100000.000Z', 'local-4', 'sent-1');
  const plain = sv('share', 'sent-1');
  const replica = { uuid: 'local-1', name: '20261129T100000.000Z' };

  it.each<[string, SubvolumeIds[], string | null]>([
    ['our replica alone', [ours, theirs], null],
    ['our replica and an admin’s read-only snapshot of it', [ours, localSnapshot], null],
    ['another peer’s decoy with the same received UUID (not named: it is another peer’s)', [ours, decoy], /also resolves to another subvolume, so/.source],
    ['no subvolume carries it', [theirs], /does not resolve to replica/.source],
    ['only a plain UUID matches, not ours', [plain], /does not resolve to replica .* but to another subvolume/.source],
  ])('%s', (_label, list, problem) => {
    const found = resolutionProblem(list, 'sent-1', replica);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(new RegExp(problem));
  });

  it('looks at received UUIDs first, then UUIDs', () => {
    expect(resolveAsBtrfs([plain, ours], 'sent-1')).toEqual([ours]);
    expect(resolveAsBtrfs([plain, theirs], 'sent-1')).toEqual([plain]);
    expect(resolveAsBtrfs([theirs], 'nothing')).toEqual([]);
  });

  it('finds every holder of a UUID, as UUID or received UUID', () => {
    expect(uuidHolders([ours, theirs, plain, localSnapshot], 'sent-1')).toEqual([ours, plain, localSnapshot]);
    expect(uuidHolders([ours, theirs], 'local-2')).toEqual([theirs]);
    expect(uuidHolders([ours], 'fresh')).toEqual([]);
  });
});
