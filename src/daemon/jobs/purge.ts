// Maintenance: nonces and invites past their expiry go.
import { runJob } from './worker.js';

await runJob((store) => {
  const now = Math.floor(Date.now() / 1000);
  return { job: 'purge', nonces: store.nonces.purge(now), invites: store.invites.purgeExpired(now) };
});
