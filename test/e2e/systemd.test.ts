// The systemd unit: it passes `systemd-analyze verify`, it is Type=notify
// with the hardening it promises, and the daemon does tell systemd it is
// ready once it listens (a systemd-notify on PATH records what it was told).

import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry, initAppliance, removeState, startDaemon, stopAllDaemons } from '../support/cli.js';
import { runCommand } from '../support/run.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'ferry-test-systemd-'));
});

afterAll(async () => {
  await stopAllDaemons();
  await rm(scratch, { recursive: true, force: true });
});

describe('deploy/ferry.service', () => {
  it('passes systemd-analyze verify', async () => {
    // verify wants a unit name it can load: a copy under its own name.
    const unit = path.join(scratch, 'ferry.service');
    await writeFile(unit, await readFile(path.join(ROOT, 'deploy/ferry.service')));
    const r = await runCommand('systemd-analyze', ['verify', unit]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('is Type=notify, restarts on failure, and keeps the system read-only but for state and pools', async () => {
    const unit = await readFile(path.join(ROOT, 'deploy/ferry.service'), 'utf8');
    const settings = new Map(
      unit
        .split('\n')
        .filter((l) => /^[A-Za-z]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    expect(settings.get('Type')).toBe('notify');
    expect(settings.get('NotifyAccess')).toBe('all');
    expect(settings.get('Restart')).toBe('on-failure');
    expect(settings.get('ProtectSystem')).toBe('strict');
    expect(settings.get('ReadWritePaths')?.split(' ')).toEqual(expect.arrayContaining(['/var/lib/ferry']));
    expect(settings.get('NoNewPrivileges')).toBe('true');
    expect(settings.get('PrivateTmp')).toBe('true');
    expect(settings.get('CapabilityBoundingSet')?.split(' ')).toEqual(expect.arrayContaining(['CAP_SYS_ADMIN', 'CAP_CHOWN', 'CAP_FOWNER', 'CAP_MKNOD']));
    // btrfs receive must be able to restore setuid files.
    expect(settings.has('RestrictSUIDSGID')).toBe(false);
  });
});

describe('readiness', () => {
  it('the daemon tells systemd it is ready, with its pid, once it listens', async () => {
    const bin = path.join(scratch, 'bin');
    const record = path.join(scratch, 'notified');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'systemd-notify'), `#!/bin/sh\necho "$NOTIFY_SOCKET $*" >> ${record}\n`);
    await chmod(path.join(bin, 'systemd-notify'), 0o755);
    const appliance = await initAppliance('notified');
    try {
      const daemon = await startDaemon(appliance, 'notified', { env: { NOTIFY_SOCKET: '/run/systemd/notify-test', PATH: `${bin}:${process.env.PATH ?? ''}` } });
      let told = '';
      for (let i = 0; i < 50 && !told.includes('--ready'); i++) {
        told = await readFile(record, 'utf8').catch(() => '');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(told.trim()).toMatch(new RegExp(`^/run/systemd/notify-test --ready --pid=${daemon.process.pid} --status=listening for peers on 127\\.0\\.0\\.1:\\d+, admin API on 127\\.0\\.0\\.1:\\d+$`));
      expect((await ferry(appliance.state, ['status'])).code).toBe(0);
      await daemon.stop();
    } finally {
      await removeState(appliance.state);
    }
  });

  it('outside systemd it runs no systemd-notify', async () => {
    const record = path.join(scratch, 'notified');
    await rm(record, { force: true });
    const appliance = await initAppliance('plain');
    try {
      const daemon = await startDaemon(appliance, 'plain', { env: { PATH: `${path.join(scratch, 'bin')}:${process.env.PATH ?? ''}`, NOTIFY_SOCKET: '' } });
      await daemon.stop();
      await expect(readFile(record, 'utf8')).rejects.toThrow();
    } finally {
      await removeState(appliance.state);
    }
  });
});
