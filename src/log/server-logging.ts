// How the admin and peer servers log: through the daemon's pino instance,
// with a request id of our own making on every request (a client's
// x-request-id is not trusted) that is also sent back in the x-request-id
// header, so an admin can find the line of a failure a client reported.
// Requests themselves are not logged: an idle appliance that answers a
// health probe every minute must not fill its log. (fastify's LogController
// says so, with `disableRequestLogging`; the servers pass one, src/log does
// not import fastify.)

import { randomBytes } from 'node:crypto';
import type { Logger as Pino } from 'pino';
import type { Logger } from './logger.js';

export interface ServerLogging {
  readonly loggerInstance?: Pino;
  readonly logger?: false;
  readonly requestIdHeader: false;
  readonly genReqId: () => string;
}

export function serverLogging(logger: Logger, server: string): ServerLogging {
  const p = logger.pino as Pino | undefined;
  const common = { requestIdHeader: false, genReqId: () => randomBytes(6).toString('base64url') } as const;
  return p ? { ...common, loggerInstance: p.child({ server }) } : { ...common, logger: false };
}
