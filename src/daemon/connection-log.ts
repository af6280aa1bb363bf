// What the daemon makes of a connection its budget cut: a count in the
// metrics for each, and a warning at most once a minute per listener, so a
// flood of slow connections is seen in the log without filling it.

import type { Logger } from '../log/logger.js';
import type { CutReason } from '../util/connection-guard.js';
import type { ApplianceMetrics } from './metrics.js';

const WARN_EVERY_MS = 60_000;

export function cutReporter(listener: string, logger: Logger, metrics: ApplianceMetrics, now: () => number = Date.now): (address: string, reason: CutReason) => void {
  let since = 0;
  let cut = 0;
  const addresses = new Set<string>();
  return (address, reason) => {
    metrics.connectionCut(listener, reason);
    cut++;
    if (addresses.size < 10) addresses.add(address);
    if (now() - since < WARN_EVERY_MS) return;
    logger.warn('connections cut before they proved who sent them (slow, or over the budget of strangers)', { listener, cut, from: [...addresses], reason });
    since = now();
    cut = 0;
    addresses.clear();
  };
}
