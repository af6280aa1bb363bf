// The btrfs layer: the only code that runs btrfs-progs.
export { Btrfs } from './btrfs.js';
export type { BtrfsOptions, SubvolumeInfo } from './types.js';
export type { ReceiveOptions, SendOptions } from './send-receive.js';
export { parseSubvolumeShow, parseFreeEstimated, parseReceivedName } from './parse.js';
export { StreamHeadGuard, parseStreamHead, type StreamHead } from './stream-head.js';
