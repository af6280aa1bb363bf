// The daemon's node flags are written in two places that must agree: the
// shebang of the `ferry` command and the systemd unit's ExecStart.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAUNCH_FLAGS, missingLaunchFlags } from '../../src/daemon/heap.js';
import { MAIN, shebangNodeFlags } from '../support/launch.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('launch flags', () => {
  it('the shebang of the CLI carries exactly the launch flags the daemon checks for', () => {
    expect(LAUNCH_FLAGS).toContain('--max-semi-space-size=2');
    expect(shebangNodeFlags(path.join(ROOT, 'src/cli/main.ts'))).toEqual([...LAUNCH_FLAGS]);
  });

  it('the bundled command keeps that shebang (the suite builds it before the tests)', () => {
    expect(shebangNodeFlags(MAIN)).toEqual([...LAUNCH_FLAGS]);
  });

  it.each([
    { execArgv: [], nodeOptions: '', missing: ['--max-semi-space-size=2'] },
    { execArgv: ['--max-semi-space-size=2'], nodeOptions: '', missing: [] },
    { execArgv: ['--inspect'], nodeOptions: '--max-semi-space-size=2  --trace-gc', missing: [] },
    { execArgv: ['--max-semi-space-size=16'], nodeOptions: '', missing: ['--max-semi-space-size=2'] },
  ])('missing launch flags of $execArgv with NODE_OPTIONS "$nodeOptions": $missing', ({ execArgv, nodeOptions, missing }) => {
    expect(missingLaunchFlags(execArgv, nodeOptions)).toEqual(missing);
  });

  it('the systemd unit starts node with exactly the flags of the shebang', () => {
    const unit = readFileSync(path.join(ROOT, 'deploy/ferry.service'), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(' ') ?? [];
    expect(exec[0]).toBe('/usr/bin/node');
    const main = exec.findIndex((a) => a.endsWith('/dist/ferry.cjs'));
    expect(main).toBeGreaterThan(0);
    expect(exec.slice(1, main)).toEqual(shebangNodeFlags(path.join(ROOT, 'src/cli/main.ts')));
    expect(exec.slice(main + 1)).toEqual(['--state', '/var/lib/ferry', 'serve']);
  });

  it('refuses a first line that is not an env -S node shebang', () => {
    expect(() => shebangNodeFlags(path.join(ROOT, 'package.json'))).toThrow(/does not start with/);
  });
});
