// The btrfs layer: the only code that runs btrfs-progs.
export { Btrfs } from './btrfs.js';
export type { BtrfsOptions, SubvolumeInfo, SubvolumeListing } from './types.js';
export type { PoolListing } from './listing.js';
export { fullPaths } from './listing.js';
export type { ReceiveOptions, SendOptions } from './send-receive.js';
export { parseSubvolumeShow, parseFreeEstimated, parseReceivedName, parseSubvolumeList } from './parse.js';
export { parseStreamHead, type StreamHead } from './stream-head.js';
export { StreamGuard, type StreamGuardOptions } from './stream-guard.js';
export type { StreamRules } from './stream-rules.js';
export type { DeviceErrors, PoolDevice, PoolHealth } from '../domain/health.js';
export { parseDeviceStats, parseFilesystemShow, parseMountInfo, parseUsageOverall, findMount } from './parse-health.js';
export type { DeviceStatsEntry, FilesystemShow, MountEntry, ShownDevice, UsageOverall } from './parse-health.js';
