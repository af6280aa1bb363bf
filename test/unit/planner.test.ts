import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byName, newestCommon, planSend } from '../../src/domain/planner.js';
import type { LocalSnapshot, Replica } from '../../src/domain/snapshot.js';

// Snapshot names from the real format, so name order is time order.
const snap = (minute: number, uuid = `uuid-${minute}`): LocalSnapshot => ({
  name: `20261121T21${String(minute).padStart(2, '0')}00.000Z`,
  uuid,
});
const replica = (minute: number, receivedUuid = `uuid-${minute}`): Replica => ({
  name: `20261121T21${String(minute).padStart(2, '0')}00.000Z`,
  receivedUuid,
});

describe('planSend', () => {
  it.each<[string, LocalSnapshot[], Replica[], string | null, string]>([
    ['first run: nothing anywhere', [], [], null, 'no snapshot of the share yet (first run)'],
    ['first run, receiver holds replicas from elsewhere', [], [replica(1), replica(2)], null, "receiver's 2 replicas"],
    ['receiver holds nothing', [snap(1), snap(2)], [], null, 'receiver holds no replica of this share'],
    ['receiver holds unrelated replicas', [snap(1), snap(2)], [replica(3, 'x'), replica(4, 'y')], null, 'holds 2 replicas of this share, but none'],
    ['one unrelated replica, one snapshot', [snap(1)], [replica(3, 'x')], null, 'holds 1 replica of this share, but none was received from the one snapshot'],
    ['parent deleted on the target', [snap(1), snap(2)], [replica(0)], null, 'the parent was deleted on the target'],
    ['single common snapshot', [snap(1)], [replica(1)], snap(1).name, 'incremental from "20261121T210100.000Z"'],
    ['newest of several common', [snap(1), snap(2), snap(3)], [replica(1), replica(2), replica(3)], snap(3).name, 'newest snapshot the receiver also holds'],
    ['newest local not yet received', [snap(1), snap(2), snap(3)], [replica(1), replica(2)], snap(2).name, 'incremental'],
    ['gaps in both chains', [snap(1), snap(3), snap(5)], [replica(1), replica(2), replica(3), replica(4)], snap(3).name, 'incremental'],
    ['input order does not matter', [snap(5), snap(1), snap(3)], [replica(3), replica(1)], snap(3).name, 'incremental'],
    ['receiver has newer replicas we pruned', [snap(1), snap(2)], [replica(1), replica(9)], snap(1).name, 'incremental'],
    ['received UUID "-" is no UUID', [snap(1, '-')], [replica(1, '-')], null, 'but none'],
    ['empty received UUID is no UUID', [snap(1, '')], [replica(1, '')], null, 'but none'],
    ['UUID case does not matter', [snap(1, 'ABCDEF')], [replica(1, 'abcdef')], snap(1).name, 'incremental'],
    ['replica under another name', [snap(1)], [{ name: 'restored-copy', receivedUuid: 'uuid-1' }], snap(1).name, 'as replica "restored-copy"'],
  ])('%s', (_label, local, remote, parent, says) => {
    const plan = planSend({ local, remote });
    expect(plan.parent?.name ?? null).toBe(parent);
    expect(plan.mode).toBe(parent === null ? 'full' : 'incremental');
    expect(plan.reason).toContain(says);
  });

  it('the full-send reasons differ, so the trail tells the cases apart', () => {
    const reasons = new Set([
      planSend({ local: [], remote: [] }).reason,
      planSend({ local: [snap(1)], remote: [] }).reason,
      planSend({ local: [snap(1)], remote: [replica(2)] }).reason,
    ]);
    expect(reasons.size).toBe(3);
  });

  it('does not mention the replica name when it equals the snapshot name', () => {
    expect(planSend({ local: [snap(1)], remote: [replica(1)] }).reason).not.toContain('as replica');
  });
});

// Small pools of names and UUIDs, so that generated chains overlap often.
const uuid = fc.constantFrom('u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', '-', '');
const name = fc.integer({ min: 0, max: 40 }).map((m) => snap(m).name);
const locals = fc.uniqueArray(fc.record({ name, uuid }), { selector: (s) => s.name, maxLength: 12 });
const remotes = fc.array(fc.record({ name, receivedUuid: uuid }), { maxLength: 12 });

describe('planSend properties', () => {
  it('the parent is a local snapshot the receiver holds, and no newer local one is held', () => {
    fc.assert(
      fc.property(locals, remotes, (local, remote) => {
        const held = new Set<string>(remote.map((r) => r.receivedUuid).filter((u) => u !== '' && u !== '-'));
        const plan = planSend({ local, remote });
        const heldLocals = local.filter((s) => held.has(s.uuid));
        if (plan.mode === 'full') {
          expect(heldLocals).toEqual([]);
          expect(plan.parent).toBeNull();
        } else {
          expect(local).toContainEqual(plan.parent);
          expect(held.has(plan.parent.uuid)).toBe(true);
          for (const s of heldLocals) expect(s.name <= plan.parent.name).toBe(true);
        }
        expect(plan.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it('the plan does not depend on input order', () => {
    fc.assert(
      fc.property(locals, remotes, (local, remote) => {
        const a = planSend({ local, remote });
        const b = planSend({ local: [...local].reverse(), remote: [...remote].reverse() });
        expect(b.parent).toEqual(a.parent);
      }),
    );
  });

  it('newestCommon agrees with the plan', () => {
    fc.assert(
      fc.property(locals, remotes, (local, remote) => {
        expect(newestCommon(local, remote)?.snapshot ?? null).toEqual(planSend({ local, remote }).parent);
      }),
    );
  });

  it('byName orders like string comparison', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(Math.sign(byName({ name: a }, { name: b }))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });
});
