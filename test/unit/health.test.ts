// Pool health findings and the per-task policy, without btrfs.

import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '../../src/domain/errors.js';
import {
  assessPool,
  decide,
  defaultHealthPolicy,
  describeFindings,
  type DegradedChoice,
  type HealthCode,
  type HealthFinding,
  type HealthPolicy,
  type PoolDevice,
  type PoolHealth,
  type PoolRole,
} from '../../src/domain/health.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const zero = { write: 0, read: 0, flush: 0, corruption: 0, generation: 0 };

function device(devid: number, extra: Partial<PoolDevice> = {}): PoolDevice {
  return { devid, path: `/dev/sd${String.fromCharCode(96 + devid)}`, missing: false, errors: zero, ...extra };
}

function health(extra: Partial<PoolHealth> = {}): PoolHealth {
  return {
    path: '/srv/pool',
    mountPoint: '/srv/pool',
    devices: [device(1), device(2)],
    missingDevices: 0,
    errorCount: 0,
    readOnly: false,
    degraded: false,
    freeBytes: 500 * GiB,
    sizeBytes: 2000 * GiB,
    allowsSetuid: false,
    allowsDevices: false,
    ...extra,
  };
}

/** raid1 with devid 2 gone, mounted -o degraded. */
const degraded = health({ devices: [device(1), { devid: 2, path: null, missing: true, errors: zero }], missingDevices: 1, degraded: true });
const readOnly = health({ readOnly: true });

const codes = (findings: readonly HealthFinding[]): [PoolRole, string, HealthCode][] => findings.map((f) => [f.pool, f.severity, f.code]);

describe('assessPool', () => {
  it.each<[string, PoolRole, PoolHealth, [PoolRole, string, HealthCode][]]>([
    ['a healthy pool', 'target', health(), []],
    [
      'a degraded target (critical)',
      'target',
      degraded,
      [
        ['target', 'critical', 'POOL_DEGRADED'],
        ['target', 'critical', 'POOL_MISSING_DEVICE'],
      ],
    ],
    [
      'a degraded source (a warning: it still reads every block)',
      'source',
      degraded,
      [
        ['source', 'warning', 'POOL_DEGRADED'],
        ['source', 'warning', 'POOL_MISSING_DEVICE'],
      ],
    ],
    ['a pool mounted -o degraded with every device present', 'target', health({ degraded: true }), [['target', 'critical', 'POOL_DEGRADED']]],
    ['a read-only target', 'target', readOnly, [['target', 'critical', 'POOL_READ_ONLY']]],
    ['a read-only source', 'source', readOnly, [['source', 'critical', 'POOL_READ_ONLY']]],
    [
      'device errors',
      'source',
      health({ devices: [device(1, { errors: { ...zero, corruption: 2, read: 1 } }), device(2)], errorCount: 3 }),
      [['source', 'warning', 'POOL_DEVICE_ERRORS']],
    ],
    ['errors of a device the pool does not list', 'target', health({ errorCount: 4 }), [['target', 'warning', 'POOL_DEVICE_ERRORS']]],
    ['less than 1 GiB free on a large pool', 'target', health({ freeBytes: 900 * MiB }), [['target', 'warning', 'POOL_LOW_SPACE']]],
    ['a small pool with over a tenth free', 'target', health({ sizeBytes: 512 * MiB, freeBytes: 216 * MiB }), []],
    ['a small pool with under a tenth free', 'target', health({ sizeBytes: 512 * MiB, freeBytes: 40 * MiB }), [['target', 'warning', 'POOL_LOW_SPACE']]],
  ])('%s', (_, role, pool, expected) => {
    expect(codes(assessPool(role, pool))).toEqual(expected);
  });

  it('says what is wrong in plain words', () => {
    const messages = assessPool('target', degraded).map((f) => f.message);
    expect(messages).toEqual([
      'the target pool is degraded (1 device missing)',
      'devid 2 of the target pool is missing (1 of 2 devices): replace it with btrfs replace, or add a device and remove the missing one',
    ]);
    const [errors] = assessPool('source', health({ devices: [device(1, { errors: { ...zero, corruption: 2, write: 1 } })], errorCount: 3 }));
    expect(errors?.message).toBe(
      'device /dev/sda (devid 1) of the source pool has recorded 1 write error, 2 corruption errors (btrfs device stats, since the counters were last reset)',
    );
    expect(assessPool('source', readOnly)[0]?.message).toBe('the source pool is mounted read-only, so no snapshot of the share can be taken');
  });

  it('counts missing devices btrfs did not list ("*** Some devices missing")', () => {
    const [, missing] = assessPool('target', health({ devices: [device(1), device(2)], missingDevices: 2, degraded: true }));
    expect(missing?.message).toMatch(/^2 devices of the target pool are missing \(2 of 4 devices\)/);
  });

  it.each<[string, PoolRole, Partial<PoolHealth>, boolean, string | null]>([
    ['a target mounted nosuid,nodev', 'target', {}, true, null],
    ['a target mounted without nosuid', 'target', { allowsSetuid: true }, true, 'without nosuid:'],
    ['a target mounted without either', 'target', { allowsSetuid: true, allowsDevices: true }, true, 'without nosuid,nodev:'],
    ['a target without either, for a peer’s trail', 'target', { allowsSetuid: true, allowsDevices: true }, false, null],
    ['a source without either', 'source', { allowsSetuid: true, allowsDevices: true }, true, null],
  ])('reports %s as POOL_MOUNT_OPEN (info) only when asked, for a receiving pool', (_label, role, extra, mountSafety, says) => {
    const found = assessPool(role, health(extra), { mountSafety });
    if (says === null) expect(found).toEqual([]);
    else {
      expect(codes(found)).toEqual([[role, 'info', 'POOL_MOUNT_OPEN']]);
      expect(found[0]?.message).toContain(says);
    }
  });

  it('takes a low-space threshold from the options', () => {
    const pool = health({ freeBytes: 10 * GiB });
    expect(codes(assessPool('target', pool))).toEqual([]);
    const [low] = assessPool('target', pool, { lowSpaceBytes: 20 * GiB });
    expect(low?.code).toBe('POOL_LOW_SPACE');
    expect(low?.message).toBe('the target pool has 10.0 GiB free, below the 20.0 GiB threshold');
    expect(assessPool('target', health({ freeBytes: 900 * MiB }), { lowSpaceBytes: 0 })).toEqual([]);
  });
});

describe('decide', () => {
  const both = (source: PoolHealth, target: PoolHealth): HealthFinding[] => [...assessPool('source', source), ...assessPool('target', target)];
  const policy = (onDegradedSource: DegradedChoice, onDegradedTarget: DegradedChoice): HealthPolicy => ({ onDegradedSource, onDegradedTarget });

  it('keeps replicating from a degraded source and holds writes to a degraded target by default', () => {
    expect(defaultHealthPolicy).toEqual({ onDegradedSource: 'replicate', onDegradedTarget: 'hold' });
    expect(Object.isFrozen(defaultHealthPolicy)).toBe(true);
    const fromDegraded = decide(both(degraded, health()));
    expect(fromDegraded.proceed).toBe(true);
    expect(fromDegraded.reason).toMatch(/^the source pool is degraded \(1 device missing\): replicating anyway/);
    expect(decide(both(health(), degraded))).toEqual({
      proceed: false,
      reason:
        "the target pool is degraded (1 device missing): holding writes until it is repaired; set the task's policy to 'replicate' to write anyway",
    });
  });

  it.each<[string, PoolHealth, PoolHealth, HealthPolicy, boolean]>([
    ['healthy pools', health(), health(), defaultHealthPolicy, true],
    ['degraded source, replicate', degraded, health(), policy('replicate', 'hold'), true],
    ['degraded source, hold', degraded, health(), policy('hold', 'hold'), false],
    ['degraded target, hold', health(), degraded, policy('replicate', 'hold'), false],
    ['degraded target, replicate', health(), degraded, policy('replicate', 'replicate'), true],
    ['both degraded, both replicate', degraded, degraded, policy('replicate', 'replicate'), true],
    ['both degraded, source hold only', degraded, degraded, policy('hold', 'replicate'), false],
    ['both degraded, target hold only', degraded, degraded, policy('replicate', 'hold'), false],
    ['read-only target, even under replicate', health(), readOnly, policy('replicate', 'replicate'), false],
    ['read-only source, even under replicate', readOnly, health(), policy('replicate', 'replicate'), false],
    ['device errors and low space are recorded, not held for', health({ errorCount: 5 }), health({ freeBytes: 1 }), policy('hold', 'hold'), true],
  ])('%s', (_, source, target, chosen, proceed) => {
    const decision = decide(both(source, target), chosen);
    expect(decision.proceed).toBe(proceed);
    // A hold always says why; going ahead says why only when a pool is degraded.
    if (!proceed) expect(decision.reason).toEqual(expect.any(String));
    else expect(decision.reason === null).toBe(!source.degraded && !target.degraded);
  });

  it('says plainly what a policy that writes to a degraded target does', () => {
    expect(decide(both(health(), degraded), policy('replicate', 'replicate')).reason).toBe(
      "the target pool is degraded (1 device missing): writing anyway, as the task's policy says, though the new copy has no redundancy until the pool is repaired",
    );
    expect(decide(both(degraded, health()), policy('hold', 'hold')).reason).toBe(
      "the source pool is degraded (1 device missing): holding the run until it is repaired, as the task's policy says; set it to 'replicate' to replicate anyway",
    );
  });

  it('gives every reason to hold, read-only first', () => {
    const decision = decide(both(degraded, { ...readOnly, ...degraded, readOnly: true }), policy('hold', 'hold'));
    expect(decision.proceed).toBe(false);
    const reason = decision.reason ?? '';
    const parts = [
      'the target pool is mounted read-only, so nothing can be received into it: holding the run until it is mounted read-write again',
      "the source pool is degraded (1 device missing): holding the run until it is repaired",
      'the target pool is degraded (1 device missing): holding writes until it is repaired',
    ];
    expect(parts.map((part) => reason.indexOf(part))).toEqual([0, expect.any(Number), expect.any(Number)]);
    expect(reason.indexOf(parts[1]!)).toBeGreaterThan(0);
    expect(reason.indexOf(parts[2]!)).toBeGreaterThan(reason.indexOf(parts[1]!));
  });

  it('fails a held run at once: its code is permanent, and the next scheduled run looks again', () => {
    expect(errorCatalogue.POOL_UNHEALTHY.class).toBe('permanent');
  });
});

describe('describeFindings', () => {
  it('puts the findings on one line for a trail', () => {
    expect(describeFindings([])).toBeNull();
    expect(describeFindings(assessPool('source', degraded))).toBe(
      'warning POOL_DEGRADED: the source pool is degraded (1 device missing); ' +
        'warning POOL_MISSING_DEVICE: devid 2 of the source pool is missing (1 of 2 devices): ' +
        'replace it with btrfs replace, or add a device and remove the missing one',
    );
  });
});
