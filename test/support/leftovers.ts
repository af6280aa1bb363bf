// What a refused request may have left on a pool: every subvolume btrfs knows
// of (nested ones and staging too), and the plain directory tree, for tests
// that assert that nothing was written.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './run.js';

/** Every subvolume of the filesystem mounted at `mountPoint`, as paths relative to it (`btrfs subvolume list`). */
export async function subvolumesOf(mountPoint: string): Promise<string[]> {
  const listed = await runCommand('btrfs', ['subvolume', 'list', mountPoint]);
  if (listed.code !== 0) throw new Error(`btrfs subvolume list ${mountPoint} exited with ${String(listed.code)}: ${listed.stderr.trim()}`);
  return listed.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const at = line.indexOf(' path ');
      if (at < 0) throw new Error(`unexpected line from btrfs subvolume list: ${line}`);
      return line.slice(at + ' path '.length);
    })
    .sort();
}

/** Every entry under `dir` down to `depth` levels, as sorted relative paths; [] for a missing `dir`. */
export async function treeOf(dir: string, depth = 3): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string, level: number): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      out.push(child);
      if (entry.isDirectory() && level + 1 < depth) await walk(child, level + 1);
    }
  };
  await walk('', 0);
  return out;
}
