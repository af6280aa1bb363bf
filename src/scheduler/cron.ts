// Cron expressions for `--cron EXPR`, through the libraries bree bundles:
// cron-validate checks the syntax and words the refusals, and @breejs/later
// does the calendar arithmetic (next and previous occurrence across month
// lengths and leap years). Both are loaded from bree's own dependency tree
// (resolved from bree's package), so Ferry uses exactly the copies bree ships
// and declares no second cron dependency.
//
// What Ferry accepts: the five fields of cron(5), `minute hour day-of-month
// month day-of-week`, with `*`, lists, ranges, steps (`*/15`, `1-5/2`, `5/15`),
// three-letter month and day names in any case, and the macros @yearly,
// @annually, @monthly, @weekly, @daily and @hourly. No seconds field and no
// Quartz extensions (`?`, `L`, `W`, `#`). Times are UTC: a NAS's local zone
// changes with DST, and an expression that fires twice or not at all on a DST
// night would surprise more than "02:00 UTC" does (the admin's tools show UTC
// beside local time).
//
// later.parse.cron is not used, because it departs from cron(5) in ways that
// would fire tasks on the wrong days: day-of-week 7 (Sunday) becomes Saturday,
// a restricted day-of-month AND a restricted day-of-week must both match
// (cron(5) runs when EITHER matches), and an impossible date such as
// `0 0 30 2 *` yields a made-up occurrence in year 2525. Instead each field is
// expanded here to its set of values, and later gets a schedule object built
// from those sets. Every occurrence later returns is checked against the sets
// before it is used.

import { createRequire } from 'node:module';
import { FerryError } from '../domain/errors.js';

// ---------------------------------------------------------------------------
// The bundled libraries, typed by the small surface Ferry uses.

/** later's schedule definition: each key constrains one time unit. */
interface LaterRule {
  s?: number[];
  m?: number[];
  h?: number[];
  /** Day of month, 1-31. */
  D?: number[];
  /** Month, 1-12. */
  M?: number[];
  /** Day of week, 1-7 with 1 = Sunday. */
  d?: number[];
}
interface LaterScheduleData {
  schedules: LaterRule[];
  exceptions: LaterRule[];
}
/** later.NEVER (0) when there is no occurrence; a Date for count 1, else an array. */
type LaterResult = Date | Date[] | 0;
interface LaterSchedule {
  next(count: number, start: Date, end?: Date): LaterResult;
  prev(count: number, start: Date, end?: Date): LaterResult;
}
interface Later {
  schedule(data: LaterScheduleData): LaterSchedule;
  date: { UTC(): void };
}
interface CronValidateResult {
  isValid(): boolean;
  getError(): string[];
}
type CronValidate = (expr: string, options: { preset: string; override: { useSeconds: boolean } }) => CronValidateResult;

// The same versions bree itself depends on, as our own dependencies; they are
// CommonJS without types, so they are loaded with require and typed above.
const require = createRequire(import.meta.url);
const later = require('@breejs/later') as Later;
const cronValidate = (require('cron-validate') as { default: CronValidate }).default;
// later keeps its time zone as global state; UTC is its default, set here in
// case anything else in the process changed it.
later.date.UTC();

// ---------------------------------------------------------------------------
// Parsing

/** An expression reduced to the values each field allows. */
export interface CronFields {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0-6, Sunday = 0 (7 in the expression is Sunday too). */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Whether the day-of-month field was restricted (did not start with `*`). */
  readonly domRestricted: boolean;
  /** Whether the day-of-week field was restricted (did not start with `*`). */
  readonly dowRestricted: boolean;
}

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

const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const dayNames = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
/** Longest month lengths, February counted in a leap year. */
const monthDays = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

interface FieldSpec {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Value of the first name (1 for months, 0 for days). */
  readonly nameBase?: number;
}
const fieldSpecs = {
  minutes: { min: 0, max: 59 },
  hours: { min: 0, max: 23 },
  daysOfMonth: { min: 1, max: 31 },
  months: { min: 1, max: 12, names: monthNames, nameBase: 1 },
  daysOfWeek: { min: 0, max: 7, names: dayNames, nameBase: 0 },
} as const satisfies Record<string, FieldSpec>;

function shown(expr: string): string {
  return JSON.stringify(expr.length > 80 ? `${expr.slice(0, 80)}…` : expr);
}

/** One field's values. Syntax was checked by cron-validate before this runs. */
function expandField(text: string, spec: FieldSpec): Set<number> {
  const value = (token: string): number => {
    const index = spec.names?.indexOf(token.toLowerCase()) ?? -1;
    return index >= 0 ? index + (spec.nameBase ?? 0) : Number(token);
  };
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = spec.min;
      hi = spec.max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      lo = value(a);
      hi = value(b);
    } else {
      lo = value(range);
      // `5/15` means from 5 to the end of the range, every 15.
      hi = stepText === undefined ? lo : spec.max;
    }
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || !Number.isInteger(step) || step < 1) {
      throw new FerryError('INVALID_INPUT', `cron field ${JSON.stringify(text)} is not understood`);
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/**
 * The fields of a cron expression; throws INVALID_INPUT, with cron-validate's
 * findings and a short guide, for anything Ferry would not run as the admin
 * meant it.
 */
export function parseCron(expr: string): CronFields {
  const refuse = (why: string): never => {
    throw new FerryError('INVALID_INPUT', `cron expression ${shown(expr)} ${why}; ${help}`);
  };
  const trimmed = expr.trim();
  if (trimmed === '') return refuse('is empty');
  const checked = trimmed.startsWith('@') ? macros[trimmed.toLowerCase()] : trimmed.split(/\s+/).join(' ');
  if (checked === undefined) return refuse(`is not a known macro (known: ${Object.keys(macros).join(', ')})`);

  // cron-validate's npm-cron-schedule preset is cron(5): day-of-month 1-31,
  // months 1-12, day-of-week 0-7, names allowed; seconds are switched off.
  const result = cronValidate(checked, { preset: 'npm-cron-schedule', override: { useSeconds: false } });
  if (!result.isValid()) {
    const findings = result.getError().map((m) => m.replace(/\s*\(Input cron: .*\)\s*$/s, ''));
    return refuse(`is not valid: ${findings.join('; ')}`);
  }

  const [minute = '', hour = '', dom = '', month = '', dow = ''] = checked.split(' ');
  const daysOfWeek = new Set([...expandField(dow, fieldSpecs.daysOfWeek)].map((d) => d % 7));
  const fields: CronFields = {
    minutes: expandField(minute, fieldSpecs.minutes),
    hours: expandField(hour, fieldSpecs.hours),
    daysOfMonth: expandField(dom, fieldSpecs.daysOfMonth),
    months: expandField(month, fieldSpecs.months),
    daysOfWeek,
    // cron(5): a field that starts with `*` counts as unrestricted, even `*/2`.
    domRestricted: !dom.startsWith('*'),
    dowRestricted: !dow.startsWith('*'),
  };

  // With only the day of month restricted, some day must exist in some month.
  if (fields.domRestricted && !fields.dowRestricted) {
    const possible = [...fields.months].some((m) => [...fields.daysOfMonth].some((d) => d <= (monthDays[m - 1] ?? 0)));
    if (!possible) return refuse('never matches: none of its months has any of its days');
  }
  return fields;
}

/** Throws INVALID_INPUT, with a clear message, unless `expr` is a cron expression Ferry runs. */
export function validateCron(expr: string): void {
  parseCron(expr);
}

// ---------------------------------------------------------------------------
// Occurrences

const everyValue = (set: ReadonlySet<number>, size: number): boolean => set.size === size;

function toLater(f: CronFields): LaterScheduleData {
  const base: LaterRule = { s: [0] };
  if (!everyValue(f.minutes, 60)) base.m = [...f.minutes].sort((a, b) => a - b);
  if (!everyValue(f.hours, 24)) base.h = [...f.hours].sort((a, b) => a - b);
  if (!everyValue(f.months, 12)) base.M = [...f.months].sort((a, b) => a - b);
  const D = [...f.daysOfMonth].sort((a, b) => a - b);
  const d = [...f.daysOfWeek].sort((a, b) => a - b).map((x) => x + 1);
  let schedules: LaterRule[];
  if (f.domRestricted && f.dowRestricted) schedules = [{ ...base, D }, { ...base, d }];
  else if (f.domRestricted) schedules = [{ ...base, D }];
  else if (f.dowRestricted) schedules = [{ ...base, d }];
  else schedules = [base];
  // A restricted field that still allows every value needs no rule.
  for (const rule of schedules) {
    if (rule.D !== undefined && rule.D.length === 31) delete rule.D;
    if (rule.d !== undefined && rule.d.length === 7) delete rule.d;
  }
  return { schedules, exceptions: [] };
}

/** Whether a time (UTC, whole minute) is one of the expression's occurrences. */
export function cronMatches(f: CronFields, t: Date): boolean {
  if (t.getUTCSeconds() !== 0 || t.getUTCMilliseconds() !== 0) return false;
  if (!f.minutes.has(t.getUTCMinutes()) || !f.hours.has(t.getUTCHours()) || !f.months.has(t.getUTCMonth() + 1)) return false;
  const dom = f.daysOfMonth.has(t.getUTCDate());
  const dow = f.daysOfWeek.has(t.getUTCDay());
  if (f.domRestricted && f.dowRestricted) return dom || dow;
  return dom && dow;
}

export interface CompiledCron {
  readonly expr: string;
  readonly fields: CronFields;
  /** The first occurrence strictly after `t`. */
  after(t: Date): Date;
  /** The last occurrence at or before `t`, or null when there is none since 1970. */
  atOrBefore(t: Date): Date | null;
  /** How many occurrences lie strictly after `from` and at or before `to`, counting at most `cap`. */
  countBetween(from: Date, to: Date, cap: number): number;
}

const SECOND = 1000;
const compiledCache = new Map<string, CompiledCron>();

/** A parsed expression with its occurrence arithmetic; cached per expression. */
export function compileCron(expr: string): CompiledCron {
  const cached = compiledCache.get(expr);
  if (cached !== undefined) return cached;
  const fields = parseCron(expr);
  const schedule = later.schedule(toLater(fields));
  const checked = (found: LaterResult, what: string): Date | null => {
    const d = Array.isArray(found) ? found[0] : found;
    if (d === undefined || d === 0) return null;
    if (!cronMatches(fields, d)) {
      throw new FerryError('INTERNAL', `cron expression ${shown(expr)}: the calendar library returned ${d.toISOString()} as ${what}, which does not match it`);
    }
    return d;
  };
  // later works in whole seconds and treats its start time as inclusive,
  // keeping any milliseconds of it: so every start given to it is whole.
  const compiled: CompiledCron = {
    expr,
    fields,
    after(t) {
      const start = new Date(Math.floor(t.getTime() / SECOND) * SECOND + SECOND);
      const found = checked(schedule.next(1, start), `the occurrence after ${t.toISOString()}`);
      if (found === null) throw new FerryError('INTERNAL', `cron expression ${shown(expr)} has no occurrence after ${t.toISOString()}`);
      return found;
    },
    atOrBefore(t) {
      const start = new Date(Math.floor(t.getTime() / SECOND) * SECOND);
      return checked(schedule.prev(1, start), `the occurrence at or before ${t.toISOString()}`);
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
