// How tests and the bench start the built `ferry`: as its shebang line would,
// with the node flags written there (src/cli/main.ts says why they matter).

import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Built by the global setup (test/support/global-setup.ts), as production runs it. */
/** The `ferry` command as installed: the bundle `npm run build` makes (tools/bundle-cli.js). */
export const MAIN = path.resolve(import.meta.dirname, '../../dist/ferry.cjs');

/** The node flags on the first line of `file` (`#!/usr/bin/env -S node FLAGS...`). */
export function shebangNodeFlags(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\/usr\/bin\/env -S node((?: --[a-z0-9-]+(?:=[A-Za-z0-9._-]+)?)*)$/.exec(first);
  if (!match) throw new Error(`${file} does not start with a '#!/usr/bin/env -S node [flags]' line: ${first}`);
  return (match[1] ?? '').split(' ').filter(Boolean);
}

/** The argument list that runs the built CLI with `args`, as the installed `ferry` command would. */
export function ferryArgv(args: readonly string[]): string[] {
  return [...shebangNodeFlags(MAIN), MAIN, ...args];
}
