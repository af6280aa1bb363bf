// Names that admins choose, and names Ferry makes. Share, pool and task names
// end up as path components and in URLs on both appliances, and peer names
// arrive over the network during pairing, so every one of them is checked here
// before any other layer uses it. One rule set serves all kinds of name, with a
// byte limit per kind: that way an admin learns the rules once.

import * as z from 'zod/mini';
import { FerryError } from './errors.js';

// ---------------------------------------------------------------------------
// Admin-chosen names

export type NameKind = 'share' | 'pool' | 'task' | 'peer';

/**
 * Limits in UTF-8 bytes, because the filesystem counts bytes (NAME_MAX is 255),
 * not characters. A share name stays well below 255 so that Ferry can prefix or
 * suffix it (staging directories, `.partial` markers) without crossing the limit.
 */
export const nameMaxBytes: Readonly<Record<NameKind, number>> = {
  share: 200,
  pool: 64,
  task: 64,
  peer: 64,
};

const rulesText = (kind: NameKind): string =>
  `a ${kind} name may use any characters except '/', NUL, control characters and invisible format characters, ` +
  `must not start with '.' or '-', must not start or end with a space, ` +
  `and may be at most ${nameMaxBytes[kind]} bytes in UTF-8 (digits first are fine)`;

// C0 controls, DEL and C1 controls: invisible in the UI and logs, and a newline
// in a name would forge extra lines in trails and in `btrfs` output parsing.
function hasControlChar(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
// A lone UTF-16 surrogate has no UTF-8 encoding, so it cannot become a file name.
const loneSurrogate = /\p{Cs}/u;
// Unicode format characters (general category Cf): zero-width spaces and
// joiners, bidi controls (U+202A..U+202E, U+2066..U+2069), the soft hyphen, the
// BOM, tags. They draw nothing, or reorder what is drawn, so "nas\u202Egpj.exe"
// or "data\u200B" would show as another peer's or share's name.
const formatChar = /\p{Cf}/u;
// What JSON.stringify leaves raw but a message must not hold: DEL, C1 controls, format characters.
const unseen = /[\p{Cc}\p{Cf}]/gu;

/** Shows a refused name in a message: quoted, escaped (DEL, C1 and format characters too, so the message shows them), and cut short if long. */
function shown(name: string): string {
  const cut = name.length > 60 ? `${name.slice(0, 60)}…` : name;
  return JSON.stringify(cut).replace(unseen, (c) => `\\u${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`);
}

const utf8 = new TextEncoder();

/**
 * What is wrong with a name, as a sentence for the admin, or null when it is
 * acceptable. The throwing validators and the zod schemas share this, so both
 * give the same message.
 */
export function nameProblem(kind: NameKind, name: string): string | null {
  const problem = findProblem(kind, name);
  return problem === null ? null : `${kind} name ${shown(name)} ${problem}; ${rulesText(kind)}`;
}

function findProblem(kind: NameKind, name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (name === '.' || name === '..') return 'is a directory reference, not a name';
  if (name.includes('/')) return "contains '/', which would make it a path";
  if (name.includes('\0')) return 'contains a NUL character';
  if (hasControlChar(name)) return 'contains a control character';
  if (loneSurrogate.test(name)) return 'contains an unpaired UTF-16 surrogate, which has no UTF-8 form';
  if (formatChar.test(name)) return 'contains an invisible format character (zero-width or bidi control), which would let it pass for another name';
  // A leading '-' makes btrfs-progs (and every other getopt tool) read the name
  // as an option when it is passed as an argument.
  if (name.startsWith('-')) return "starts with '-', which command-line tools would read as an option";
  // Hidden names are refused because Ferry keeps its own working directories
  // (staging, snapshot folders) under dot-names beside user data: refusing them
  // keeps the admin's namespace and Ferry's apart, so a share can never be
  // mistaken for, or collide with, a staging directory. They are also hidden
  // from `ls` and from SMB/NFS clients, which makes them easy to lose track of.
  if (name.startsWith('.')) return "starts with '.', which would make it hidden";
  // "data" and "data " look the same in every list an admin reads.
  if (/^\s|\s$/u.test(name)) return 'starts or ends with white space';
  // TextEncoder, not Buffer: the web UI checks names in the browser with this same rule.
  const bytes = utf8.encode(name).length;
  if (bytes > nameMaxBytes[kind]) return `is ${bytes} bytes long in UTF-8, over the limit of ${nameMaxBytes[kind]}`;
  return null;
}

function validateName(kind: NameKind, name: string): string {
  const problem = nameProblem(kind, name);
  if (problem !== null) throw new FerryError('INVALID_NAME', problem);
  return name;
}

/** The name, when it is an acceptable share name; otherwise throws INVALID_NAME. */
export const validateShareName = (name: string): string => validateName('share', name);
/** The name, when it is an acceptable pool name; otherwise throws INVALID_NAME. */
export const validatePoolName = (name: string): string => validateName('pool', name);
/** The name, when it is an acceptable task name; otherwise throws INVALID_NAME. */
export const validateTaskName = (name: string): string => validateName('task', name);
/** The name, when it is an acceptable human appliance name; otherwise throws INVALID_NAME. */
export const validatePeerName = (name: string): string => validateName('peer', name);

function nameSchema(kind: NameKind) {
  return z.string().check(
    z.superRefine((name, ctx) => {
      const problem = nameProblem(kind, name);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );
}

export const shareNameSchema = nameSchema('share');
export const poolNameSchema = nameSchema('pool');
export const taskNameSchema = nameSchema('task');
export const peerNameSchema = nameSchema('peer');

// ---------------------------------------------------------------------------
// Snapshot names

// Fixed width (four-digit year, zero padded, always UTC, always milliseconds),
// so that comparing names as strings compares their times: the planner and
// retention order snapshots by name alone.
const snapshotPattern = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/;

function formatSnapshotName(time: Date): string {
  const ms = time.getTime();
  if (Number.isNaN(ms)) throw new FerryError('INVALID_INPUT', 'cannot name a snapshot after an invalid date');
  const year = time.getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new FerryError('INVALID_INPUT', `cannot name a snapshot in year ${year}: snapshot names hold years 0000 to 9999`);
  }
  // toISOString gives a fixed-width form for these years; drop the separators.
  return time.toISOString().replace(/[-:]/g, '');
}

/** The time a snapshot name stands for, or null when it is not a snapshot name. */
function snapshotTime(name: string): Date | null {
  const m = snapshotPattern.exec(name);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, ms] = m;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`;
  const time = new Date(iso);
  // The round trip refuses dates such as 20260230 or hour 24, which Date
  // would otherwise roll over into a different, valid time.
  if (Number.isNaN(time.getTime()) || time.toISOString() !== iso) return null;
  return time;
}

/** True when `s` is a well-formed snapshot name such as `20261121T210405.123Z`. */
export function isSnapshotName(s: string): boolean {
  return snapshotTime(s) !== null;
}

/** The UTC time a snapshot name stands for; throws INVALID_NAME for anything else. */
export function parseSnapshotTime(name: string): Date {
  const time = snapshotTime(name);
  if (time === null) {
    throw new FerryError(
      'INVALID_NAME',
      `${shown(name)} is not a snapshot name; snapshot names look like 20261121T210405.123Z (UTC, with milliseconds)`,
    );
  }
  return time;
}

/**
 * The name for a snapshot taken at `now`: its UTC time, unless that would not
 * sort after every existing snapshot name (two snapshots in one millisecond, or
 * a clock that went backwards, e.g. after an NTP step). Then it is the smallest
 * name after the newest existing one, one millisecond later, so names stay
 * unique and in the order the snapshots were taken. Entries of `existing`
 * that are not snapshot names are ignored.
 */
export function snapshotName(now: Date, existing: readonly string[]): string {
  const candidate = formatSnapshotName(now);
  let newest: Date | null = null;
  let newestName = '';
  for (const name of existing) {
    const time = snapshotTime(name);
    if (time !== null && name > newestName) {
      newest = time;
      newestName = name;
    }
  }
  if (newest === null || candidate > newestName) return candidate;
  return formatSnapshotName(new Date(newest.getTime() + 1));
}

// ---------------------------------------------------------------------------
// Durations

const unitSeconds = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 } as const;
type Unit = keyof typeof unitSeconds;
const unitOrder: readonly Unit[] = ['w', 'd', 'h', 'm', 's'];

const durationHelp = "a duration is a whole number with a unit s, m, h, d or w (such as 30s, 10m, 6h, 1d, 2w), or units combined from largest to smallest (such as 1h30m)";

/**
 * Seconds in a duration such as `30s`, `10m`, `6h`, `1d`, `2w` or `1h30m`.
 * Units must go from largest to smallest, each at most once, so that one
 * duration has one spelling and `1m1h` (likely a typo) is refused.
 */
export function parseDuration(text: string): number {
  const refuse = (why: string): never => {
    throw new FerryError('INVALID_INPUT', `duration ${shown(text)} ${why}; ${durationHelp}`);
  };
  if (!/^(\d+[wdhms])+$/.test(text)) refuse(text === '' ? 'is empty' : 'is not understood');
  let total = 0;
  let lastUnit = -1;
  for (const m of text.matchAll(/(\d+)([wdhms])/g)) {
    const unit = m[2] as Unit;
    const index = unitOrder.indexOf(unit);
    if (index <= lastUnit) refuse('repeats a unit or has units out of order');
    lastUnit = index;
    total += Number(m[1]) * unitSeconds[unit];
  }
  if (total === 0) refuse('is zero, but must be positive');
  if (!Number.isSafeInteger(total)) refuse('is too long');
  return total;
}

/** A duration in seconds as parseDuration reads it, largest units first: 5400 -> `1h30m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new FerryError('INVALID_INPUT', `cannot format ${seconds} as a duration: it must be a whole number of seconds, 0 or more`);
  }
  if (seconds === 0) return '0s';
  let rest = seconds;
  let out = '';
  for (const unit of unitOrder) {
    const n = Math.floor(rest / unitSeconds[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * unitSeconds[unit];
    }
  }
  return out;
}
