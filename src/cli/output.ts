// Output for people (aligned tables) and for scripts (--json: one JSON
// document on stdout and nothing else there).

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printTable(headers: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const row of cells) {
    process.stdout.write(row.map((c, i) => (i === row.length - 1 ? c : (c ?? '').padEnd(widths[i] ?? 0))).join('  ') + '\n');
  }
}

export function line(text: string): void {
  process.stdout.write(text + '\n');
}
