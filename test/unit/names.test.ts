import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  isSnapshotName,
  nameMaxBytes,
  parseDuration,
  parseSnapshotTime,
  peerNameSchema,
  poolNameSchema,
  shareNameSchema,
  snapshotName,
  taskNameSchema,
  validatePeerName,
  validatePoolName,
  validateShareName,
  validateTaskName,
} from '../../src/domain/names.js';
import { errorOf } from '../support/errors.js';

const validators = [
  ['share', validateShareName, shareNameSchema],
  ['pool', validatePoolName, poolNameSchema],
  ['task', validateTaskName, taskNameSchema],
  ['peer', validatePeerName, peerNameSchema],
] as const;

describe.each(validators)('%s names', (kind, validate, schema) => {
  const max = nameMaxBytes[kind];

  it.each([
    ['plain', 'data'],
    ['starts with a digit (Rockstor #616)', '2024-photos'],
    ['all digits', '616'],
    ['inner dots', 'home.backup.v2'],
    ['inner space', 'Office NAS'],
    ['inner dash and underscore', 'a-b_c'],
    ['unicode', 'Fotos-Ärger-日本'],
    ['astral plane', 'music🎵'],
    ['trailing dot', 'data.'],
    ['exactly the byte limit', 'a'.repeat(max)],
    ['multibyte at the limit', 'é'.repeat(max / 2)],
  ])('accepts %s', (_label, name) => {
    expect(validate(name)).toBe(name);
    expect(schema.parse(name)).toBe(name);
  });

  it.each([
    ['empty', '', 'is empty'],
    ['dot', '.', 'directory reference'],
    ['dot dot', '..', 'directory reference'],
    ['slash', 'a/b', "contains '/'"],
    ['leading slash', '/etc', "contains '/'"],
    ['path traversal', '../x', "contains '/'"],
    ['NUL', 'a\0b', 'NUL'],
    ['newline', 'a\nb', 'control character'],
    ['tab', 'a\tb', 'control character'],
    ['escape', 'a\u001b[31m', 'control character'],
    ['DEL', 'a\u007f', 'control character'],
    ['C1 control', 'a\u0085', 'control character'],
    ['lone surrogate', 'a\ud800b', 'surrogate'],
    ['zero-width space', 'data\u200b', 'invisible format character'],
    ['zero-width joiner', 'da\u200dta', 'invisible format character'],
    ['right-to-left override', 'nas\u202egpj', 'invisible format character'],
    ['right-to-left isolate', '\u2067nas1', 'invisible format character'],
    ['left-to-right mark', 'nas1\u200e', 'invisible format character'],
    ['byte order mark', '\ufeffnas1', 'invisible format character'],
    ['soft hyphen', 'na\u00ads', 'invisible format character'],
    ['tag character', 'nas\u{e0041}', 'invisible format character'],
    ['leading dash', '-rf', "starts with '-'"],
    ['leading double dash', '--help', "starts with '-'"],
    ['hidden', '.ferry-staging', "starts with '.'"],
    ['leading space', ' data', 'white space'],
    ['trailing space', 'data ', 'white space'],
    ['one byte over', 'a'.repeat(max + 1), `over the limit of ${max}`],
    ['multibyte over', 'é'.repeat(max / 2 + 1), `over the limit of ${max}`],
  ])('refuses %s', (_label, name, says) => {
    const err = errorOf(() => validate(name));
    expect(err.code).toBe('INVALID_NAME');
    expect(err.message).toContain(says);
    expect(err.message).toContain(`${kind} name`);
    // The message also says what is allowed, so the admin can fix the name.
    expect(err.message).toContain(`at most ${max} bytes in UTF-8`);
    // The refused name is shown escaped: the message itself holds no control or format character.
    expect(err.message).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    const parsed = schema.safeParse(name);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe(err.message);
  });
});

describe('name properties', () => {
  // An independent statement of the rules, over an alphabet rich in the
  // characters that matter, so the property probes each rule's boundary.
  const char = fc.constantFrom('a', 'Z', '7', '.', '-', '_', ' ', '/', '\0', '\n', '\u007f', '\u0085', 'é', '日', '🎵', '\ud800', '\u200b', '\u202e');
  const oracle = (name: string): boolean =>
    name !== '' &&
    name !== '.' &&
    name !== '..' &&
    !/[/\0\n\u007f\u0085\ud800\u200b\u202e]/.test(name) &&
    !/^[.-]/.test(name) &&
    !/^ | $/.test(name) &&
    Buffer.byteLength(name, 'utf8') <= 200;

  it('a share name is accepted exactly when it follows the rules', () => {
    fc.assert(
      fc.property(fc.string({ unit: char, maxLength: 70 }), (name) => {
        const ok = oracle(name);
        if (ok) expect(validateShareName(name)).toBe(name);
        else expect(errorOf(() => validateShareName(name)).code).toBe('INVALID_NAME');
        expect(shareNameSchema.safeParse(name).success).toBe(ok);
      }),
    );
  });

  it('names of safe characters starting with a letter or digit are accepted', () => {
    const safe = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,60}$/);
    fc.assert(
      fc.property(safe, (name) => {
        expect(validateTaskName(name)).toBe(name);
      }),
    );
  });
});

describe('snapshot names', () => {
  it.each([
    ['2026-11-21T21:04:05.123Z', '20261121T210405.123Z'],
    ['1970-01-01T00:00:00.000Z', '19700101T000000.000Z'],
    ['0050-03-04T05:06:07.008Z', '00500304T050607.008Z'],
    ['9999-12-31T23:59:59.999Z', '99991231T235959.999Z'],
  ])('names %s as %s', (iso, name) => {
    expect(snapshotName(new Date(iso), [])).toBe(name);
    expect(isSnapshotName(name)).toBe(true);
    expect(parseSnapshotTime(name).toISOString()).toBe(iso);
  });

  it.each([
    ['newer than existing', '2026-11-21T21:04:05.123Z', ['20261121T210405.122Z'], '20261121T210405.123Z'],
    ['same millisecond', '2026-11-21T21:04:05.123Z', ['20261121T210405.123Z'], '20261121T210405.124Z'],
    ['clock went backwards', '2026-11-21T20:00:00.000Z', ['20261121T210405.123Z'], '20261121T210405.124Z'],
    ['max wins over order', '2026-01-01T00:00:00.000Z', ['20261121T210405.999Z', '20250101T000000.000Z'], '20261121T210406.000Z'],
    ['carry over a year', '2026-01-01T00:00:00.000Z', ['20261231T235959.999Z'], '20270101T000000.000Z'],
    ['foreign names ignored', '2026-11-21T21:04:05.123Z', ['zzz', 'manual-backup', '20261399T000000.000Z'], '20261121T210405.123Z'],
  ])('%s', (_label, iso, existing, expected) => {
    expect(snapshotName(new Date(iso), existing)).toBe(expected);
  });

  it.each([
    ['invalid date', new Date(Number.NaN)],
    ['year over 9999', new Date('+010000-01-01T00:00:00.000Z')],
    ['negative year', new Date('-000001-01-01T00:00:00.000Z')],
  ])('refuses to name a snapshot at an %s', (_label, now) => {
    expect(errorOf(() => snapshotName(now, [])).code).toBe('INVALID_INPUT');
  });

  it('refuses to run past year 9999 instead of breaking the order', () => {
    const err = errorOf(() => snapshotName(new Date('2026-01-01T00:00:00Z'), ['99991231T235959.999Z']));
    expect(err.code).toBe('INVALID_INPUT');
  });

  it.each([
    ['empty', ''],
    ['no milliseconds', '20261121T210405Z'],
    ['no Z', '20261121T210405.123'],
    ['ISO with separators', '2026-11-21T21:04:05.123Z'],
    ['February 30th', '20260230T000000.000Z'],
    ['month 13', '20261301T000000.000Z'],
    ['hour 24', '20261121T240000.000Z'],
    ['leap second', '20261231T235960.000Z'],
    ['lower-case t', '20261121t210405.123Z'],
    ['trailing text', '20261121T210405.123Z.tmp'],
    ['leading text', 'x20261121T210405.123Z'],
  ])('%s is not a snapshot name', (_label, name) => {
    expect(isSnapshotName(name)).toBe(false);
    expect(errorOf(() => parseSnapshotTime(name)).code).toBe('INVALID_NAME');
  });

  it('accepts February 29th in a leap year only', () => {
    expect(isSnapshotName('20280229T000000.000Z')).toBe(true);
    expect(isSnapshotName('20270229T000000.000Z')).toBe(false);
  });

  const time = fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.000Z'), noInvalidDate: true });

  it('a new name sorts after every existing name and parses back', () => {
    fc.assert(
      fc.property(time, fc.array(time, { maxLength: 20 }), (now, earlier) => {
        const existing = earlier.map((t) => snapshotName(t, []));
        const name = snapshotName(now, existing);
        expect(isSnapshotName(name)).toBe(true);
        for (const e of existing) expect(name > e).toBe(true);
        const parsed = parseSnapshotTime(name);
        // Either the time itself, or the smallest step past the newest existing one.
        expect(parsed.getTime() === now.getTime() || existing.some((e) => parseSnapshotTime(e).getTime() + 1 === parsed.getTime())).toBe(true);
      }),
    );
  });

  it('name order is time order', () => {
    fc.assert(
      fc.property(time, time, (a, b) => {
        const na = snapshotName(a, []);
        const nb = snapshotName(b, []);
        expect(na < nb).toBe(a.getTime() < b.getTime());
      }),
    );
  });

  it('a sequence of names taken with a jumpy clock stays unique and increasing', () => {
    fc.assert(
      fc.property(fc.array(time, { minLength: 1, maxLength: 30 }), (clock) => {
        const names: string[] = [];
        for (const now of clock) names.push(snapshotName(now, names));
        expect(new Set(names).size).toBe(names.length);
        expect([...names].sort()).toEqual(names);
      }),
    );
  });
});

describe('durations', () => {
  it.each([
    ['30s', 30],
    ['10m', 600],
    ['6h', 21_600],
    ['1d', 86_400],
    ['2w', 1_209_600],
    ['1h30m', 5_400],
    ['1w2d3h4m5s', 604_800 + 2 * 86_400 + 3 * 3_600 + 4 * 60 + 5],
    ['90m', 5_400],
    ['0h5m', 300],
    ['007s', 7],
  ])('parses %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each([
    ['empty', '', 'is empty'],
    ['no unit', '30', 'not understood'],
    ['unknown unit', '3y', 'not understood'],
    ['upper case', '30S', 'not understood'],
    ['space', '1h 30m', 'not understood'],
    ['negative', '-5m', 'not understood'],
    ['fraction', '1.5h', 'not understood'],
    ['zero', '0s', 'is zero'],
    ['all zero', '0h0m', 'is zero'],
    ['out of order', '30m1h', 'out of order'],
    ['repeated unit', '1h1h', 'repeats a unit'],
    ['too long', '99999999999999999999w', 'too long'],
  ])('refuses %s', (_label, text, says) => {
    const err = errorOf(() => parseDuration(text));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain(says);
    expect(err.message).toContain('such as 30s, 10m, 6h, 1d, 2w');
  });

  it.each([
    [0, '0s'],
    [1, '1s'],
    [60, '1m'],
    [90, '1m30s'],
    [3_600, '1h'],
    [5_400, '1h30m'],
    [86_400, '1d'],
    [604_800, '1w'],
    [1_209_600, '2w'],
    [694_861, '1w1d1h1m1s'],
  ])('formats %i seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it.each([[-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY]])('refuses to format %s', (seconds) => {
    expect(errorOf(() => formatDuration(seconds)).code).toBe('INVALID_INPUT');
  });

  it('formatting then parsing gives back the seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (seconds) => {
        expect(parseDuration(formatDuration(seconds))).toBe(seconds);
      }),
    );
  });
});
