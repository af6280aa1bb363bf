import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/domain/task.js';
import { compileCron } from '../../src/scheduler/cron.js';
import {
  dueNow,
  jitterMs,
  missedCountCap,
  nextDue,
  readyAt,
  slotJitterMs,
  validateCron,
  validateSchedule,
  type SchedulableTask,
} from '../../src/scheduler/plan.js';
import { errorOf } from '../support/errors.js';

const d = (iso: string): Date => new Date(iso);
const every = (seconds: number): Schedule => ({ kind: 'every', seconds });
const cron = (expr: string): Schedule => ({ kind: 'cron', expr });

// 2026-01-01 is a Thursday; 2026-01-04 a Sunday; 2026-02-01 a Sunday.

describe('nextDue, every N', () => {
  const created = '2026-01-01T00:00:00.000Z';
  it.each<[string, number, string | null, string, string]>([
    ['first slot is one interval after creation', 3600, null, created, '2026-01-01T01:00:00.000Z'],
    ['not before: half way', 3600, null, '2026-01-01T00:30:00.000Z', '2026-01-01T01:00:00.000Z'],
    ['after the last slot', 3600, '2026-01-01T01:00:00.000Z', '2026-01-01T01:00:05.000Z', '2026-01-01T02:00:00.000Z'],
    ['overdue: the first unrun slot, in the past', 3600, '2026-01-01T01:00:00.000Z', '2026-01-01T05:30:00.000Z', '2026-01-01T02:00:00.000Z'],
    ['never ran, created long ago: first slot after creation', 3600, null, '2026-03-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z'],
    ['anchored at an off-grid last slot (interval changed)', 3600, '2026-01-01T01:17:00.000Z', '2026-01-01T01:20:00.000Z', '2026-01-01T02:17:00.000Z'],
    ['keeps milliseconds of creation', 10, null, created, '2026-01-01T00:00:10.000Z'],
    ['clock went back: newest grid slot at or before now', 3600, '2026-01-01T06:00:00.000Z', '2026-01-01T03:30:00.000Z', '2026-01-01T03:00:00.000Z'],
    ['a last slot older than the task (an earlier task of that name) is ignored', 3600, '2025-12-01T00:30:00.000Z', created, '2026-01-01T01:00:00.000Z'],
    ['a week', 604_800, null, '2026-01-02T00:00:00.000Z', '2026-01-08T00:00:00.000Z'],
  ])('%s', (_why, seconds, last, now, expected) => {
    expect(nextDue(every(seconds), last === null ? null : d(last), d(created), d(now)).toISOString()).toBe(expected);
  });

  it('keeps the milliseconds of an odd creation time on the grid', () => {
    const c = d('2026-01-01T00:00:00.250Z');
    expect(nextDue(every(10), null, c, c).toISOString()).toBe('2026-01-01T00:00:10.250Z');
    const last = d('2026-01-01T00:00:30.250Z');
    expect(nextDue(every(10), last, c, last).toISOString()).toBe('2026-01-01T00:00:40.250Z');
  });
});

describe('nextDue, cron (UTC)', () => {
  it.each<[string, string, string]>([
    ['0 2 * * *', '2026-01-01T02:00:00.000Z', '2026-01-02T02:00:00.000Z'], // strictly after
    ['0 2 * * *', '2026-01-01T01:59:59.999Z', '2026-01-01T02:00:00.000Z'],
    ['0 2 * * *', '2026-01-01T02:00:00.001Z', '2026-01-02T02:00:00.000Z'],
    ['*/15 * * * *', '2026-01-01T00:07:00.000Z', '2026-01-01T00:15:00.000Z'],
    ['5/20 * * * *', '2026-01-01T00:05:00.000Z', '2026-01-01T00:25:00.000Z'],
    ['*/15,7 * * * *', '2026-01-01T00:00:00.000Z', '2026-01-01T00:07:00.000Z'],
    // month lengths and leap years
    ['0 0 31 * *', '2026-01-31T00:00:00.000Z', '2026-03-31T00:00:00.000Z'],
    ['0 0 29 2 *', '2026-01-01T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    ['0 0 30 * *', '2026-01-30T00:00:00.000Z', '2026-03-30T00:00:00.000Z'],
    ['30 23 31 12 *', '2026-06-01T00:00:00.000Z', '2026-12-31T23:30:00.000Z'],
    ['59 23 * * *', '2026-12-31T23:59:00.000Z', '2027-01-01T23:59:00.000Z'],
    ['0 0 1 */3 *', '2026-01-02T00:00:00.000Z', '2026-04-01T00:00:00.000Z'],
    ['0 0 1 jan *', '2026-01-02T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    // day of week: Sunday is 0 (7 is refused, below), names in any case
    ['0 0 * * 0', '2026-01-01T00:00:00.000Z', '2026-01-04T00:00:00.000Z'],
    ['0 0 * * SUN', '2026-01-01T00:00:00.000Z', '2026-01-04T00:00:00.000Z'],
    ['0 0 * * sun', '2026-01-01T00:00:00.000Z', '2026-01-04T00:00:00.000Z'],
    ['0 0 * * 5,6,0', '2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z'],
    ['0 0 * * 1-5', '2026-01-02T00:00:00.000Z', '2026-01-05T00:00:00.000Z'],
    ['0 0 * * MON-FRI/2', '2026-01-05T00:00:00.000Z', '2026-01-07T00:00:00.000Z'],
    ['0 12 * feb-mar mon', '2026-01-01T00:00:00.000Z', '2026-02-02T12:00:00.000Z'],
    // both day fields restricted: either matches (cron(5)), not both
    ['0 0 13 * 5', '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'],
    ['0 0 13 * 5', '2026-01-12T00:00:00.000Z', '2026-01-13T00:00:00.000Z'],
    // ... but the month still restricts both: Mondays in February
    ['0 0 31 2 1', '2026-01-01T00:00:00.000Z', '2026-02-02T00:00:00.000Z'],
    // a day field starting with * is unrestricted: both must match
    ['0 0 1 * */2', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
    // macros
    ['@monthly', '2026-01-15T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
    ['@weekly', '2026-01-01T00:00:00.000Z', '2026-01-04T00:00:00.000Z'],
    ['@hourly', '2026-01-01T10:00:00.000Z', '2026-01-01T11:00:00.000Z'],
    ['@yearly', '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    // white space is forgiven
    ['  0  2 * *   *  ', '2026-01-01T00:00:00.000Z', '2026-01-01T02:00:00.000Z'],
  ])('%s after %s is %s', (expr, from, expected) => {
    expect(nextDue(cron(expr), d(from), d('2020-01-01T00:00:00.000Z'), d(from)).toISOString()).toBe(expected);
    // never ran: the same, from the creation time
    expect(nextDue(cron(expr), null, d(from), d(from)).toISOString()).toBe(expected);
  });

  it('a run of occurrences: weekdays at 02:30', () => {
    const out: string[] = [];
    let t = d('2026-01-01T00:00:00.000Z');
    for (let i = 0; i < 5; i++) {
      t = nextDue(cron('30 2 * * 1-5'), t, t, t);
      out.push(t.toISOString().slice(0, 16));
    }
    expect(out).toEqual(['2026-01-01T02:30', '2026-01-02T02:30', '2026-01-05T02:30', '2026-01-06T02:30', '2026-01-07T02:30']);
  });

  it('no occurrence is skipped: nothing between t and the next occurrence matches', () => {
    const exprs = ['*/7 * * * *', '0 */5 * * 1-5', '0 0 13 * 5', '0 0 * * 0', '15 3 1,15 * *', '0 0 * * SUN'];
    fc.assert(
      fc.property(
        fc.constantFrom(...exprs),
        fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) }),
        (expr, ms) => {
          const c = compileCron(expr);
          const t = new Date(ms);
          const next = c.after(t);
          expect(next.getTime()).toBeGreaterThan(ms);
          expect(c.matches(next)).toBe(true);
          for (let m = Math.floor(ms / 60_000) * 60_000 + 60_000; m < next.getTime(); m += 60_000) {
            if (c.matches(new Date(m))) throw new Error(`${expr}: ${new Date(m).toISOString()} skipped before ${next.toISOString()}`);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('dueNow: missed slots collapse into one run', () => {
  const task = (schedule: Schedule, paused = false): SchedulableTask => ({
    name: 't',
    schedule,
    paused,
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  it.each<[string, Schedule, string | null, string, boolean, string | null, number]>([
    ['not yet', every(3600), null, '2026-01-01T00:59:59.999Z', false, null, 0],
    ['on time', every(3600), null, '2026-01-01T01:00:00.000Z', true, '2026-01-01T01:00:00.000Z', 0],
    ['never ran, 5 slots passed', every(3600), null, '2026-01-01T05:30:00.000Z', true, '2026-01-01T05:00:00.000Z', 4],
    ['ran, next not yet', every(3600), '2026-01-01T03:00:00.000Z', '2026-01-01T03:59:00.000Z', false, null, 0],
    ['ten days down', every(3600), '2026-01-01T03:00:00.000Z', '2026-01-11T03:30:00.000Z', true, '2026-01-11T03:00:00.000Z', 239],
    ['clock went back', every(3600), '2026-01-02T00:00:00.000Z', '2026-01-01T03:30:00.000Z', true, '2026-01-01T03:00:00.000Z', 0],
    ['cron on time', cron('0 2 * * *'), '2026-01-01T02:00:00.000Z', '2026-01-02T02:00:00.000Z', true, '2026-01-02T02:00:00.000Z', 0],
    ['cron a week down', cron('0 2 * * *'), '2026-01-01T02:00:00.000Z', '2026-01-08T03:00:00.000Z', true, '2026-01-08T02:00:00.000Z', 6],
    ['cron weekdays over a weekend', cron('0 2 * * 1-5'), '2026-01-02T02:00:00.000Z', '2026-01-05T01:00:00.000Z', false, null, 0],
    ['cron every minute, a day down', cron('* * * * *'), '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:30.000Z', true, '2026-01-02T00:00:00.000Z', 1439],
    ['cron weekdays, a week down', cron('0 2 * * 1-5'), '2026-01-02T02:00:00.000Z', '2026-01-09T12:00:00.000Z', true, '2026-01-09T02:00:00.000Z', 4],
  ])('%s', (_why, schedule, last, now, due, slot, missed) => {
    const got = dueNow(task(schedule), last === null ? null : d(last), d(now));
    expect({ due: got.due, slot: got.slot?.toISOString() ?? null, missed: got.missed }).toEqual({ due, slot, missed });
  });

  it('a paused task is never due', () => {
    expect(dueNow(task(every(60), true), null, d('2027-01-01T00:00:00.000Z'))).toEqual({ due: false, slot: null, missed: 0 });
    expect(readyAt(task(every(60), true), null, d('2027-01-01T00:00:00.000Z'), 0)).toBeNull();
  });

  it(`counts a cron's missed slots up to ${missedCountCap}`, () => {
    const got = dueNow(task(cron('* * * * *')), d('2026-01-01T00:00:00.000Z'), d('2026-03-01T00:00:00.000Z'));
    expect(got.slot?.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(got.missed).toBe(missedCountCap);
  });

  it('accepts a Date or an ISO string as creation time, and refuses garbage', () => {
    const t = { ...task(every(60)), createdAt: d('2026-01-01T00:00:00.000Z') };
    expect(dueNow(t, null, d('2026-01-01T00:01:00.000Z')).due).toBe(true);
    const e = errorOf(() => dueNow({ ...t, createdAt: 'yesterday' }, null, d('2026-01-01T00:01:00.000Z')));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain('"yesterday"');
  });
});

describe('validateCron', () => {
  it.each(['0 2 * * *', '*/15 * * * 1-5', '0 0 1,15 * *', '0 0 * JAN-MAR MON-FRI', '0 0 31 2 1', '@daily', '@Weekly', '0 0 29 2 *'])(
    'accepts %j',
    (expr) => {
      expect(() => validateCron(expr)).not.toThrow();
    },
  );

  it.each<[string, string]>([
    ['', 'is empty'],
    ['   ', 'is empty'],
    ['* * *', 'Expected 5 values, but got 3'],
    ['* * * * * *', 'Expected 5 values, but got 6'],
    ['60 * * * *', "minutes field is bigger than upper limit '59'"],
    ['0 24 * * *', "hours field is bigger than upper limit '23'"],
    ['0 0 0 * *', "daysOfMonth field is smaller than lower limit '1'"],
    ['0 0 * 13 *', "months field is bigger than upper limit '12'"],
    ['0 0 * * 8', "daysOfWeek field is bigger than upper limit '7'"],
    ['0 0 * * 7', 'write Sunday as 0 or SUN'],
    ['0 0 * * 5-7', 'write Sunday as 0 or SUN'],
    ['0 0 * * 1,7', 'write Sunday as 0 or SUN'],
    ['*/0 * * * *', 'cannot be zero'],
    ['0 0 5-1 * *', 'is bigger than upper range end'],
    ['a b c d e', "Element 'a' of minutes field is invalid"],
    ['0 0 L * *', "Element 'L' of daysOfMonth field is invalid"],
    ['0 0 ? * MON', 'useBlankDay is not enabled'],
    ['0 0 30 2 *', 'never matches'],
    ['0 0 31 4,6,9,11 *', 'never matches'],
    ['@fortnightly', 'is not a known macro'],
  ])('refuses %j: %s', (expr, why) => {
    const e = errorOf(() => validateCron(expr));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain(why);
    expect(e.message).toContain(`cron expression ${JSON.stringify(expr)}`);
    expect(e.message).toContain('five fields, minute hour day-of-month month day-of-week, in UTC');
    expect(e.message).not.toContain('Input cron');
  });

  it('reads names as numbers, and runs a day of month OR a day of week as cron(5) does', () => {
    const named = compileCron('0 0 * FEB-APR sat');
    expect([named.after(d('2026-01-01T00:00:00.000Z')), named.after(d('2026-04-25T00:00:00.000Z'))].map((t) => t.toISOString())).toEqual([
      '2026-02-07T00:00:00.000Z',
      '2027-02-06T00:00:00.000Z',
    ]);
    // The 13th, or any Friday: 2026-02-06 is a Friday, 2026-02-13 both.
    const either = compileCron('0 3 13 * 5');
    const out: string[] = [];
    for (let t = d('2026-02-01T00:00:00.000Z'), i = 0; i < 4; i++) out.push((t = either.after(t)).toISOString().slice(0, 10));
    expect(out).toEqual(['2026-02-06', '2026-02-13', '2026-02-20', '2026-02-27']);
  });
});

describe('validateSchedule', () => {
  it.each([0, -60, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 10 * 366 * 86_400 + 1])('refuses every %s seconds', (seconds) => {
    expect(errorOf(() => validateSchedule(every(seconds))).code).toBe('INVALID_INPUT');
  });
  it('accepts sane schedules', () => {
    expect(validateSchedule(every(60))).toEqual(every(60));
    expect(validateSchedule(cron('0 2 * * *'))).toEqual(cron('0 2 * * *'));
  });
  it('refuses a bad cron schedule', () => {
    expect(errorOf(() => validateSchedule(cron('0 0 30 2 *'))).message).toContain('never matches');
  });
});

describe('jitter', () => {
  it('is the same for the same task, within [0, max]', () => {
    for (const name of ['nightly', 'photos', 'ü', '']) {
      const j = jitterMs(name, 30_000);
      expect(jitterMs(name, 30_000)).toBe(j);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThanOrEqual(30_000);
      expect(Number.isInteger(j)).toBe(true);
    }
  });
  it('spreads tasks apart', () => {
    const values = new Set(Array.from({ length: 100 }, (_, i) => jitterMs(`task-${i}`, 60_000)));
    expect(values.size).toBeGreaterThan(90);
    const spread = [...values];
    expect(Math.max(...spread) - Math.min(...spread)).toBeGreaterThan(40_000);
  });
  it.each([0, -5, Number.NaN, 0.5])('is 0 with a max of %s', (max) => {
    expect(jitterMs('nightly', max)).toBe(0);
  });
  it('stays under a tenth of the time to the following slot', () => {
    const names = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const slot = d('2026-01-01T00:01:00.000Z');
    for (const name of names) expect(slotJitterMs(name, every(60), slot, 30_000)).toBeLessThanOrEqual(6_000);
    expect(Math.max(...names.map((n) => slotJitterMs(n, every(3600), slot, 30_000)))).toBeGreaterThan(6_000);
    // cron: from Friday 02:00 the next weekday slot is Monday
    const friday = d('2026-01-02T02:00:00.000Z');
    expect(slotJitterMs('nightly', cron('0 2 * * 1-5'), friday, 30_000)).toBe(jitterMs('nightly', 30_000));
  });
  it('readyAt is the first unrun slot plus its jitter', () => {
    const t: SchedulableTask = { name: 'nightly', schedule: every(3600), paused: false, createdAt: '2026-01-01T00:00:00.000Z' };
    const j = jitterMs('nightly', 30_000);
    expect(j).toBeGreaterThan(0);
    expect(readyAt(t, null, d('2026-01-01T00:10:00.000Z'), 30_000)?.getTime()).toBe(Date.parse('2026-01-01T01:00:00.000Z') + j);
    // later slots passing do not push it on
    expect(readyAt(t, null, d('2026-01-01T09:10:00.000Z'), 30_000)?.getTime()).toBe(Date.parse('2026-01-01T01:00:00.000Z') + j);
  });
});
