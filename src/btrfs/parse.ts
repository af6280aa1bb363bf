// Pure parsers for btrfs-progs output. They take text and return values, so
// unit tests can drive them with captured output and no btrfs at all.

import { FerryError, type ErrorCode } from '../domain/errors.js';
import type { SubvolumeInfo, SubvolumeListing } from './types.js';

/**
 * `btrfs subvolume show` output as a SubvolumeInfo. `path` is the caller's
 * path: the first line of the output is relative to the filesystem's top
 * level, which differs from the caller's path whenever a subvolume is mounted.
 */
export function parseSubvolumeShow(text: string, path: string): SubvolumeInfo {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    // Keys sit behind exactly one tab. The names listed under "Snapshot(s):"
    // sit behind several and the quota details behind a tab and spaces; both
    // are skipped, since a snapshot's name may itself contain a colon.
    const match = /^\t([A-Za-z][^:\t]*):[\t ]*(.*?)\r?$/.exec(line);
    if (!match) continue;
    const [, key = '', value = ''] = match;
    if (!fields.has(key)) fields.set(key, value);
  }
  const required = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined || value === '') {
      throw new FerryError('BTRFS_COMMAND_FAILED', `The output of btrfs subvolume show for ${path} has no "${key}" line.`, {
        detail: text,
      });
    }
    return value;
  };
  const optionalUuid = (key: string): string | null => {
    const value = fields.get(key);
    return value === undefined || value === '-' || value === '' ? null : value;
  };
  const generation = required('Generation');
  if (!/^\d+$/.test(generation)) {
    throw new FerryError('BTRFS_COMMAND_FAILED', `The generation of ${path} in btrfs subvolume show is not a number: "${generation}".`, {
      detail: text,
    });
  }
  const flags = fields.get('Flags') ?? '-';
  const id = required('Subvolume ID');
  if (!/^\d+$/.test(id)) {
    throw new FerryError('BTRFS_COMMAND_FAILED', `The subvolume ID of ${path} in btrfs subvolume show is not a number: "${id}".`, { detail: text });
  }
  return {
    path,
    name: required('Name'),
    id: Number(id),
    uuid: required('UUID'),
    parentUuid: optionalUuid('Parent UUID'),
    receivedUuid: optionalUuid('Received UUID'),
    generation: Number(generation),
    readOnly: flags.split(/[\s,|]+/).includes('readonly'),
  };
}

const LIST_LINE = /^ID (\d+) gen (\d+) (?:cgen \d+ )?top level (\d+) parent_uuid (\S+) +received_uuid (\S+) +uuid (\S+) path (.*?)\r?$/;
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `btrfs subvolume list -u -q -R PATH`: one line per subvolume of the whole
 * filesystem (the top level itself excepted). Lines that do not start a
 * subvolume are skipped: a name holding a newline continues on them.
 */
export function parseSubvolumeList(text: string): SubvolumeListing[] {
  const out: SubvolumeListing[] = [];
  const uuidOrNull = (value: string, line: string): string | null => {
    if (value === '-') return null;
    if (!UUID_TEXT.test(value)) throw new FerryError('BTRFS_COMMAND_FAILED', `btrfs subvolume list printed "${value}" where a UUID belongs.`, { detail: line });
    return value;
  };
  for (const line of text.split('\n')) {
    const m = LIST_LINE.exec(line);
    if (!m) continue;
    const [, id = '', generation = '', topLevel = '', parent = '', received = '', uuid = '', path = ''] = m;
    const own = uuidOrNull(uuid, line);
    if (own === null) throw new FerryError('BTRFS_COMMAND_FAILED', `btrfs subvolume list printed subvolume ${id} without a UUID.`, { detail: line });
    out.push({ id: Number(id), topLevel: Number(topLevel), generation: Number(generation), uuid: own, parentUuid: uuidOrNull(parent, line), receivedUuid: uuidOrNull(received, line), path });
  }
  return out;
}

/** The "Free (estimated)" byte count of `btrfs filesystem usage -b`. */
export function parseFreeEstimated(text: string): number {
  const match = /^\s*Free \(estimated\):\s*(\d+)/m.exec(text);
  if (!match?.[1]) {
    throw new FerryError('BTRFS_COMMAND_FAILED', 'The output of btrfs filesystem usage has no "Free (estimated)" line.', {
      detail: text,
    });
  }
  return Number(match[1]);
}

/**
 * The subvolume name `btrfs receive` reports creating: "At subvol NAME" for a
 * full stream, "At snapshot NAME" for an incremental one. btrfs-progs writes
 * these lines to stderr, not stdout.
 */
export function parseReceivedName(text: string): string | null {
  const match = /^At (?:subvol|snapshot) (.+?)\r?$/m.exec(text);
  return match?.[1] ?? null;
}

/**
 * The specific error code a btrfs-progs failure names in its stderr, if any.
 * With `spaceOnly`, only running out of space counts: a send or receive that
 * fails for any other reason keeps its own code, since the path in its
 * message may belong to the stream rather than to the caller.
 */
export function classifyStderr(stderr: string, options: { spaceOnly: boolean }): ErrorCode | null {
  if (/No space left on device|ENOSPC/i.test(stderr)) return 'NO_SPACE';
  if (options.spaceOnly) return null;
  if (/Not a Btrfs subvolume|Could not get subvolume flags: Invalid argument/i.test(stderr)) return 'NOT_A_SUBVOLUME';
  if (/not a btrfs filesystem/i.test(stderr)) return 'NOT_BTRFS';
  if (/No such file or directory/i.test(stderr)) return 'NOT_FOUND';
  if (/already exists|File exists/i.test(stderr)) return 'ALREADY_EXISTS';
  return null;
}

/** The first "ERROR: ..." line of btrfs-progs stderr, without its prefix. */
export function firstErrorLine(stderr: string): string | null {
  const match = /^ERROR: (.+?)\r?$/m.exec(stderr);
  return match?.[1] ?? null;
}

/** A command line for messages, quoting only the arguments that need it. */
export function formatCommand(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
}
