// Where the built web UI is: dist/web of the installed tree, found from this
// file whether it runs compiled (dist/src/daemon) or from source under tsx.

import { existsSync } from 'node:fs';
import path from 'node:path';

export function webAssetsDir(): string {
  let dir = import.meta.dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', 'web');
    const up = path.dirname(dir);
    if (up === dir) return path.join(import.meta.dirname, '..', '..', 'web');
    dir = up;
  }
}
