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
export { PeerRepo } from './peers.js';
export type { Peer } from './peers.js';
export { InviteRepo, MAX_INVITE_FAILURES } from './invites.js';
export type { StoredInvite, InviteState } from './invites.js';
export { NonceRepo } from './nonces.js';
