// Pool health against real btrfs: a healthy pool, a two-device raid1 pool
// mounted degraded after losing a device, read-only mounts, and a device
// whose error counters rose after reading a corrupted block.

import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Btrfs } from '../../src/btrfs/index.js';
import { assessPool, decide, defaultHealthPolicy, describeFindings, type HealthFinding } from '../../src/domain/health.js';
import { createPool, createRaid1Pool, unmount, usePools } from '../support/pools.js';
import { runCommand } from '../support/run.js';
import { rejection } from '../support/errors.js';

usePools();

const btrfs = new Btrfs();
const MiB = 1024 * 1024;
const zero = { write: 0, read: 0, flush: 0, corruption: 0, generation: 0 };

async function must(file: string, args: string[]): Promise<void> {
  const result = await runCommand(file, args);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')}: ${result.stderr.trim()}`);
}

const codes = (findings: readonly HealthFinding[]): string[] => findings.map((f) => `${f.pool} ${f.severity} ${f.code}`);

describe('poolHealth', () => {
  it('reports a healthy single-device pool, asked at its mount point or below it', async () => {
    const pool = await createPool();
    const health = await btrfs.poolHealth(pool.path);
    expect(health).toEqual({
      path: pool.path,
      mountPoint: pool.path,
      devices: [{ devid: 1, path: pool.loopDevice, missing: false, errors: zero }],
      missingDevices: 0,
      errorCount: 0,
      readOnly: false,
      degraded: false,
      freeBytes: health.freeBytes,
      sizeBytes: 256 * MiB,
      allowsSetuid: false,
      allowsDevices: false,
    });
    expect(health.freeBytes).toBeGreaterThan(100 * MiB);
    expect(health.freeBytes).toBeLessThan(256 * MiB);
    expect(assessPool('target', health)).toEqual([]);

    // `btrfs filesystem show` refuses a directory below a mount point; the health check does not.
    await btrfs.create(join(pool.path, 'share'));
    await mkdir(join(pool.path, 'share', 'dir'));
    const below = await btrfs.poolHealth(join(pool.path, 'share', 'dir'));
    expect(below).toEqual({ ...health, path: join(pool.path, 'share', 'dir'), freeBytes: below.freeBytes });
  });

  it('refuses a missing path and a path off btrfs', async () => {
    expect((await rejection(btrfs.poolHealth('/nonexistent/ferry-pool'))).code).toBe('NOT_FOUND');
    expect((await rejection(btrfs.poolHealth('/dev/shm'))).code).toBe('NOT_BTRFS');
  });

  it('reports a raid1 pool with both devices as healthy', async () => {
    const pool = await createRaid1Pool();
    const [first, second] = pool.loopDevices;
    const health = await btrfs.poolHealth(pool.path);
    expect(health.devices).toEqual([
      { devid: 1, path: first, missing: false, errors: zero },
      { devid: 2, path: second, missing: false, errors: zero },
    ]);
    expect(health).toMatchObject({ missingDevices: 0, errorCount: 0, degraded: false, readOnly: false, sizeBytes: 512 * MiB });
    expect(assessPool('source', health)).toEqual([]);
  });

  it('reports a raid1 pool mounted degraded with a missing device, and the policy decides', async () => {
    const pool = await createRaid1Pool();
    const [first] = pool.loopDevices;
    await writeFile(join(pool.path, 'data'), 'kept on both mirrors');
    await pool.degrade();
    expect(pool.loopDevices).toEqual([first]);

    const health = await btrfs.poolHealth(pool.path);
    expect(health.devices).toEqual([
      { devid: 1, path: first, missing: false, errors: zero },
      { devid: 2, path: null, missing: true, errors: zero },
    ]);
    expect(health).toMatchObject({ missingDevices: 1, errorCount: 0, degraded: true, readOnly: false });
    expect(await readFile(join(pool.path, 'data'), 'utf8')).toBe('kept on both mirrors');

    const asTarget = assessPool('target', health);
    expect(codes(asTarget)).toEqual(['target critical POOL_DEGRADED', 'target critical POOL_MISSING_DEVICE']);
    expect(describeFindings(asTarget)).toContain('critical POOL_DEGRADED: the target pool is degraded (1 device missing)');
    expect(decide(asTarget, defaultHealthPolicy)).toEqual({
      proceed: false,
      reason: "the target pool is degraded (1 device missing): holding writes until it is repaired; set the task's policy to 'replicate' to write anyway",
    });
    expect(decide(asTarget, { onDegradedSource: 'replicate', onDegradedTarget: 'replicate' }).proceed).toBe(true);

    const asSource = assessPool('source', health);
    expect(codes(asSource)).toEqual(['source warning POOL_DEGRADED', 'source warning POOL_MISSING_DEVICE']);
    const fromDegraded = decide(asSource, defaultHealthPolicy);
    expect(fromDegraded.proceed).toBe(true);
    expect(fromDegraded.reason).toMatch(/^the source pool is degraded \(1 device missing\): replicating anyway/);
    expect(decide(asSource, { onDegradedSource: 'hold', onDegradedTarget: 'hold' }).proceed).toBe(false);
  });

  it('reports a degraded pool mounted read-only: held whatever the policy', async () => {
    const pool = await createRaid1Pool();
    await pool.degrade({ readOnly: true });
    const health = await btrfs.poolHealth(pool.path);
    expect(health).toMatchObject({ missingDevices: 1, degraded: true, readOnly: true });
    const findings = assessPool('target', health);
    expect(codes(findings)).toEqual(['target critical POOL_READ_ONLY', 'target critical POOL_DEGRADED', 'target critical POOL_MISSING_DEVICE']);
    expect(decide(findings, { onDegradedSource: 'replicate', onDegradedTarget: 'replicate' }).proceed).toBe(false);
  });

  it('reports a pool remounted read-only, and a read-only bind mount of a writable one', async () => {
    const pool = await createPool();
    const bind = join(pool.path, 'ro-view');
    await mkdir(bind);
    await must('mount', ['--bind', '-o', 'ro', pool.path, bind]);
    try {
      expect((await btrfs.poolHealth(pool.path)).readOnly).toBe(false);
      const viaBind = await btrfs.poolHealth(bind);
      expect(viaBind).toMatchObject({ mountPoint: bind, readOnly: true, degraded: false });
    } finally {
      await unmount(bind);
    }

    await must('mount', ['-o', 'remount,ro', pool.path]);
    const health = await btrfs.poolHealth(pool.path);
    expect(health).toMatchObject({ readOnly: true, degraded: false, missingDevices: 0 });
    const findings = assessPool('target', health);
    expect(codes(findings)).toEqual(['target critical POOL_READ_ONLY']);
    expect(decide(findings, { onDegradedSource: 'replicate', onDegradedTarget: 'replicate' })).toEqual({
      proceed: false,
      reason: 'the target pool is mounted read-only, so nothing can be received into it: holding the run until it is mounted read-write again',
    });
  });

  it('tells the receiving admin a pool mounted without nosuid,nodev (POOL_MOUNT_OPEN), and says nothing once it is', async () => {
    const pool = await createPool();
    // Test pools are mounted nosuid,nodev, as the README recommends.
    expect(await btrfs.poolHealth(pool.path)).toMatchObject({ allowsSetuid: false, allowsDevices: false });
    expect(assessPool('target', await btrfs.poolHealth(pool.path), { mountSafety: true })).toEqual([]);
    await must('mount', ['-o', 'remount,suid,dev', pool.path]);
    const open = await btrfs.poolHealth(pool.path);
    expect(open).toMatchObject({ allowsSetuid: true, allowsDevices: true });
    expect(codes(assessPool('target', open, { mountSafety: true }))).toEqual(['target info POOL_MOUNT_OPEN']);
    // A sending peer's trail is not told how this appliance mounts its pools.
    expect(assessPool('target', open)).toEqual([]);
    await must('mount', ['-o', 'remount,nosuid,dev', pool.path]);
    expect(assessPool('target', await btrfs.poolHealth(pool.path), { mountSafety: true })[0]?.message).toMatch(/mounted without nodev:/);
  });

  it('reports the error counters of a device that returned a corrupted block', async () => {
    const pool = await createPool({ sizeMiB: 128 });
    const marker = Buffer.from('FERRY-HEALTH-CORRUPTION-MARKER');
    const file = join(pool.path, 'victim');
    await writeFile(file, Buffer.concat(Array.from({ length: 4096 }, () => marker)));
    // Unmounting writes everything out; then overwrite the file's first block in the image.
    await unmount(pool.path);
    const image = await readFile(pool.image);
    const offset = image.indexOf(marker);
    expect(offset).toBeGreaterThan(0);
    const handle = await open(pool.image, 'r+');
    try {
      await handle.write(Buffer.alloc(4096, 0x58), 0, 4096, offset);
    } finally {
      await handle.close();
    }
    await must('mount', [pool.loopDevice, pool.path]);
    // The checksum no longer matches: the read fails and btrfs counts a corruption error.
    await expect(readFile(file)).rejects.toMatchObject({ code: 'EIO' });

    const health = await btrfs.poolHealth(pool.path);
    expect(health.errorCount).toBeGreaterThan(0);
    const [dev] = health.devices;
    expect(dev?.errors.corruption).toBe(health.errorCount);
    expect(health).toMatchObject({ missingDevices: 0, degraded: false, readOnly: false });
    const findings = assessPool('source', health);
    expect(codes(findings)).toEqual(['source warning POOL_DEVICE_ERRORS']);
    expect(findings[0]?.message).toMatch(new RegExp(`^device ${pool.loopDevice} \\(devid 1\\) of the source pool has recorded \\d+ corruption errors?`));
    expect(decide(findings, defaultHealthPolicy)).toEqual({ proceed: true, reason: null });
  });
});
