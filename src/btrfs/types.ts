import type { Logger } from '../log/logger.js';

/** What Ferry needs to know about one subvolume, from `btrfs subvolume show`. */
export interface SubvolumeInfo {
  /** The path the caller named it by. */
  path: string;
  name: string;
  /** The subvolume id; 5 is the filesystem's top level. */
  id: number;
  uuid: string;
  /** UUID of the subvolume this one is a snapshot of; null for an original. */
  parentUuid: string | null;
  /** UUID of the sent snapshot this one was received from; null if it was not received. */
  receivedUuid: string | null;
  generation: number;
  readOnly: boolean;
}

/** One line of `btrfs subvolume list -u -q -R`: every subvolume of a filesystem, by UUID. */
export interface SubvolumeListing {
  id: number;
  /** The id of the subvolume it sits in; 5 is the filesystem's top level. */
  topLevel: number;
  generation: number;
  uuid: string;
  parentUuid: string | null;
  receivedUuid: string | null;
  /** As btrfs prints it: relative to the subvolume it sits in (`topLevel`). */
  path: string;
}

export interface BtrfsOptions {
  logger?: Logger;
  /** The btrfs executable, looked up on PATH unless absolute. */
  binary?: string;
}
