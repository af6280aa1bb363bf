import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newestCommon } from '../../src/domain/planner.js';
import { receiverRetention, senderRetention, validateKeep } from '../../src/domain/retention.js';
import type { LocalSnapshot, Replica } from '../../src/domain/snapshot.js';
import { codeOf } from '../support/errors.js';

const n = (minute: number): string => `20261121T21${String(minute).padStart(2, '0')}00.000Z`;
const snaps = (...minutes: number[]): LocalSnapshot[] => minutes.map((m) => ({ name: n(m), uuid: `uuid-${m}` }));
const replicas = (...minutes: number[]): Replica[] => minutes.map((m) => ({ name: n(m), receivedUuid: `uuid-${m}` }));
const names = (...minutes: number[]): string[] => minutes.map(n);

describe('validateKeep', () => {
  it.each([1, 2, 10, 10_000])('accepts %i', (k) => {
    expect(validateKeep(k)).toBe(k);
  });
  it.each([0, -1, 1.5, 10_001, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s', (k) => {
    expect(codeOf(() => validateKeep(k))).toBe('INVALID_INPUT');
  });
});

describe('senderRetention', () => {
  it.each<[string, LocalSnapshot[], Replica[], number, string[], string[], string[]]>([
    ['nothing to do', [], [], 3, [], [], []],
    ['fewer than keep', snaps(1, 2), replicas(1, 2), 3, [], names(1, 2), []],
    ['exactly keep', snaps(1, 2, 3), replicas(3), 3, [], names(1, 2, 3), []],
    ['newest keep, common among them', snaps(1, 2, 3, 4, 5), replicas(5), 2, [], names(4, 5), names(1, 2, 3)],
    // btrbk #607: snapshots pile up while the target is down; the old parent must survive.
    ['old parent kept while target lagged', snaps(1, 2, 3, 4, 5), replicas(1), 2, [], names(1, 4, 5), names(2, 3)],
    ['newest common, not any common', snaps(1, 2, 3, 4, 5), replicas(1, 2), 1, [], names(2, 5), names(1, 3, 4)],
    ['in-flight kept', snaps(1, 2, 3, 4, 5), replicas(5), 1, names(2), names(2, 5), names(1, 3, 4)],
    ['in-flight and parent kept', snaps(1, 2, 3, 4, 5, 6), replicas(1), 1, names(3), names(1, 3, 6), names(2, 4, 5)],
    ['unknown in-flight names ignored', snaps(1, 2), replicas(2), 1, ['elsewhere'], names(2), names(1)],
    ['nothing common: newest keep only', snaps(1, 2, 3), replicas(9), 1, [], names(3), names(1, 2)],
    ['unordered input, sorted output', snaps(3, 1, 2), replicas(1), 1, [], names(1, 3), names(2)],
    ['duplicate names collapse', [...snaps(1, 2), ...snaps(2)], replicas(2), 1, [], names(2), names(1)],
  ])('%s', (_label, local, remote, keep, inFlight, kept, removed) => {
    expect(senderRetention({ local, remote, keep, inFlight })).toEqual({ keep: kept, remove: removed });
  });

  it('refuses keep 0', () => {
    expect(codeOf(() => senderRetention({ local: snaps(1), remote: [], keep: 0, inFlight: [] }))).toBe('INVALID_INPUT');
  });
});

describe('receiverRetention', () => {
  it.each<[string, Replica[], number, string[], string[], string[]]>([
    ['nothing to do', [], 2, [], [], []],
    ['fewer than keep', replicas(1), 2, [], names(1), []],
    ['newest keep', replicas(1, 2, 3, 4), 2, [], names(3, 4), names(1, 2)],
    ['keep 1 keeps the newest', replicas(4, 1, 3, 2), 1, [], names(4), names(1, 2, 3)],
    ['in-flight kept', replicas(1, 2, 3, 4), 1, names(1), names(1, 4), names(2, 3)],
    ['unknown in-flight ignored', replicas(1, 2), 1, ['staging-x'], names(2), names(1)],
  ])('%s', (_label, reps, keep, inFlight, kept, removed) => {
    const { keep: k, remove } = receiverRetention({ replicas: reps, keep, inFlight });
    expect({ keep: k, remove }).toEqual({ keep: kept, remove: removed });
  });

  it('refuses keep over 10000', () => {
    expect(codeOf(() => receiverRetention({ replicas: [], keep: 10_001, inFlight: [] }))).toBe('INVALID_INPUT');
  });
});

describe('receiverRetention with the receiving admin\'s floor', () => {
  const now = new Date('2026-11-30T00:00:00.000Z');
  /** Replicas committed `daysAgo` days before now, named by minute. */
  const aged = (...entries: [minute: number, daysAgo: number][]) =>
    entries.map(([m, d]) => ({ name: n(m), receivedUuid: `uuid-${m}`, committedAt: new Date(now.getTime() - d * 86_400_000).toISOString() }));

  it.each<[string, ReturnType<typeof aged>, number, { keepAtLeast: number | null; keepDays: number | null }, string[], RegExp | null]>([
    ['no floor: the request rules', aged([1, 9], [2, 8], [3, 7], [4, 6]), 1, { keepAtLeast: null, keepDays: null }, names(4), /deleted 3 older replicas .* keeping the newest 1$/],
    ['a count floor above the request wins', aged([1, 9], [2, 8], [3, 7], [4, 6]), 1, { keepAtLeast: 3, keepDays: null }, names(2, 3, 4), /kept 3 replicas where the sender asked for 1: this receiver's floor keeps at least 3; deleted 1 older replica/],
    ['a count floor below the request changes nothing', aged([1, 9], [2, 8], [3, 7]), 2, { keepAtLeast: 1, keepDays: null }, names(2, 3), /^deleted 1 older replica \(20261121T210100.000Z\), keeping the newest 2$/],
    ['a days floor keeps what is young', aged([1, 9], [2, 3], [3, 2], [4, 1]), 1, { keepAtLeast: null, keepDays: 5 }, names(2, 3, 4), /floor keeps every replica of the last 5 days; deleted 1 older replica/],
    ['both floors together', aged([1, 30], [2, 20], [3, 10], [4, 1]), 1, { keepAtLeast: 2, keepDays: 15 }, names(3, 4), /keeps at least 2 and every replica of the last 15 days/],
    ['a floor with nothing to delete still says it kept more', aged([1, 9], [2, 8]), 1, { keepAtLeast: 3, keepDays: null }, names(1, 2), /^kept 2 replicas where the sender asked for 1/],
    ['nothing deleted and no floor: no summary', aged([1, 9]), 2, { keepAtLeast: 5, keepDays: null }, names(1), null],
  ])('%s', (_label, reps, keep, floor, kept, summary) => {
    const decision = receiverRetention({ replicas: reps, keep, inFlight: [], floor, now });
    expect(decision.keep).toEqual(kept);
    if (summary === null) expect(decision.summary).toBeNull();
    else expect(decision.summary).toMatch(summary);
  });
});

// Small pools so that chains, replicas and in-flight names overlap often.
const name = fc.integer({ min: 0, max: 30 }).map(n);
const uuid = fc.constantFrom('u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6');
const locals = fc.array(fc.record({ name, uuid }), { maxLength: 20 });
const remotes = fc.array(fc.record({ name, receivedUuid: uuid }), { maxLength: 20 });
const keepArb = fc.integer({ min: 1, max: 8 });
const inFlightArb = fc.array(name, { maxLength: 1 });

function expectPartition(input: readonly string[], decision: { keep: string[]; remove: string[] }): void {
  const all = [...new Set(input)].sort();
  expect([...decision.keep, ...decision.remove].sort()).toEqual(all);
  expect(decision.keep.filter((k) => decision.remove.includes(k))).toEqual([]);
  expect([...decision.keep].sort()).toEqual(decision.keep);
  expect([...decision.remove].sort()).toEqual(decision.remove);
}

describe('retention properties', () => {
  it('sender: partitions the input, never removes the parent or in-flight names, keeps at most keep+2', () => {
    fc.assert(
      fc.property(locals, remotes, keepArb, inFlightArb, (local, remote, keep, inFlight) => {
        const decision = senderRetention({ local, remote, keep, inFlight });
        const input = local.map((s) => s.name);
        expectPartition(input, decision);
        const parent = newestCommon(local, remote)?.snapshot.name;
        if (parent !== undefined) expect(decision.keep).toContain(parent);
        for (const f of inFlight) if (input.includes(f)) expect(decision.keep).toContain(f);
        expect(decision.keep.length).toBeLessThanOrEqual(keep + 2);
        // The newest `keep` are always kept.
        const unique = [...new Set(input)].sort();
        for (const k of unique.slice(-keep)) expect(decision.keep).toContain(k);
      }),
    );
  });

  it('sender: the next plan after retention still finds the same parent', () => {
    fc.assert(
      fc.property(locals, remotes, keepArb, (local, remote, keep) => {
        const before = newestCommon(local, remote)?.snapshot.name ?? null;
        const { keep: kept } = senderRetention({ local, remote, keep, inFlight: [] });
        const after = newestCommon(
          local.filter((s) => kept.includes(s.name)),
          remote,
        )?.snapshot.name ?? null;
        expect(after).toBe(before);
      }),
    );
  });

  it('receiver: partitions the input, keeps the newest and in-flight names, keeps at most keep+1', () => {
    fc.assert(
      fc.property(remotes, keepArb, inFlightArb, (reps, keep, inFlight) => {
        const decision = receiverRetention({ replicas: reps, keep, inFlight });
        const input = reps.map((r) => r.name);
        expectPartition(input, decision);
        const newest = [...input].sort().at(-1);
        if (newest !== undefined) expect(decision.keep).toContain(newest);
        for (const f of inFlight) if (input.includes(f)) expect(decision.keep).toContain(f);
        expect(decision.keep.length).toBeLessThanOrEqual(keep + 1);
      }),
    );
  });

  it('removal is idempotent: running retention on what it kept removes nothing more', () => {
    fc.assert(
      fc.property(remotes, keepArb, (reps, keep) => {
        const first = receiverRetention({ replicas: reps, keep, inFlight: [] });
        const second = receiverRetention({ replicas: reps.filter((r) => first.keep.includes(r.name)), keep, inFlight: [] });
        expect(second.remove).toEqual([]);
      }),
    );
  });
});
