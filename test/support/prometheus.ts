// A strict reader of the Prometheus text exposition format (0.0.4), for tests
// that scrape /metrics: every sample must belong to a family declared by
// # HELP and # TYPE lines, names and labels must be well formed, and values
// must be numbers. Throws on anything else.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  readonly help: string;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (!m) throw new Error(`bad labels in: ${line}`);
    out[m[1] ?? ''] = (m[2] ?? '').replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return out;
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  for (const suffix of ['', '_bucket', '_sum', '_count', '_total']) {
    if (!sample.endsWith(suffix)) continue;
    const f = families.get(sample.slice(0, sample.length - suffix.length));
    if (f) return f;
  }
  return undefined;
}

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`bad metric name: ${line}`);
      if (kind === 'HELP') helps.set(name, rest);
      else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type: ${line}`);
        if (families.has(name)) throw new Error(`type declared twice: ${line}`);
        families.set(name, { name, type: rest as Family['type'], help: helps.get(name) ?? '', samples: [] });
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const [, name = '', , labels = '', raw = ''] = m;
    // As Prometheus reads them (Go's ParseFloat): NaN and Inf in any case.
    const lower = raw.toLowerCase();
    const value = lower === '+inf' || lower === 'inf' ? Infinity : lower === '-inf' ? -Infinity : lower === 'nan' ? NaN : Number(raw);
    if (Number.isNaN(value) && lower !== 'nan') throw new Error(`bad value: ${line}`);
    const family = familyOf(name, families);
    if (!family) throw new Error(`sample without a # TYPE: ${line}`);
    family.samples.push({ name, labels: parseLabels(labels, line), value });
  }
  for (const f of families.values()) if (f.help === '') throw new Error(`metric ${f.name} has no # HELP`);
  return families;
}

/** The value of the one sample with this name and these labels (among others), or undefined. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = familyOf(name, families);
  const found = family?.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) ?? [];
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
