// Cron expressions for `--cron EXPR`, read by the libraries bree bundles:
// cron-validate checks the syntax and words the refusals, and @breejs/later
// parses the expression (later.parse.cron, as bree does for its own `cron`
// jobs) and does the calendar arithmetic (next and previous occurrence across
// month lengths and leap years). Both are loaded from bree's dependency tree,
// the same copies bree runs its jobs with.
//
// What Ferry accepts: the five fields of cron(5), `minute hour day-of-month
// month day-of-week`, with `*`, lists, ranges, steps (`*/15`, `1-5/2`,
// `5/15`), three-letter month and day names in any case, and the macros
// @yearly, @annually, @monthly, @weekly, @daily and @hourly. No seconds field
// and no Quartz extensions (`?`, `L`, `W`, `#`). Times are UTC: a NAS's local
// zone changes with DST, and an expression that fires twice or not at all on
// a DST night would surprise more than "02:00 UTC" does.
//
// later.parse.cron departs from cron(5) in three ways that would fire tasks
// on the wrong days; each is mended or refused here, on later's own output:
// - a day of week 7 becomes Saturday there: Ferry refuses 7 (write Sunday as
//   0 or SUN), so no expression means something else than it says;
// - a restricted day of month AND a restricted day of week must both match
//   there, where cron(5) runs when EITHER does: the schedule is split in two,
//   which later ORs;
// - an impossible date such as `0 0 30 2 *` yields a made-up occurrence in
//   year 2525: an expression with no occurrence in the next eight years is
//   refused as one that never matches.

import { createRequire } from 'node:module';
import { FerryError } from '../domain/errors.js';

/** One of later's rules: each key constrains one time unit (s, m, h, D = day of month, M, d = day of week 1-7 from Sunday). */
type LaterRule = Record<string, number[] | undefined>;
interface LaterScheduleData {
  schedules: LaterRule[];
  exceptions: LaterRule[];
  error?: number;
}
/** later.NEVER (0) when there is no occurrence; a Date for count 1, else an array. */
type LaterResult = Date | Date[] | 0;
interface LaterSchedule {
  next(count: number, start: Date, end?: Date): LaterResult;
  prev(count: number, start: Date, end?: Date): LaterResult;
  isValid(d: Date): boolean;
}
export interface Later {
  schedule(data: LaterScheduleData): LaterSchedule;
  parse: { cron(expr: string, hasSeconds?: boolean): LaterScheduleData };
  date: { UTC(): void };
}
interface CronValidateResult {
  isValid(): boolean;
  getError(): string[];
}
type CronValidate = (expr: string, options: { preset: string; override: Record<string, unknown> }) => CronValidateResult;

// bree's own copies: resolved from bree's package, so Ferry runs the versions bree runs.
const fromBree = createRequire(createRequire(import.meta.url).resolve('bree'));
export const later = fromBree('@breejs/later') as Later;
const cronValidate = (fromBree('cron-validate') as { default: CronValidate }).default;
// later keeps its time zone as global state, and loading bree sets it to local
// time: Ferry's cron is UTC, so it is set here, and again by the scheduler
// after bree is loaded.
later.date.UTC();

const help =
  'a cron expression has five fields, minute hour day-of-month month day-of-week, in UTC ' +
  '(such as "0 2 * * *" for 02:00 UTC every day, or "*/15 * * * 1-5" every quarter hour on weekdays)';

const macros: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** How far ahead an expression must occur at least once (a 29 February comes within four years). */
const HORIZON_MS = 8 * 366 * 86_400_000;

function shown(expr: string): string {
  return JSON.stringify(expr.length > 80 ? `${expr.slice(0, 80)}…` : expr);
}

/**
 * The expression as later's schedule, checked and mended as described above;
 * throws INVALID_INPUT, with cron-validate's findings and a short guide, for
 * anything Ferry would not run as the admin meant it.
 */
export function parseCron(expr: string, now: Date = new Date()): LaterScheduleData {
  const refuse = (why: string): never => {
    throw new FerryError('INVALID_INPUT', `cron expression ${shown(expr)} ${why}; ${help}`);
  };
  const trimmed = expr.trim();
  if (trimmed === '') return refuse('is empty');
  const checked = trimmed.startsWith('@') ? macros[trimmed.toLowerCase()] : trimmed.split(/\s+/).join(' ');
  if (checked === undefined) return refuse(`is not a known macro (known: ${Object.keys(macros).join(', ')})`);

  // cron-validate's npm-cron-schedule preset is cron(5), with seconds off.
  const result = cronValidate(checked, { preset: 'npm-cron-schedule', override: { useSeconds: false } });
  if (!result.isValid()) {
    const findings = result.getError().map((m) => m.replace(/\s*\(Input cron: .*\)\s*$/s, ''));
    return refuse(`is not valid: ${findings.join('; ')}`);
  }
  const [, , dom = '*', , dow = '*'] = checked.split(' ');
  // 7 as a day-of-week value (not a step): later would read it as Saturday.
  if (/(^|[,-])7($|[,/-])/.test(dow)) return refuse('names day 7 of the week: write Sunday as 0 or SUN');

  const parsed = later.parse.cron(checked);
  if (parsed.error !== undefined && parsed.error >= 0) return refuse(`is not understood from character ${parsed.error}`);
  // cron(5): a field that starts with `*` counts as unrestricted, even `*/2`.
  const either = !dom.startsWith('*') && !dow.startsWith('*');
  const schedules = either ? parsed.schedules.flatMap(({ D, d, ...rest }) => [{ ...rest, ...(D ? { D } : {}) }, { ...rest, ...(d ? { d } : {}) }]) : parsed.schedules;
  const data: LaterScheduleData = { schedules, exceptions: parsed.exceptions };

  const first = later.schedule(data).next(1, now);
  const at = Array.isArray(first) ? first[0] : first;
  if (at === undefined || at === 0 || at.getTime() - now.getTime() > HORIZON_MS) return refuse('never matches: no date fits all its fields');
  return data;
}

/** Throws INVALID_INPUT, with a clear message, unless `expr` is a cron expression Ferry runs. */
export function validateCron(expr: string): void {
  parseCron(expr);
}

export interface CompiledCron {
  readonly expr: string;
  /** later's schedule of the expression: what bree's job runs on. */
  readonly schedule: LaterScheduleData;
  /** Whether `t` is an occurrence. */
  matches(t: Date): boolean;
  /** The first occurrence strictly after `t`. */
  after(t: Date): Date;
  /** The last occurrence at or before `t`, or null when there is none since 1970. */
  atOrBefore(t: Date): Date | null;
  /** How many occurrences lie strictly after `from` and at or before `to`, counting at most `cap`. */
  countBetween(from: Date, to: Date, cap: number): number;
}

const SECOND = 1000;
const compiledCache = new Map<string, CompiledCron>();

function first(found: LaterResult): Date | null {
  const d = Array.isArray(found) ? found[0] : found;
  return d === undefined || d === 0 ? null : d;
}

/** A parsed expression with its occurrence arithmetic; cached per expression. */
export function compileCron(expr: string): CompiledCron {
  const cached = compiledCache.get(expr);
  if (cached !== undefined) return cached;
  const data = parseCron(expr);
  const schedule = later.schedule(data);
  // later works in whole seconds and treats its start time as inclusive,
  // keeping any milliseconds of it: so every start given to it is whole.
  const compiled: CompiledCron = {
    expr,
    schedule: data,
    matches: (t) => t.getUTCMilliseconds() === 0 && schedule.isValid(t),
    after(t) {
      const start = new Date(Math.floor(t.getTime() / SECOND) * SECOND + SECOND);
      const found = first(schedule.next(1, start));
      if (found === null) throw new FerryError('INTERNAL', `cron expression ${shown(expr)} has no occurrence after ${t.toISOString()}`);
      return found;
    },
    atOrBefore(t) {
      return first(schedule.prev(1, new Date(Math.floor(t.getTime() / SECOND) * SECOND)));
    },
    countBetween(from, to, cap) {
      if (to.getTime() <= from.getTime() || cap <= 0) return 0;
      let start = Math.floor(from.getTime() / SECOND) * SECOND + SECOND;
      const end = new Date(Math.floor(to.getTime() / SECOND) * SECOND);
      // later finds at most 1000 occurrences per call: count in chunks.
      let total = 0;
      while (total < cap && start <= end.getTime()) {
        const want = Math.min(cap - total, 500);
        const found = schedule.next(want, new Date(start), end);
        const list = found === 0 ? [] : Array.isArray(found) ? found : [found];
        total += list.length;
        const last = list.at(-1);
        if (list.length < want || last === undefined) break;
        start = last.getTime() + SECOND;
      }
      return Math.min(total, cap);
    },
  };
  if (compiledCache.size >= 256) compiledCache.clear();
  compiledCache.set(expr, compiled);
  return compiled;
}
