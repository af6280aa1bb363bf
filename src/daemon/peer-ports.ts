// The peer layer's ports, backed by this appliance's store and receiver.

import type { NonceCache, PairingPort, PeerDirectory, PeerRecord, ReceiverPort } from '../peer/index.js';
import { fromPeerRecord, toPeerRecord } from '../peer/index.js';
import { FerryError } from '../domain/errors.js';
import { defaultKeepRemote } from '../domain/task.js';
import { fromBase64url } from '../../proto/ids.js';
import type { Receiver } from '../receiver/receiver.js';
import type { Restores } from './restores.js';
import type { Store } from '../store/index.js';

export function peerDirectory(store: Store): PeerDirectory {
  return {
    get: (id) => {
      const stored = store.peers.get(id);
      return stored ? toPeerRecord(stored) : undefined;
    },
  };
}

/** How often expired nonces are purged: on traffic only, so an idle daemon writes nothing. */
const NONCE_PURGE_EVERY_MS = 10 * 60_000;

export function nonceCache(store: Store): NonceCache {
  let lastPurge = 0;
  return {
    has: (sender, nonce) => store.nonces.has(sender, nonce),
    remember: (sender, nonce, expiresAt) => {
      const now = Date.now();
      if (now - lastPurge > NONCE_PURGE_EVERY_MS) {
        lastPurge = now;
        store.nonces.purge(Math.floor(now / 1000));
      }
      return store.nonces.remember(sender, nonce, expiresAt);
    },
  };
}

export function pairingPort(store: Store, unpaired?: (peerId: string) => { tasksPaused: number }): PairingPort {
  return {
    ...(unpaired ? { unpaired } : {}),
    inviteSecret: (inviteId) => {
      const secret = store.invites.secretOf(inviteId);
      return secret === undefined ? undefined : (fromBase64url(secret) ?? undefined);
    },
    recordFailure: (inviteId) => {
      store.invites.recordFailure(inviteId);
    },
    complete: (inviteId, accepter: PeerRecord) =>
      store.transaction(() => {
        const grant = store.invites.get(inviteId)?.grantPool ?? null;
        if (!store.invites.markUsed(inviteId)) return false;
        if (store.peers.get(accepter.id)) store.peers.remove(accepter.id);
        store.peers.add(fromPeerRecord(accepter));
        // The pool the invite granted, if the admin has not removed it meanwhile.
        if (grant !== null && store.pools.get(grant)) store.grants.grant(grant, accepter.id);
        return true;
      }),
  };
}

/**
 * The local receiver as the peer server reaches it. `enabled` is read on
 * every open, so `ferry service disable` refuses new transfers at once; a
 * restore this appliance's admin asked for is let in regardless.
 */
export function receiverPort(
  receiver: Receiver,
  enabled: () => boolean,
  restores?: Restores,
  keepConfig?: (peer: string, sealed: string) => Promise<{ bytes: number; storedAt: string }>,
): ReceiverPort {
  return {
    ...(keepConfig ? { keepConfig } : {}),
    holdings: (peer, request) => receiver.holdings(peer, request),
    poolHealth: (peer, request) => receiver.poolHealth(peer, request.pool),
    ...(restores ? { restore: (peer: string, request: Parameters<Restores['serve']>[1]) => restores.serve(peer, request) } : {}),
    open: (peer, request) => {
      if (!enabled() && request.restoreId === undefined) {
        return Promise.reject(new FerryError('SERVICE_DISABLED', 'the replication service is disabled on the receiving appliance'));
      }
      const { restoreId, keepRemote, ...rest } = request;
      return receiver.open(peer, {
        ...rest,
        ...(restoreId === undefined ? {} : { restoreId }),
        keepRemote: keepRemote ?? defaultKeepRemote,
      });
    },
    transfer: (peer, transferId, stream, signal) => receiver.transfer(peer, transferId, stream, signal),
    abort: (peer, transferId, reason) => receiver.abort(peer, transferId, reason),
  };
}
