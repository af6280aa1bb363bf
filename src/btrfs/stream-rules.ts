// What a send stream may ask of `btrfs receive` on a pool that other peers
// and shares use too. `btrfs receive -C` chroots into the replica directory,
// but it opened the filesystem's mount root before, and it finds a snapshot's
// parent and a clone's source through the filesystem-wide UUID tree (received
// UUID first, then UUID): a clone or snapshot command naming another
// replica's UUID copies that replica's data into this one, whatever
// directory it sits in. And a clone's source path is joined to the source's
// path and opened from the mount root, where ".." climbs anywhere. So every
// command is checked as it passes (see stream-scanner.ts for the framing):
//
//  - a clone's source is the announced parent or the snapshot being received,
//    nothing else (the receiver resolved the parent to this peer's own replica
//    of this share before the stream started);
//  - no path is absolute, has a ".." component or a NUL byte: PATH, PATH_TO,
//    CLONE_PATH, and PATH_LINK of a hard link (a symlink's PATH_LINK is its
//    content, which may point anywhere, and is never followed by receive
//    outside the chroot);
//  - one subvolume or snapshot command (the first), and nothing after END.

import { refused } from './stream-head.js';
import type { CommandAttrs } from './stream-scanner.js';
import { Attr, Cmd, formatUuid } from './stream-format.js';

export interface StreamRules {
  /** UUIDs a clone command may name as its source: the announced parent and the snapshot itself. */
  readonly cloneSources: ReadonlySet<string>;
}

const DOT = 0x2e;
const SLASH = 0x2f;

/** Why a path from the stream may not be used, or null. Bytes, not text: receive sees bytes. */
export function pathProblem(path: Buffer): string | null {
  if (path.includes(0)) return 'has a NUL byte';
  if (path[0] === SLASH) return 'is absolute';
  // A ".." component: at the start or after a '/', followed by the end or a '/'.
  for (let i = path.indexOf(DOT); i !== -1; i = path.indexOf(DOT, i + 1)) {
    if ((i === 0 || path[i - 1] === SLASH) && path[i + 1] === DOT && (i + 2 === path.length || path[i + 2] === SLASH)) {
      return "has a '..' component";
    }
  }
  return null;
}

/** A path from the stream in a message: as text, bounded. */
export function shown(path: Buffer): string {
  return JSON.stringify(path.toString('utf8').slice(0, 200));
}

/** The state one stream's checks carry from command to command. */
export class StreamRuleState {
  ended = false;
}

/**
 * Checks one command after the first (the head is checked on its own); throws
 * STREAM_REFUSED. `index` counts commands from 1, the head being 1.
 */
export function checkCommand(cmd: number, attrs: CommandAttrs, rules: StreamRules, state: StreamRuleState, index: number): void {
  const where = `command ${index} (type ${cmd})`;
  if (state.ended) throw refused(`${where} follows the end command`);
  switch (cmd) {
    case Cmd.SUBVOL:
    case Cmd.SNAPSHOT:
      throw refused(`${where} starts a second subvolume; a transfer carries one`);
    case Cmd.END:
      state.ended = true;
      return;
    case Cmd.CLONE: {
      const uuid = attrs.get(Attr.CLONE_UUID);
      if (!uuid || uuid.length !== 16) throw refused(`${where} is a clone without a source UUID`);
      const source = formatUuid(uuid);
      if (!rules.cloneSources.has(source)) {
        throw refused(`${where} clones from subvolume ${source}, which is neither the announced parent nor the snapshot being received`);
      }
      break;
    }
    default:
      break;
  }
  for (const type of [Attr.PATH, Attr.PATH_TO, Attr.CLONE_PATH]) checkPath(attrs, type, where);
  // A hard link names an existing file as its target; a symlink's target is only its content.
  if (cmd === Cmd.LINK) checkPath(attrs, Attr.PATH_LINK, where);
}

function checkPath(attrs: CommandAttrs, type: number, where: string): void {
  const path = attrs.get(type);
  if (!path) return;
  const problem = pathProblem(path);
  if (problem !== null) throw refused(`${where} names the path ${shown(path)}, which ${problem}`);
}
