import { describe, expect, it } from 'vitest';
import { openWithPassphrase, sealWithPassphrase } from '../../src/crypto/index.js';

// The cheapest cost the opener accepts, so the table runs fast; the default is 2^17.
const cost = { N: 1 << 14, r: 8, p: 1 };
const plain = new TextEncoder().encode('{"identity":"secret keys"}');

describe('passphrase sealing', () => {
  it('opens with the passphrase, and the sealed text shows nothing of the plain text', async () => {
    const sealed = await sealWithPassphrase(plain, 'correct horse', cost);
    expect(sealed).not.toContain('secret');
    expect(Buffer.from(await openWithPassphrase(sealed, 'correct horse')).toString()).toBe(Buffer.from(plain).toString());
    // NFC: the same passphrase typed with a combining accent opens it too.
    const accented = await sealWithPassphrase(plain, 'caf\u00e9 au lait', cost);
    expect(await openWithPassphrase(accented, 'cafe\u0301 au lait')).toEqual(plain);
  });

  it('refuses a passphrase shorter than 8 characters', async () => {
    await expect(sealWithPassphrase(plain, 'short', cost)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  const tamper = (sealed: string, field: string, change: (v: unknown) => unknown): string => {
    const json = JSON.parse(sealed) as Record<string, unknown> & { kdf: Record<string, unknown> };
    if (field.startsWith('kdf.')) json.kdf[field.slice(4)] = change(json.kdf[field.slice(4)]);
    else json[field] = change(json[field]);
    return JSON.stringify(json);
  };
  const flip = (v: unknown): string => {
    const s = String(v);
    return (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  };

  it.each<[string, (s: string) => string, string]>([
    ['a wrong passphrase', (s) => s, 'WRONG_PASSPHRASE'],
    ['a changed box', (s) => tamper(s, 'box', flip), 'WRONG_PASSPHRASE'],
    ['a changed nonce', (s) => tamper(s, 'nonce', flip), 'WRONG_PASSPHRASE'],
    ['a changed salt', (s) => tamper(s, 'kdf.salt', flip), 'WRONG_PASSPHRASE'],
    ['a cost beyond the bound (2^30)', (s) => tamper(s, 'kdf.N', () => 1 << 30), 'INVALID_INPUT'],
    ['a cost that is no power of two', (s) => tamper(s, 'kdf.N', () => 20_000), 'INVALID_INPUT'],
    ['another format', (s) => tamper(s, 'format', () => 'ferry-sealed-v0'), 'INVALID_INPUT'],
    ['no JSON at all', () => 'hello', 'INVALID_INPUT'],
  ])('refuses %s', async (_name, change, code) => {
    const sealed = await sealWithPassphrase(plain, 'correct horse', cost);
    const passphrase = _name === 'a wrong passphrase' ? 'correct horsf' : 'correct horse';
    await expect(openWithPassphrase(change(sealed), passphrase)).rejects.toMatchObject({ code });
  });
});
