import type { Logger } from '../log/logger.js';

/** What Ferry needs to know about one subvolume, from `btrfs subvolume show`. */
export interface SubvolumeInfo {
  /** The path the caller named it by. */
  path: string;
  name: string;
  uuid: string;
  /** UUID of the subvolume this one is a snapshot of; null for an original. */
  parentUuid: string | null;
  /** UUID of the sent snapshot this one was received from; null if it was not received. */
  receivedUuid: string | null;
  generation: number;
  readOnly: boolean;
}

export interface BtrfsOptions {
  logger?: Logger;
  /** The btrfs executable, looked up on PATH unless absolute. */
  binary?: string;
}
