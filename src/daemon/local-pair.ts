import { toFerryError } from '../domain/errors.js';
import type { Receiver } from '../receiver/receiver.js';
import type { ReceiverEndpoint } from '../replication/endpoints.js';

/**
 * A receiver reached in-process, as if `peerId` had called it over the
 * network: the same interface the HTTP client implements, so tests and
 * same-machine replication drive exactly the code production does.
 */
export function localReceiverEndpoint(receiver: Receiver, peerId: string): ReceiverEndpoint {
  return {
    holdings: (request) => receiver.holdings(peerId, request),
    poolHealth: (request) => receiver.poolHealth(peerId, request.pool),
    open: (request) => receiver.open(peerId, request),
    transfer: (transferId, stream, signal) => receiver.transfer(peerId, transferId, stream, signal),
    drop: (transferId, reason) => {
      receiver.abort(peerId, transferId, toFerryError(reason));
      return Promise.resolve();
    },
  };
}
