// Pure parsers for the output pool health reads: `btrfs filesystem show
// --raw`, `btrfs device stats`, `btrfs filesystem usage -b` and
// /proc/self/mountinfo. Like parse.ts, they take text and return values.

import { FerryError } from '../domain/errors.js';
import type { DeviceErrors } from '../domain/health.js';

export interface ShownDevice {
  devid: number;
  /** null when btrfs printed no usable path (a missing device). */
  path: string | null;
  missing: boolean;
}

export interface FilesystemShow {
  uuid: string | null;
  /** "Total devices N": every device of the filesystem, missing ones included. */
  totalDevices: number;
  /** The devid lines, in the order printed. */
  devices: ShownDevice[];
  /** The "*** Some devices missing" line, which stands for devices btrfs did not list. */
  someMissing: boolean;
}

/**
 * `btrfs filesystem show --raw` of one filesystem. Missing devices appear in
 * one of several forms, depending on the btrfs-progs version and on whether
 * the filesystem is mounted:
 *   devid    2 size 0 used 0 path  MISSING              (v6.2, mounted: empty path)
 *   devid    2 size 0 used 0 path /dev/loop1 ***MISSING***
 *   devid    2 size 3998639460352 used 0 path <missing disk> MISSING
 *   *** Some devices missing                            (unmounted: not listed at all)
 */
export function parseFilesystemShow(text: string): FilesystemShow {
  const total = /^\s*Total devices (\d+)/m.exec(text);
  if (!total?.[1]) {
    throw new FerryError('BTRFS_COMMAND_FAILED', 'The output of btrfs filesystem show has no "Total devices" line.', { detail: text });
  }
  const devices: ShownDevice[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*devid\s+(\d+)\s+size\s+\S+\s+used\s+\S+\s+path(?: (.*?))?\s*\r?$/.exec(line);
    if (!match?.[1]) continue;
    let rest = match[2] ?? '';
    const missing = /\*\*\*\s*MISSING\s*\*\*\*|(?:^|\s)MISSING$|<missing disk>/.test(rest);
    rest = rest
      .replace(/\s*\*\*\*\s*MISSING\s*\*\*\*\s*$/, '')
      .replace(/(?:^|\s+)MISSING$/, '')
      .replace(/<missing disk>/, '')
      .trim();
    devices.push({ devid: Number(match[1]), path: rest === '' ? null : rest, missing: missing || rest === '' });
  }
  return {
    uuid: /\buuid: ([0-9a-f-]{36})/i.exec(text)?.[1] ?? null,
    totalDevices: Number(total[1]),
    devices,
    someMissing: /^\s*\*\*\* Some devices missing/m.test(text),
  };
}

export interface DeviceStatsEntry {
  /** The device path; null when btrfs printed `[devid:N]`, which it does for a device it has no path for. */
  path: string | null;
  /** Known only from the `[devid:N]` form. */
  devid: number | null;
  errors: DeviceErrors;
}

const statKeys: Record<string, keyof DeviceErrors> = {
  write_io_errs: 'write',
  read_io_errs: 'read',
  flush_io_errs: 'flush',
  corruption_errs: 'corruption',
  generation_errs: 'generation',
};

/**
 * `btrfs device stats` (the default text form, without -c: with it btrfs
 * exits 64 whenever a counter is not zero). One line per counter:
 *   [/dev/loop0].write_io_errs    0
 *   [devid:2].corruption_errs     0
 */
export function parseDeviceStats(text: string): DeviceStatsEntry[] {
  const byName = new Map<string, DeviceStatsEntry>();
  for (const line of text.split('\n')) {
    const match = /^\[(.+)\]\.(\w+)\s+(\d+)\s*\r?$/.exec(line);
    if (!match) continue;
    const [, name = '', key = '', value = '0'] = match;
    const kind = statKeys[key];
    if (kind === undefined) continue;
    let entry = byName.get(name);
    if (!entry) {
      const devid = /^devid:(\d+)$/.exec(name)?.[1];
      entry = {
        path: devid === undefined ? name : null,
        devid: devid === undefined ? null : Number(devid),
        errors: { write: 0, read: 0, flush: 0, corruption: 0, generation: 0 },
      };
      byName.set(name, entry);
    }
    entry.errors = { ...entry.errors, [kind]: Number(value) };
  }
  if (byName.size === 0 && text.trim() !== '') {
    throw new FerryError('BTRFS_COMMAND_FAILED', 'The output of btrfs device stats has no counter lines.', { detail: text });
  }
  return [...byName.values()];
}

export interface UsageOverall {
  /** "Device size": raw bytes of every device, missing ones included. */
  deviceSize: number;
  /** "Device missing": raw bytes of the missing devices; 0 when btrfs-progs does not print the line. */
  deviceMissing: number;
  /** "Free (estimated)". */
  freeEstimated: number;
}

/** The "Overall:" numbers of `btrfs filesystem usage -b`. */
export function parseUsageOverall(text: string): UsageOverall {
  const field = (label: string): number | null => {
    const match = new RegExp(`^\\s*${label.replace(/[()]/g, '\\$&')}:\\s*(\\d+)`, 'm').exec(text);
    return match?.[1] ? Number(match[1]) : null;
  };
  const required = (label: string): number => {
    const value = field(label);
    if (value === null) {
      throw new FerryError('BTRFS_COMMAND_FAILED', `The output of btrfs filesystem usage has no "${label}" line.`, { detail: text });
    }
    return value;
  };
  return { deviceSize: required('Device size'), deviceMissing: field('Device missing') ?? 0, freeEstimated: required('Free (estimated)') };
}

export interface MountEntry {
  id: number;
  parentId: number;
  /** The filesystem's device number, `major:minor`: every mount of one btrfs filesystem shows the same. */
  device: string;
  /** What of the filesystem is mounted here, from its top: `/` for all of it, `/@home` for a subvolume (unescaped). */
  root: string;
  /** Unescaped mount point. */
  mountPoint: string;
  /** Per-mount options (a read-only bind mount has `ro` here only). */
  mountOptions: string[];
  fsType: string;
  source: string;
  /** Per-filesystem options: `degraded`, and `ro` when btrfs turned the whole filesystem read-only. */
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as three octal digits. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * /proc/self/mountinfo (proc(5)):
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 * The optional fields before " - " vary in number.
 */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (fields.length < 10 || dash < 0) continue;
    const [id = '', parentId = '', device = '', root = '', mountPoint = '', options = ''] = fields;
    entries.push({
      id: Number(id),
      parentId: Number(parentId),
      device,
      root: unescapeMountField(root),
      mountPoint: unescapeMountField(mountPoint),
      mountOptions: options.split(','),
      fsType: unescapeMountField(fields[dash + 1] ?? ''),
      source: unescapeMountField(fields[dash + 2] ?? ''),
      superOptions: (fields[dash + 3] ?? '').split(','),
    });
  }
  return entries;
}

/**
 * The mount that holds the absolute, symlink-free `path`: the longest mount
 * point that is `path` or one of its parents, and of several mounts stacked
 * there, the one on top (no other mount there has it as parent).
 */
export function findMount(entries: readonly MountEntry[], path: string): MountEntry | null {
  const contains = (mountPoint: string): boolean =>
    mountPoint === '/' || path === mountPoint || path.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`);
  let best: MountEntry[] = [];
  for (const entry of entries) {
    if (!contains(entry.mountPoint)) continue;
    const length = best[0]?.mountPoint.length ?? -1;
    if (entry.mountPoint.length > length) best = [entry];
    else if (entry.mountPoint.length === length) best.push(entry);
  }
  const top = best.filter((entry) => !best.some((other) => other.parentId === entry.id && other !== entry));
  return top.at(-1) ?? best.at(-1) ?? null;
}
