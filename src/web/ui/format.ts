// How numbers and times read in the UI: bytes in binary units (as btrfs and
// the CLI print them), durations in the two largest units that matter, and
// times both relative ("5 min ago") and absolute in the admin's local time.

const byteUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${n < 0 ? '-' : ''}${value.toFixed(digits)} ${byteUnits[unit]}`;
}

export function formatRate(bytesPerSecond: number | null): string {
  return bytesPerSecond === null || !Number.isFinite(bytesPerSecond) ? '—' : `${formatBytes(bytesPerSecond)}/s`;
}

/** `2 h 5 min`, `45 s`, `3 d 4 h`: two units at most, since a third is noise at a glance. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const parts: [number, string][] = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'min'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([v]) => v > 0);
  return parts
    .slice(first, first + 2)
    .filter(([v]) => v > 0)
    .map(([v, u]) => `${v} ${u}`)
    .join(' ');
}

/** `5 min ago`, `in 2 h`, `just now`. */
export function formatRelative(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const delta = (t - now) / 1000;
  if (Math.abs(delta) < 10) return 'just now';
  const text = formatDuration(Math.abs(delta)).split(' ').slice(0, 2).join(' ');
  return delta < 0 ? `${text} ago` : `in ${text}`;
}

const withYear = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const thisYear = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** The local date and time; the year only when it is not this one, to keep table cells on one line. */
export function formatAbsolute(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).getFullYear() === new Date().getFullYear() ? thisYear.format(t) : withYear.format(t);
}

export function secondsBetween(from: string, to: string | null, now: number): number {
  return ((to === null ? now : Date.parse(to)) - Date.parse(from)) / 1000;
}

/** The value a `datetime-local` input takes, for an ISO time, in local time. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An ISO time (UTC) from a `datetime-local` input's value, read in local time; undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  if (value === '') return undefined;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? value : new Date(t).toISOString();
}
