// A manifest of a directory tree that two trees can be compared by: every
// entry's type, mode, owner, size, mtime, content digest, symlink target,
// xattrs and hard-link grouping. Two trees with equal manifests hold the same
// files with the same metadata.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { run } from './run.js';

async function digest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function xattrs(file: string): Promise<string> {
  // getfattr prints nothing (and exits 0) for a file without xattrs.
  const out = await run('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', file]);
  return out
    .split('\n')
    .filter((l) => l.includes('='))
    .sort()
    .join(';');
}

export async function manifest(root: string): Promise<string[]> {
  const lines: string[] = [];
  const inodes = new Map<bigint, string>();
  async function walk(dir: string): Promise<void> {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      const st = await lstat(full, { bigint: true });
      const mode = (st.mode & 0o7777n).toString(8);
      const common = `${rel} mode=${mode} uid=${st.uid} gid=${st.gid} x=${await xattrs(full)}`;
      if (st.isSymbolicLink()) {
        lines.push(`L ${common} -> ${await readlink(full)}`);
      } else if (st.isDirectory()) {
        lines.push(`D ${common}`);
        await walk(full);
      } else if (st.isFile()) {
        const first = st.nlink > 1n ? inodes.get(st.ino) : undefined;
        if (st.nlink > 1n && !first) inodes.set(st.ino, rel);
        lines.push(`F ${common} size=${st.size} mtime=${st.mtimeNs} links=${st.nlink} same-as=${first ?? '-'} sha=${await digest(full)}`);
      } else {
        lines.push(`O ${common} rdev=${st.rdev}`);
      }
    }
  }
  await walk(root);
  return lines;
}
