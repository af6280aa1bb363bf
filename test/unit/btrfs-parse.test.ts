// parseSubvolumeShow against real `btrfs subvolume show` output, captured
// from btrfs-progs v6.2 on this machine (kernel 6.18): tabs, the
// "Snapshot(s):" list and the "Quota group:" block exactly as printed.

import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/domain/errors.js';
import { parseFreeEstimated, parseReceivedName, parseSubvolumeList, parseSubvolumeShow } from '../../src/btrfs/index.js';
import { classifyStderr } from '../../src/btrfs/parse.js';

/** A subvolume with three snapshots (one named "odd: name"), quotas on, every UUID but its own "-". */
const ORIGINAL = [
  'share\n',
  '\tName: \t\t\tshare\n',
  '\tUUID: \t\t\t32a3a12e-babc-1940-a5b6-e3b8374b7ce8\n',
  '\tParent UUID: \t\t-\n',
  '\tReceived UUID: \t\t-\n',
  '\tCreation time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tSubvolume ID: \t\t256\n',
  '\tGeneration: \t\t11\n',
  '\tGen at creation: \t7\n',
  '\tParent ID: \t\t5\n',
  '\tTop level ID: \t\t5\n',
  '\tFlags: \t\t\t-\n',
  '\tSend transid: \t\t0\n',
  '\tSend time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tReceive transid: \t0\n',
  '\tReceive time: \t\t-\n',
  '\tSnapshot(s):\n',
  '\t\t\t\tsnap1\n',
  '\t\t\t\todd: name\n',
  '\t\t\t\tsnap2\n',
  '\tQuota group:\t\t0/256\n',
  '\t  Limit referenced:\t-\n',
  '\t  Limit exclusive:\t-\n',
  '\t  Usage referenced:\t16.00KiB\n',
  '\t  Usage exclusive:\t16.00KiB\n',
].join('');

/** A read-only snapshot of it, before quotas were enabled. */
const SNAPSHOT = [
  'snap1\n',
  '\tName: \t\t\tsnap1\n',
  '\tUUID: \t\t\t08feecfb-4e4d-f942-9d2e-76611c2de468\n',
  '\tParent UUID: \t\t32a3a12e-babc-1940-a5b6-e3b8374b7ce8\n',
  '\tReceived UUID: \t\t-\n',
  '\tCreation time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tSubvolume ID: \t\t257\n',
  '\tGeneration: \t\t7\n',
  '\tGen at creation: \t7\n',
  '\tParent ID: \t\t5\n',
  '\tTop level ID: \t\t5\n',
  '\tFlags: \t\t\treadonly\n',
  '\tSend transid: \t\t0\n',
  '\tSend time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tReceive transid: \t0\n',
  '\tReceive time: \t\t-\n',
  '\tSnapshot(s):\n',
  '\tQuota group:\t\t0/257\n',
  '\t  Limit referenced:\t-\n',
  '\t  Limit exclusive:\t-\n',
  '\t  Usage referenced:\t16.00KiB\n',
  '\t  Usage exclusive:\t16.00KiB\n',
].join('');

/** Received from a full send of SNAPSHOT. */
const RECEIVED_FULL = [
  'recv/snap1\n',
  '\tName: \t\t\tsnap1\n',
  '\tUUID: \t\t\t676324aa-ef0f-6647-85df-50720fdfffe8\n',
  '\tParent UUID: \t\t-\n',
  '\tReceived UUID: \t\t08feecfb-4e4d-f942-9d2e-76611c2de468\n',
  '\tCreation time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tSubvolume ID: \t\t259\n',
  '\tGeneration: \t\t12\n',
  '\tGen at creation: \t9\n',
  '\tParent ID: \t\t5\n',
  '\tTop level ID: \t\t5\n',
  '\tFlags: \t\t\treadonly\n',
  '\tSend transid: \t\t7\n',
  '\tSend time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tReceive transid: \t9\n',
  '\tReceive time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tSnapshot(s):\n',
  '\t\t\t\trecv/snap2\n',
  '\tQuota group:\t\t0/259\n',
  '\t  Limit referenced:\t-\n',
  '\t  Limit exclusive:\t-\n',
  '\t  Usage referenced:\t16.00KiB\n',
  '\t  Usage exclusive:\t16.00KiB\n',
].join('');

/** Received from an incremental send, with quotas on. */
const RECEIVED_INCREMENTAL = [
  'recv/snap2\n',
  '\tName: \t\t\tsnap2\n',
  '\tUUID: \t\t\t8017ba4a-9ff7-0643-b74e-3e714963587c\n',
  '\tParent UUID: \t\t676324aa-ef0f-6647-85df-50720fdfffe8\n',
  '\tReceived UUID: \t\t1c8d2490-8beb-a243-8b72-a29ac58331ef\n',
  '\tCreation time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tSubvolume ID: \t\t261\n',
  '\tGeneration: \t\t13\n',
  '\tGen at creation: \t12\n',
  '\tParent ID: \t\t5\n',
  '\tTop level ID: \t\t5\n',
  '\tFlags: \t\t\treadonly\n',
  '\tSend transid: \t\t11\n',
  '\tSend time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tReceive transid: \t13\n',
  '\tReceive time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tSnapshot(s):\n',
  '\tQuota group:\t\t0/261\n',
  '\t  Limit referenced:\t-\n',
  '\t  Limit exclusive:\t-\n',
  '\t  Usage referenced:\t16.00KiB\n',
  '\t  Usage exclusive:\t16.00KiB\n',
].join('');

/** The top level of the filesystem. */
const TOP_LEVEL = [
  '/\n',
  '\tName: \t\t\t<FS_TREE>\n',
  '\tUUID: \t\t\ta53e00f3-4303-4a4f-8eb1-728c164fd202\n',
  '\tParent UUID: \t\t-\n',
  '\tReceived UUID: \t\t-\n',
  '\tCreation time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tSubvolume ID: \t\t5\n',
  '\tGeneration: \t\t12\n',
  '\tGen at creation: \t0\n',
  '\tParent ID: \t\t0\n',
  '\tTop level ID: \t\t0\n',
  '\tFlags: \t\t\t-\n',
  '\tSend transid: \t\t0\n',
  '\tSend time: \t\t2026-11-21 21:11:44 +0000\n',
  '\tReceive transid: \t0\n',
  '\tReceive time: \t\t-\n',
  '\tSnapshot(s):\n',
  '\tQuota group:\t\t0/5\n',
  '\t  Limit referenced:\t-\n',
  '\t  Limit exclusive:\t-\n',
  '\t  Usage referenced:\t16.00KiB\n',
  '\t  Usage exclusive:\t16.00KiB\n',
].join('');

const USAGE = [
  'Overall:\n',
  '    Device size:\t\t         268435456\n',
  '    Device allocated:\t\t          92274688\n',
  '    Device unallocated:\t\t         176160768\n',
  '    Device missing:\t\t                 0\n',
  '    Device slack:\t\t                 0\n',
  '    Used:\t\t\t            393216\n',
  '    Free (estimated):\t\t         184549376\t(min: 96468992)\n',
  '    Free (statfs, df):\t\t         183500800\n',
  '    Data ratio:\t\t\t              1.00\n',
  '    Metadata ratio:\t\t              2.00\n',
  '    Global reserve:\t\t           5767168\t(used: 0)\n',
  '    Multiple profiles:\t\t                no\n',
  '\n',
  'Data,single: Size:8388608, Used:0 (0.00%)\n',
  '   /dev/loop0\t   8388608\n',
].join('');

describe('parseSubvolumeShow', () => {
  it('reads an original subvolume: "-" UUIDs are null, snapshot and quota lines are skipped', () => {
    expect(parseSubvolumeShow(ORIGINAL, '/pool/share')).toEqual({
      path: '/pool/share',
      name: 'share',
      id: 256,
      uuid: '32a3a12e-babc-1940-a5b6-e3b8374b7ce8',
      parentUuid: null,
      receivedUuid: null,
      generation: 11,
      readOnly: false,
    });
  });

  it('reads a read-only snapshot: parent UUID set, readonly flag', () => {
    const info = parseSubvolumeShow(SNAPSHOT, 'snap1');
    expect(info.parentUuid).toBe('32a3a12e-babc-1940-a5b6-e3b8374b7ce8');
    expect(info.receivedUuid).toBeNull();
    expect(info.readOnly).toBe(true);
    expect(info.generation).toBe(7);
  });

  it('reads a received subvolume: its received UUID is the sent snapshot UUID', () => {
    expect(parseSubvolumeShow(RECEIVED_FULL, '/target/recv/snap1')).toEqual({
      path: '/target/recv/snap1',
      name: 'snap1',
      id: 259,
      uuid: '676324aa-ef0f-6647-85df-50720fdfffe8',
      parentUuid: null,
      receivedUuid: '08feecfb-4e4d-f942-9d2e-76611c2de468',
      generation: 12,
      readOnly: true,
    });
  });

  it('reads an incremental receive with quota lines after an empty snapshot list', () => {
    const info = parseSubvolumeShow(RECEIVED_INCREMENTAL, 'x');
    expect(info.name).toBe('snap2');
    expect(info.parentUuid).toBe('676324aa-ef0f-6647-85df-50720fdfffe8');
    expect(info.receivedUuid).toBe('1c8d2490-8beb-a243-8b72-a29ac58331ef');
    expect(info.readOnly).toBe(true);
    expect(info.generation).toBe(13);
  });

  it('uses the caller\'s path, not the first line (which is relative to the top level)', () => {
    expect(parseSubvolumeShow(RECEIVED_FULL, '/mnt/pool/recv/snap1').path).toBe('/mnt/pool/recv/snap1');
    expect(parseSubvolumeShow(TOP_LEVEL, '/mnt/pool')).toMatchObject({ name: '<FS_TREE>', id: 5, parentUuid: null, readOnly: false });
  });

  it('does not take a snapshot named like a key for the key', () => {
    const tricky = ORIGINAL.replace('\t\t\t\tsnap1\n', '\t\t\t\tUUID: not-a-uuid\n');
    expect(parseSubvolumeShow(tricky, 'share').uuid).toBe('32a3a12e-babc-1940-a5b6-e3b8374b7ce8');
  });

  it('accepts CRLF line ends', () => {
    expect(parseSubvolumeShow(SNAPSHOT.replaceAll('\n', '\r\n'), 's')).toMatchObject({ name: 'snap1', readOnly: true, generation: 7 });
  });

  it('throws BTRFS_COMMAND_FAILED, with the text as detail, when a required line is missing', () => {
    const broken = SNAPSHOT.replace(/^\tUUID:.*\n/m, '');
    let caught: unknown;
    try {
      parseSubvolumeShow(broken, '/p/s');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FerryError);
    expect((caught as FerryError).code).toBe('BTRFS_COMMAND_FAILED');
    expect((caught as FerryError).message).toContain('/p/s');
    expect((caught as FerryError).detail).toBe(broken);
    expect(() => parseSubvolumeShow('', 'x')).toThrow(FerryError);
    expect(() => parseSubvolumeShow(SNAPSHOT.replace('Generation: \t\t7', 'Generation: \t\tseven'), 'x')).toThrow(/not a number/);
  });
});

/** `btrfs subvolume list -u -q -R` of a pool: a share, its snapshot, a received replica, a read-only and a writable snapshot of that. */
const LIST = [
  'ID 256 gen 7 top level 5 parent_uuid -                                    received_uuid -                                    uuid a180011c-bdc6-6f46-87f4-3e4308e32c74 path share\n',
  'ID 257 gen 7 top level 5 parent_uuid a180011c-bdc6-6f46-87f4-3e4308e32c74 received_uuid -                                    uuid 291b0481-710d-f847-a34e-73f2c0295121 path snap1\n',
  'ID 258 gen 11 top level 5 parent_uuid -                                    received_uuid 291b0481-710d-f847-a34e-73f2c0295121 uuid 2f224681-6ee1-5046-8e0d-b43b04648ca7 path rcv/snap1\n',
  'ID 259 gen 10 top level 5 parent_uuid 2f224681-6ee1-5046-8e0d-b43b04648ca7 received_uuid 291b0481-710d-f847-a34e-73f2c0295121 uuid c60464c5-3d00-1440-8401-5f9910b87ba6 path rcvsnap\n',
  'ID 260 gen 11 top level 5 parent_uuid 2f224681-6ee1-5046-8e0d-b43b04648ca7 received_uuid -                                    uuid d95d1254-c722-5e49-907d-66e22babdb70 path odd\n',
  'name with a newline\n',
].join('');

describe('parseSubvolumeList', () => {
  it('reads every subvolume with its three UUIDs; "-" is null, continuation lines are skipped', () => {
    const list = parseSubvolumeList(LIST);
    expect(list.map((s) => s.id)).toEqual([256, 257, 258, 259, 260]);
    expect(list[2]).toEqual({
      id: 258,
      topLevel: 5,
      generation: 11,
      uuid: '2f224681-6ee1-5046-8e0d-b43b04648ca7',
      parentUuid: null,
      receivedUuid: '291b0481-710d-f847-a34e-73f2c0295121',
      path: 'rcv/snap1',
    });
    expect(list[4]?.path).toBe('odd');
    expect(parseSubvolumeList('')).toEqual([]);
  });

  it('refuses a UUID field that is not a UUID', () => {
    expect(() => parseSubvolumeList(LIST.replace('uuid a180011c', 'uuid x180011c'))).toThrow(/where a UUID belongs/);
  });
});

describe('parseFreeEstimated', () => {
  it('reads "Free (estimated)", not the min or the statfs line', () => {
    expect(parseFreeEstimated(USAGE)).toBe(184549376);
  });

  it('throws when the line is missing', () => {
    expect(() => parseFreeEstimated('Overall:\n')).toThrow(FerryError);
  });
});

describe('parseReceivedName', () => {
  it('reads full and incremental receives', () => {
    expect(parseReceivedName('At subvol snap1\n')).toBe('snap1');
    expect(parseReceivedName('At snapshot snap2\n')).toBe('snap2');
    expect(parseReceivedName('At subvol with space and: colon\nERROR: later\n')).toBe('with space and: colon');
    expect(parseReceivedName('ERROR: empty stream is not considered valid\n')).toBeNull();
  });
});

describe('classifyStderr', () => {
  // Real btrfs-progs v6.2 messages.
  it.each([
    ['ERROR: writing to data.bin failed: No space left on device\n', 'NO_SPACE'],
    ['ERROR: Not a Btrfs subvolume: Invalid argument\n', 'NOT_A_SUBVOLUME'],
    ['ERROR: Could not get subvolume flags: Invalid argument\n', 'NOT_A_SUBVOLUME'],
    ['ERROR: not a btrfs filesystem: /tmp\n', 'NOT_BTRFS'],
    ['ERROR: Not a Btrfs filesystem: Invalid argument\n', 'NOT_BTRFS'],
    ["ERROR: cannot find real path for 'nope': No such file or directory\n", 'NOT_FOUND'],
    ['ERROR: Could not statfs: No such file or directory\n', 'NOT_FOUND'],
    ['ERROR: target path already exists: share\n', 'ALREADY_EXISTS'],
    ['ERROR: cannot flip ro->rw with received_uuid set, use force if you really want that\n', null],
  ] as const)('%s -> %s', (stderr, code) => {
    expect(classifyStderr(stderr, { spaceOnly: false })).toBe(code);
  });

  it('narrows send and receive failures only to NO_SPACE', () => {
    expect(classifyStderr('ERROR: unable to resolve nope\n', { spaceOnly: true })).toBeNull();
    expect(classifyStderr('ERROR: realpath nope failed: No such file or directory\n', { spaceOnly: true })).toBeNull();
    expect(classifyStderr('ERROR: write data.bin: No space left on device\n', { spaceOnly: true })).toBe('NO_SPACE');
  });
});
