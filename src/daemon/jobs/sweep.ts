// Maintenance: staging left by a crash. The job finds the receiver's staging
// subvolumes on every pool; the main thread, which knows the transfers under
// way, deletes those that belong to none.
import { findStaging } from '../../receiver/staging.js';
import { runJob } from './worker.js';

await runJob(async (store) => ({ job: 'sweep', staging: await findStaging(store.pools.list()) }));
