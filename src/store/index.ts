// The store: the only importer of better-sqlite3.
export { openStore, Store } from './store.js';
export { TaskRepo } from './tasks.js';
export { PoolRepo } from './pools.js';
export type { Pool } from './pools.js';
export { SendTrailRepo } from './send-trail.js';
export type { SendTrailFilter } from './send-trail.js';
export { ReceiveTrailRepo } from './receive-trail.js';
export type { ReceiveTrailFilter, ReceiveTrailFinish } from './receive-trail.js';
export type { TrailStart, TrailFinish, TrailListOptions } from './trail-table.js';
export { SettingsRepo } from './settings.js';
export { clipText, errorTextLimit } from './clip.js';
