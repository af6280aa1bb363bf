import type { Logger } from '../log/logger.js';

/** What every btrfs operation needs: which executable, and where to log. */
export interface BtrfsContext {
  readonly binary: string;
  readonly logger: Logger;
}
