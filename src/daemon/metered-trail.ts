// The send trail as the driver writes it, counting each attempt's end into
// the metrics on the way (status, error code, bytes).

import type { SendTrailWriter } from '../replication/endpoints.js';
import type { SendTrailRepo } from '../store/send-trail.js';
import type { ApplianceMetrics } from './metrics.js';

export function meteredTrail(trail: SendTrailRepo, metrics: ApplianceMetrics): SendTrailWriter {
  return {
    start: (entry) => trail.start(entry),
    progress: (id, bytes) => trail.progress(id, bytes),
    list: (filter) => trail.list(filter),
    reconcile: (id, note) => trail.reconcile(id, note),
    finish: (id, result) => {
      trail.finish(id, result);
      const entry = trail.get(id);
      if (entry) metrics.attemptEnded(entry.task, result.status, result.errorCode, result.bytes);
    },
  };
}
