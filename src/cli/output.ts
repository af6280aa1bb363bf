// Output for people (aligned tables) and for scripts (--json: one JSON
// document on stdout and nothing else there).
//
// Much of what the CLI prints came from a paired peer (error messages, share
// and peer names, paths) or from a name an admin typed. A terminal obeys the
// escape sequences in what it is given: ESC, CSI and OSC can recolour, move
// the cursor, retitle the window or hide lines, and bidi controls can make one
// name read as another. So every string leaves through here with its control
// and format characters escaped, and --json escapes the ones JSON.stringify
// leaves raw.

// C0 controls, DEL, C1 controls (\p{Cc}) and format characters (\p{Cf}: bidi
// controls, zero-width characters). Kept apart: a newline and a tab, where
// the text is ours and spans lines.
const unseenInValue = /[\p{Cc}\p{Cf}]/gu;
const unseenInText = /(?![\n\t])[\p{Cc}\p{Cf}]/gu;
// What JSON.stringify leaves raw (it escapes C0 itself).
const unseenInJson = /[\u007f-\u009f\p{Cf}]/gu;

const hex = (c: string, width: number): string => (c.codePointAt(0) as number).toString(16).padStart(width, '0');
const escapeChar = (c: string): string => ((c.codePointAt(0) as number) <= 0xff ? `\\x${hex(c, 2)}` : `\\u{${hex(c, 4)}}`);

/** One value (a cell, a name, a message) for a terminal: every control and format character escaped, newlines too, so it stays one line. */
export function shown(value: string): string {
  return value.replace(unseenInValue, escapeChar);
}

/** Text the CLI composed, which may span lines: control and format characters escaped but for newline and tab. */
export function shownText(text: string): string {
  return text.replace(unseenInText, escapeChar);
}

/** The JSON text of a value, with DEL, C1 and format characters escaped as \u sequences too: the same value, safe to print. */
export function safeJson(value: unknown): string {
  // JSON's \u takes four hex digits: a character beyond the BMP (a Cf such as U+13430) is written as its UTF-16 pair.
  return JSON.stringify(value, null, 2).replace(unseenInJson, (c) => [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
}

export function printJson(value: unknown): void {
  process.stdout.write(safeJson(value) + '\n');
}

export function printTable(headers: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : shown(String(c)))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const row of cells) {
    process.stdout.write(row.map((c, i) => (i === row.length - 1 ? c : (c ?? '').padEnd(widths[i] ?? 0))).join('  ') + '\n');
  }
}

export function line(text: string): void {
  process.stdout.write(shownText(text) + '\n');
}

/** A line on stderr (a warning, an ending, a hint), escaped as `line` is. */
export function lineToStderr(text: string): void {
  process.stderr.write(shownText(text) + '\n');
}
