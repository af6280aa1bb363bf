// A clone's source is opened by `btrfs receive` from the filesystem's mount
// root, which it opened before chrooting into the transfer's jail: the path
// walk never passes through the jail, so a symbolic link on the way (one the
// parent already holds, "climb" -> "../../../<another peer>/...") climbs out
// to anything on the pool, and the clone copies it in. The stream check sees
// only the path; this looks at what the path resolves to in the parent, which
// is a committed, read-only replica, so what is looked at stays what receive
// will find. A clone from the snapshot being received needs no look: its
// files are inside the jail, where every walk ends at the chroot.

import { lstat } from 'node:fs/promises';

const SLASH = 0x2f;

export class LinkFreeRoot {
  readonly #root: Buffer;
  /** Prefixes (relative, as latin1 keys of their bytes) already seen to be no link. */
  readonly #clean = new Set<string>();

  constructor(root: string) {
    this.#root = Buffer.from(root.endsWith('/') ? root : `${root}/`);
  }

  /**
   * The first component of `relative` (bytes, as the stream carries them)
   * that is a symbolic link under the root; null when none is. A component
   * that does not exist ends the walk: receive's own open then fails.
   */
  async linkOn(relative: Buffer): Promise<Buffer | null> {
    for (let end = relative.indexOf(SLASH); ; end = relative.indexOf(SLASH, end + 1)) {
      const prefix = end === -1 ? relative : relative.subarray(0, end);
      if (prefix.length > 0 && !(end !== -1 && relative[end - 1] === SLASH)) {
        const key = prefix.toString('latin1');
        if (!this.#clean.has(key)) {
          const info = await lstat(Buffer.concat([this.#root, prefix])).catch(() => null);
          if (!info) return null;
          if (info.isSymbolicLink()) return Buffer.from(prefix);
          this.#clean.add(key);
        }
      }
      if (end === -1) return null;
    }
  }
}
