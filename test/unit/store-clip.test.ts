import { describe, expect, it } from 'vitest';
import { clipText, errorTextLimit } from '../../src/store/clip.js';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const markerRe = /\n\[… (\d+) bytes cut …\]\n/;

describe('clipText', () => {
  it('keeps 64 KiB by default', () => {
    expect(errorTextLimit).toBe(65536);
    const fits = 'x'.repeat(errorTextLimit);
    expect(clipText(fits)).toBe(fits);
    expect(clipText(fits + 'y')).not.toBe(fits + 'y');
  });

  const unchanged: { name: string; text: string; max: number }[] = [
    { name: 'empty', text: '', max: 64 },
    { name: 'short', text: 'btrfs send failed', max: 64 },
    { name: 'exactly the bound', text: 'a'.repeat(100), max: 100 },
    { name: 'multi-byte exactly the bound', text: 'é'.repeat(50), max: 100 },
    { name: 'lines', text: 'ERROR: one\nERROR: two\n', max: 1000 },
  ];
  it.each(unchanged)('leaves text that fits unchanged: $name', ({ text, max }) => {
    expect(clipText(text, max)).toBe(text);
  });

  const clipped: { name: string; text: string; max: number }[] = [
    { name: 'one byte over', text: 'a'.repeat(101), max: 100 },
    { name: 'far over', text: 'h'.repeat(5000) + 't'.repeat(5000), max: 200 },
    { name: 'multi-byte over (2-byte chars)', text: 'é'.repeat(300), max: 101 },
    { name: 'multi-byte over (3-byte chars)', text: '…'.repeat(300), max: 97 },
    { name: 'multi-byte over (4-byte chars)', text: '🦀'.repeat(300), max: 99 },
    { name: 'mixed', text: 'aé…🦀'.repeat(500), max: 150 },
    { name: 'default bound', text: 'z'.repeat(200_000), max: errorTextLimit },
  ];
  it.each(clipped)('clips with a marker, within the bound, on character boundaries: $name', ({ text, max }) => {
    const out = clipText(text, max);
    expect(bytes(out)).toBeLessThanOrEqual(max);
    expect(bytes(out)).toBeGreaterThan(max - 8); // uses the room it has
    const m = markerRe.exec(out);
    if (m === null) throw new Error(`no marker in ${JSON.stringify(out)}`);
    const cut = Number(m[1]);
    const head = out.slice(0, m.index);
    const tail = out.slice(m.index + m[0].length);
    // Head and tail are a true prefix and suffix, and the marker counts exactly what is missing.
    expect(text.startsWith(head)).toBe(true);
    expect(text.endsWith(tail)).toBe(true);
    expect(bytes(head) + cut + bytes(tail)).toBe(bytes(text));
    expect(out).not.toContain('\uFFFD');
    // The tail gets the larger share: it usually holds the explanation.
    expect(bytes(tail)).toBeGreaterThanOrEqual(2 * bytes(head));
    expect(head.length).toBeGreaterThan(0);
  });

  it('keeps the head message and the last stderr line', () => {
    const text = 'btrfs receive failed\n' + 'noise\n'.repeat(50_000) + 'ERROR: no space left on device\n';
    const out = clipText(text);
    expect(out.startsWith('btrfs receive failed\n')).toBe(true);
    expect(out.endsWith('ERROR: no space left on device\n')).toBe(true);
    expect(out).toMatch(markerRe);
  });

  it.each([0, 10, 63, 1.5, Number.NaN])('refuses a bound too small to be useful: %s', (max) => {
    expect(() => clipText('x'.repeat(1000), max)).toThrow(RangeError);
  });
});
