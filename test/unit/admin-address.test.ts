// Which admin addresses other machines reach, table-driven; and the example
// config in deploy/ is one the daemon accepts.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { adminExposure } from '../../src/daemon/init.js';
import { adminAddressSchema, adminSocketPath, configSchema, isLoopbackHost } from '../../src/state/state-dir.js';

describe('admin addresses', () => {
  it.each([
    ['127.0.0.1:7701', true, false],
    ['127.3.4.5:7701', true, false],
    ['localhost:7701', true, false],
    ['[::1]:7701', true, false],
    ['unix:/run/ferry/admin.sock', true, false],
    ['0.0.0.0:7701', true, true],
    ['192.168.1.10:7701', true, true],
    ['[::]:7701', true, true],
    ['nas.example:7701', true, true],
    ['unix:relative.sock', false, null],
    ['unix:/', false, null],
    ['7701', false, null],
  ])('%s: valid %s, exposed %s', (address, valid, exposed) => {
    expect(adminAddressSchema.safeParse(address).success).toBe(valid);
    if (valid) expect(adminExposure(address)).toBe(exposed);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['LOCALHOST', true],
    ['::1', true],
    ['128.0.0.1', false],
    ['127.0.0.1.example', false],
    ['::', false],
  ])('%s is loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('reads the socket path of a unix address', () => {
    expect(adminSocketPath('unix:/run/ferry/admin.sock')).toBe('/run/ferry/admin.sock');
    expect(adminSocketPath('127.0.0.1:7701')).toBeNull();
  });
});

describe('deploy/ferry.example.json', () => {
  it('is a config the daemon accepts, with every optional section filled in', async () => {
    const text = await readFile(new URL('../../deploy/ferry.example.json', import.meta.url), 'utf8');
    const config = configSchema.parse(JSON.parse(text));
    expect(Object.keys(config).sort()).toEqual(['admin', 'advertise', 'listen', 'maintenance', 'metrics', 'name', 'scheduler', 'ui', 'version']);
  });
});
