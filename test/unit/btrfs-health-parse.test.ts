// The pool health parsers against real output, captured from btrfs-progs
// v6.2 (kernel 6.18) on this machine: a two-device raid1 pool of loop
// devices, healthy and then mounted `-o degraded` with its second device
// gone; a single-device pool with a corrupted data block that was read.

import { describe, expect, it } from 'vitest';
import {
  findMount,
  parseDeviceStats,
  parseFilesystemShow,
  parseMountInfo,
  parseUsageOverall,
  type MountEntry,
} from '../../src/btrfs/index.js';
import { FerryError } from '../../src/domain/errors.js';

const SHOW_RAID1 = [
  'Label: none  uuid: 47e839a5-3046-4ad0-a6ca-724a9333990d\n',
  '\tTotal devices 2 FS bytes used 147456\n',
  '\tdevid    1 size 268435456 used 109051904 path /dev/loop0\n',
  '\tdevid    2 size 268435456 used 109051904 path /dev/loop1\n',
  '\n',
].join('');

/** Mounted degraded: v6.2 lists the missing device with an empty path and "MISSING" (two spaces before it). */
const SHOW_DEGRADED_MOUNTED = [
  'Label: none  uuid: 47e839a5-3046-4ad0-a6ca-724a9333990d\n',
  '\tTotal devices 2 FS bytes used 147456\n',
  '\tdevid    1 size 268435456 used 109051904 path /dev/loop0\n',
  '\tdevid    2 size 0 used 0 path  MISSING\n',
  '\n',
].join('');

/** The same filesystem unmounted (`show --raw /dev/loop0`): the missing device is not listed at all. */
const SHOW_DEGRADED_UNMOUNTED = [
  'Label: none  uuid: 47e839a5-3046-4ad0-a6ca-724a9333990d\n',
  '\tTotal devices 2 FS bytes used 147456\n',
  '\tdevid    1 size 268435456 used 109051904 path /dev/loop0\n',
  '\t*** Some devices missing\n',
  '\n',
].join('');

const STATS_RAID1 = [
  '[/dev/loop0].write_io_errs    0\n',
  '[/dev/loop0].read_io_errs     0\n',
  '[/dev/loop0].flush_io_errs    0\n',
  '[/dev/loop0].corruption_errs  0\n',
  '[/dev/loop0].generation_errs  0\n',
  '[/dev/loop1].write_io_errs    0\n',
  '[/dev/loop1].read_io_errs     0\n',
  '[/dev/loop1].flush_io_errs    0\n',
  '[/dev/loop1].corruption_errs  0\n',
  '[/dev/loop1].generation_errs  0\n',
].join('');

/** A device without a path (the missing one) is named by its devid. */
const STATS_DEGRADED = [
  '[/dev/loop0].write_io_errs    0\n',
  '[/dev/loop0].read_io_errs     0\n',
  '[/dev/loop0].flush_io_errs    0\n',
  '[/dev/loop0].corruption_errs  0\n',
  '[/dev/loop0].generation_errs  0\n',
  '[devid:2].write_io_errs    0\n',
  '[devid:2].read_io_errs     0\n',
  '[devid:2].flush_io_errs    0\n',
  '[devid:2].corruption_errs  0\n',
  '[devid:2].generation_errs  0\n',
].join('');

/** After reading a file whose data block was overwritten in the image (`-c` makes this exit 64). */
const STATS_CORRUPTED = [
  '[/dev/loop1].write_io_errs    0\n',
  '[/dev/loop1].read_io_errs     0\n',
  '[/dev/loop1].flush_io_errs    0\n',
  '[/dev/loop1].corruption_errs  2\n',
  '[/dev/loop1].generation_errs  0\n',
].join('');

const USAGE_DEGRADED = [
  'Overall:\n',
  '    Device size:\t\t         536870912\n',
  '    Device allocated:\t\t         218103808\n',
  '    Device unallocated:\t\t         318767104\n',
  '    Device missing:\t\t         268435456\n',
  '    Device slack:\t\t                 0\n',
  '    Used:\t\t\t            294912\n',
  '    Free (estimated):\t\t         226492416\t(min: 226492416)\n',
  '    Free (statfs, df):\t\t         146276352\n',
  '    Data ratio:\t\t\t              2.00\n',
  '    Metadata ratio:\t\t              2.00\n',
  '    Global reserve:\t\t           5767168\t(used: 0)\n',
  '    Multiple profiles:\t\t                no\n',
  '\n',
  'Data,RAID1: Size:67108864, Used:0 (0.00%)\n',
  '   /dev/loop0\t  67108864\n',
  '   missing\t  67108864\n',
  '\n',
  'Unallocated:\n',
  '   /dev/loop0\t 159383552\n',
  '   missing\t 159383552\n',
].join('');

/**
 * /proc/self/mountinfo: the degraded pool read-write; remounted read-only;
 * a read-only bind mount of it (ro per mount, rw per filesystem); a bind
 * mount whose name has a space.
 */
const MOUNTINFO = [
  '22 1 0:20 / / rw,relatime shared:1 - ext4 /dev/vda rw\n',
  '30 22 0:26 / /dev/shm rw,nosuid,nodev shared:5 - tmpfs tmpfs rw\n',
  '43 30 0:39 / /dev/shm/explore-health/mnt rw,relatime - btrfs /dev/loop0 rw,degraded,ssd,discard=async,space_cache=v2,subvolid=5,subvol=/\n',
  '42 30 0:39 / /dev/shm/explore-health/bind ro,relatime - btrfs /dev/loop0 rw,degraded,ssd,discard=async,space_cache=v2,subvolid=5,subvol=/\n',
  '44 30 0:39 / /dev/shm/explore-health/sp\\040ace rw,relatime - btrfs /dev/loop0 rw,degraded,ssd,discard=async,space_cache=v2,subvolid=5,subvol=/\n',
  '45 30 0:39 /@data\\040set /srv/data rw,relatime - btrfs /dev/loop0 rw,space_cache=v2,subvolid=256,subvol=/@data\\040set\n',
].join('');
const MOUNTINFO_REMOUNTED_RO =
  '43 30 0:39 / /dev/shm/explore-health/mnt ro,relatime - btrfs /dev/loop0 ro,degraded,ssd,discard=async,space_cache=v2,subvolid=5,subvol=/\n';

describe('parseFilesystemShow', () => {
  it('lists every device of a healthy raid1 pool', () => {
    expect(parseFilesystemShow(SHOW_RAID1)).toEqual({
      uuid: '47e839a5-3046-4ad0-a6ca-724a9333990d',
      totalDevices: 2,
      devices: [
        { devid: 1, path: '/dev/loop0', missing: false },
        { devid: 2, path: '/dev/loop1', missing: false },
      ],
      someMissing: false,
    });
  });

  it('reads the mounted form of a missing device: an empty path, then MISSING', () => {
    const shown = parseFilesystemShow(SHOW_DEGRADED_MOUNTED);
    expect(shown.devices).toEqual([
      { devid: 1, path: '/dev/loop0', missing: false },
      { devid: 2, path: null, missing: true },
    ]);
    expect(shown.someMissing).toBe(false);
  });

  it('reads the unmounted form: the device is left out and "*** Some devices missing" stands for it', () => {
    const shown = parseFilesystemShow(SHOW_DEGRADED_UNMOUNTED);
    expect(shown.totalDevices).toBe(2);
    expect(shown.devices).toEqual([{ devid: 1, path: '/dev/loop0', missing: false }]);
    expect(shown.someMissing).toBe(true);
  });

  // Forms other btrfs-progs versions print (quoted in the fstests filter
  // patch and in user reports), not captured here.
  it.each([
    ['\tdevid    2 size 0 used 0 path /dev/loop1 ***MISSING***\n', '/dev/loop1'],
    ['\tdevid    2 size 3998639460352 used 0 path <missing disk> MISSING\n', null],
  ])('reads the missing device in %j', (line, path) => {
    const shown = parseFilesystemShow(`Label: none  uuid: 47e839a5-3046-4ad0-a6ca-724a9333990d\n\tTotal devices 2 FS bytes used 1\n${line}`);
    expect(shown.devices).toEqual([{ devid: 2, path, missing: true }]);
  });

  it('does not take a device named MISSING-something for a missing one', () => {
    const shown = parseFilesystemShow('\tTotal devices 1 FS bytes used 1\n\tdevid    1 size 1 used 1 path /dev/mapper/MISSING\n');
    expect(shown.devices).toEqual([{ devid: 1, path: '/dev/mapper/MISSING', missing: false }]);
  });

  it('refuses output without a "Total devices" line', () => {
    expect(() => parseFilesystemShow('ERROR: not a valid btrfs filesystem: /x\n')).toThrow(FerryError);
  });
});

describe('parseDeviceStats', () => {
  const zero = { write: 0, read: 0, flush: 0, corruption: 0, generation: 0 };

  it('gives the five counters of every device, keyed by path', () => {
    expect(parseDeviceStats(STATS_RAID1)).toEqual([
      { path: '/dev/loop0', devid: null, errors: zero },
      { path: '/dev/loop1', devid: null, errors: zero },
    ]);
  });

  it('names a device without a path by its devid', () => {
    expect(parseDeviceStats(STATS_DEGRADED)).toEqual([
      { path: '/dev/loop0', devid: null, errors: zero },
      { path: null, devid: 2, errors: zero },
    ]);
  });

  it('reads non-zero counters', () => {
    expect(parseDeviceStats(STATS_CORRUPTED)).toEqual([{ path: '/dev/loop1', devid: null, errors: { ...zero, corruption: 2 } }]);
  });

  it('ignores counters it does not know and refuses text with none at all', () => {
    expect(parseDeviceStats('[/dev/sda].write_io_errs 3\n[/dev/sda].future_errs 9\n')).toEqual([
      { path: '/dev/sda', devid: null, errors: { ...zero, write: 3 } },
    ]);
    expect(() => parseDeviceStats('something else\n')).toThrow(FerryError);
    expect(parseDeviceStats('')).toEqual([]);
  });
});

describe('parseUsageOverall', () => {
  it('reads the raw size, the missing bytes and the estimated free space', () => {
    expect(parseUsageOverall(USAGE_DEGRADED)).toEqual({ deviceSize: 536870912, deviceMissing: 268435456, freeEstimated: 226492416 });
  });

  it('takes a missing "Device missing" line as 0 and refuses output without the required ones', () => {
    expect(parseUsageOverall('    Device size:\t\t 100\n    Free (estimated):\t\t 40\t(min: 20)\n')).toEqual({
      deviceSize: 100,
      deviceMissing: 0,
      freeEstimated: 40,
    });
    expect(() => parseUsageOverall('    Device size:\t\t 100\n')).toThrow(FerryError);
  });
});

describe('parseMountInfo and findMount', () => {
  const entries = parseMountInfo(MOUNTINFO);
  const at = (path: string): MountEntry | null => findMount(entries, path);

  it('reads the fields around the optional ones and unescapes octal escapes', () => {
    expect(entries).toHaveLength(6);
    expect(entries[2]).toEqual({
      id: 43,
      parentId: 30,
      device: '0:39',
      root: '/',
      mountPoint: '/dev/shm/explore-health/mnt',
      mountOptions: ['rw', 'relatime'],
      fsType: 'btrfs',
      source: '/dev/loop0',
      superOptions: ['rw', 'degraded', 'ssd', 'discard=async', 'space_cache=v2', 'subvolid=5', 'subvol=/'],
    });
    expect(entries[0]?.fsType).toBe('ext4');
    expect(entries[4]?.mountPoint).toBe('/dev/shm/explore-health/sp ace');
    // A subvolume mounted by itself: what of the filesystem is there, from its top.
    expect(entries[5]).toMatchObject({ device: '0:39', root: '/@data set', mountPoint: '/srv/data' });
  });

  it('finds the longest mount point that holds a path, on a component boundary', () => {
    expect(at('/dev/shm/explore-health/mnt')?.id).toBe(43);
    expect(at('/dev/shm/explore-health/mnt/share/.snapshots')?.id).toBe(43);
    expect(at('/dev/shm/explore-health/mnt2')?.id).toBe(30);
    expect(at('/dev/shm/explore-health/sp ace/x')?.id).toBe(44);
    expect(at('/etc')?.id).toBe(22);
    expect(findMount([], '/etc')).toBeNull();
  });

  it('tells a read-only bind mount (ro per mount) from a filesystem remounted read-only (ro in both)', () => {
    expect(at('/dev/shm/explore-health/bind')?.mountOptions).toContain('ro');
    expect(at('/dev/shm/explore-health/bind')?.superOptions).not.toContain('ro');
    const [remounted] = parseMountInfo(MOUNTINFO_REMOUNTED_RO);
    expect(remounted?.mountOptions).toContain('ro');
    expect(remounted?.superOptions).toContain('ro');
  });

  it('takes the mount on top when several are stacked on one mount point', () => {
    const stacked = parseMountInfo(
      [
        '22 1 0:20 / / rw - ext4 /dev/vda rw\n',
        '50 22 0:40 / /srv/pool rw - btrfs /dev/sdb rw\n',
        '51 50 0:41 / /srv/pool ro - btrfs /dev/sdc ro\n',
      ].join(''),
    );
    expect(findMount(stacked, '/srv/pool/share')?.id).toBe(51);
    // Mount ids are reused, so the one on top may come first.
    expect(findMount([stacked[0]!, stacked[2]!, stacked[1]!], '/srv/pool')?.id).toBe(51);
  });
});
