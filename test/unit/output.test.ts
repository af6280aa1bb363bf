// What the CLI prints is escaped for a terminal (src/cli/output.ts): a peer's
// words must not recolour, retitle, hide lines or reorder text. The CLI's
// real output of a hostile peer's message is checked in test/e2e/doors.test.ts.

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { printTable, safeJson, shown, shownText } from '../../src/cli/output.js';

// Everything a terminal or a bidi algorithm acts on.
const unseen = /[\p{Cc}\p{Cf}]/u;

describe('shown: one value, one line', () => {
  it.each([
    ['plain', 'nightly', 'nightly'],
    ['ESC (CSI colour)', 'a\u001b[31mred', 'a\\x1b[31mred'],
    ['OSC window title', '\u001b]0;owned\u0007', '\\x1b]0;owned\\x07'],
    ['newline (a forged line)', 'failed\nferry: run succeeded', 'failed\\x0aferry: run succeeded'],
    ['carriage return', 'x\rok', 'x\\x0dok'],
    ['tab', 'a\tb', 'a\\x09b'],
    ['DEL', 'a\u007f', 'a\\x7f'],
    ['C1 CSI', 'a\u009b31m', 'a\\x9b31m'],
    ['right-to-left override', 'nas\u202egpj', 'nas\\u{202e}gpj'],
    ['zero-width space', 'data\u200b', 'data\\u{200b}'],
    ['tag character', 'a\u{e0041}', 'a\\u{e0041}'],
    ['unicode kept', 'Fotos-Ärger-日本 🎵', 'Fotos-Ärger-日本 🎵'],
  ])('%s', (_label, value, out) => {
    expect(shown(value)).toBe(out);
  });

  it('leaves no control or format character, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        expect(shown(value)).not.toMatch(unseen);
        expect(shown(shown(value))).toBe(shown(value));
      }),
    );
  });
});

describe('shownText: text the CLI composed', () => {
  it.each([
    ['keeps newline and tab', 'a\n\tb', 'a\n\tb'],
    ['escapes ESC', 'x\u001b[2Jy', 'x\\x1b[2Jy'],
    ['escapes CR', 'x\ry', 'x\\x0dy'],
    ['escapes bidi controls', 'a\u2067b', 'a\\u{2067}b'],
  ])('%s', (_label, text, out) => {
    expect(shownText(text)).toBe(out);
  });
});

describe('safeJson', () => {
  it('escapes DEL, C1 and format characters, and reads back as the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, s) => {
        const doc = { value, s };
        const text = safeJson(doc);
        expect(text.replace(/\n/g, '')).not.toMatch(unseen);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(doc)));
      }),
    );
  });

  it('writes a format character beyond the BMP as its UTF-16 pair (fast-check found U+13430 read back as U+1343 and "0")', () => {
    const text = safeJson({ s: '\u{13430}x' });
    expect(text).toContain('\\ud80d\\udc30x');
    expect(JSON.parse(text)).toEqual({ s: '\u{13430}x' });
  });
});

describe('printTable', () => {
  afterEach(() => vi.restoreAllMocks());

  it('escapes every cell, so a row stays one line', () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    printTable(['TASK', 'ERROR'], [['nightly', 'peer said: \u001b[32mall good\nferry: ok']]);
    expect(out.split('\n').filter(Boolean)).toHaveLength(2);
    expect(out.replace(/\n/g, '')).not.toMatch(unseen);
    expect(out).toContain('peer said: \\x1b[32mall good\\x0aferry: ok');
  });
});
