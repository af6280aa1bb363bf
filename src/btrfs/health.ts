// Pool health: devices (missing ones too), their error counters, the mount's
// read-only and degraded state, and free space, read before a run.

import { readFile, realpath } from 'node:fs/promises';
import { FerryError, toFerryError } from '../domain/errors.js';
import type { PoolDevice, PoolHealth } from '../domain/health.js';
import { runBtrfs } from './command.js';
import type { BtrfsContext } from './context.js';
import { findMount, parseDeviceStats, parseFilesystemShow, parseMountInfo, parseUsageOverall, type DeviceStatsEntry } from './parse-health.js';

const MOUNTINFO = '/proc/self/mountinfo';

/**
 * The btrfs filesystem holding `path` (the nearest existing directory above
 * it counts), by its device and mount point; null when it is on another
 * filesystem or nowhere. Two paths can hold snapshots of each other only when
 * their devices agree: a snapshot never crosses filesystems.
 */
export async function filesystemOf(path: string): Promise<{ device: string; mountPoint: string } | null> {
  let resolved: string;
  try {
    resolved = await realpath(path);
  } catch {
    return null;
  }
  const mount = findMount(parseMountInfo(await readFile(MOUNTINFO, 'utf8')), resolved);
  return mount?.fsType === 'btrfs' ? { device: mount.source, mountPoint: mount.mountPoint } : null;
}

export async function poolHealth(ctx: BtrfsContext, path: string, signal?: AbortSignal): Promise<PoolHealth> {
  let resolved: string;
  let mountinfo: string;
  try {
    resolved = await realpath(path);
    mountinfo = await readFile(MOUNTINFO, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
      throw new FerryError('NOT_FOUND', `Cannot check the health of the pool at ${path}: it does not exist.`, { cause: err });
    }
    throw toFerryError(err);
  }
  const mount = findMount(parseMountInfo(mountinfo), resolved);
  if (mount?.fsType !== 'btrfs') {
    throw new FerryError('NOT_BTRFS', `Cannot check the health of the pool at ${path}: it is not on a mounted btrfs filesystem.`);
  }

  const options = { ...ctx, failure: 'BTRFS_COMMAND_FAILED', refine: 'all', signal } as const;
  // `filesystem show` accepts a mount point but not a directory below one;
  // the other two take any path on the filesystem. No `device stats -c`: it
  // exits 64 whenever a counter is not zero.
  const [show, stats, usage] = await Promise.all([
    runBtrfs(['filesystem', 'show', '--raw', '--', mount.mountPoint], options),
    runBtrfs(['device', 'stats', '--', resolved], options),
    runBtrfs(['filesystem', 'usage', '-b', '--', resolved], options),
  ]);
  const shown = parseFilesystemShow(show.stdout);
  const counters = parseDeviceStats(stats.stdout);
  const overall = parseUsageOverall(usage.stdout);

  const zero = { write: 0, read: 0, flush: 0, corruption: 0, generation: 0 };
  const unmatched = new Set<DeviceStatsEntry>(counters);
  const devices: PoolDevice[] = shown.devices.map((device) => {
    // Stats name a device by its path, or by `devid:N` when it has none.
    const entry = counters.find((c) => (c.devid !== null ? c.devid === device.devid : c.path !== null && c.path === device.path));
    if (entry) unmatched.delete(entry);
    return { devid: device.devid, path: device.path, missing: device.missing, errors: entry?.errors ?? zero };
  });
  // A device `filesystem show` did not list (it printed "*** Some devices
  // missing" instead) still has counters under `devid:N`.
  for (const entry of [...unmatched]) {
    if (entry.devid === null || devices.some((d) => d.devid === entry.devid)) continue;
    devices.push({ devid: entry.devid, path: null, missing: true, errors: entry.errors });
    unmatched.delete(entry);
  }
  devices.sort((a, b) => a.devid - b.devid);

  const present = devices.filter((d) => !d.missing).length;
  const missingDevices = Math.max(devices.length - present, shown.totalDevices - present);
  const sum = (e: PoolDevice['errors']): number => e.write + e.read + e.flush + e.corruption + e.generation;
  // Counters under a path no listed device has are kept in the total.
  const errorCount = devices.reduce((n, d) => n + sum(d.errors), 0) + [...unmatched].reduce((n, e) => n + sum(e.errors), 0);

  return {
    path,
    mountPoint: mount.mountPoint,
    devices,
    missingDevices,
    errorCount,
    readOnly: mount.mountOptions.includes('ro') || mount.superOptions.includes('ro'),
    degraded: mount.superOptions.includes('degraded') || missingDevices > 0,
    freeBytes: overall.freeEstimated,
    sizeBytes: overall.deviceSize,
    allowsSetuid: !mount.mountOptions.includes('nosuid'),
    allowsDevices: !mount.mountOptions.includes('nodev'),
  };
}
