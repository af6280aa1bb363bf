// Maintenance: trails past their limits go (a task every five minutes would
// write 100k rows a year); nothing is written when nothing is past them.
import { runJob } from './worker.js';

await runJob((store, data) => {
  const now = new Date();
  return { job: 'trails', send: store.sendTrail.prune(data.trails, now), receive: store.receiveTrail.prune(data.trails, now) };
});
