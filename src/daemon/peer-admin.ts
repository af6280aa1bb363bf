// The admin's side of pairing: invites made and accepted, the peers this
// appliance trusts, and their removal, which the peer hears of (a signed
// notice) so that neither side lists a pair only one of them still has.

import type { Dispatcher } from 'undici';
import type { PeerView } from '../api/schemas.js';
import type { PeerRemovedView } from '../api/views.js';
import { fingerprint, publicIdentity, type Identity } from '../crypto/index.js';
import { FerryError, describeError, toFerryError } from '../domain/errors.js';
import type { Task } from '../domain/task.js';
import { acceptInvite, createInvite, fromPeerRecord, PeerClient, toPeerRecord, type PeerServer } from '../peer/index.js';
import type { Peer, Store } from '../store/index.js';
import { hostPortOf, peerUrl } from './addresses.js';

/** How long `peer remove` waits for the peer to hear of it: an unreachable peer does not hold the removal up. */
const TELL_PEER_MS = 10_000;

export interface PeerAdminDeps {
  readonly store: Store;
  readonly identity: Identity;
  /** This appliance's name, as invites and pairing answers carry it. */
  readonly name: string;
  /** Where peers reach this appliance now (the port chosen at start for port 0). */
  readonly advertise: () => string;
  readonly dispatcher: Dispatcher;
  readonly stopping: AbortSignal;
  readonly peerServer: () => PeerServer | null;
  /** NOT_FOUND unless the pool exists (an invite's grant). */
  readonly checkPool: (name: string) => void;
  /** Tasks were paused or removed: the scheduler follows. */
  readonly tasksChanged: () => void;
}

export class PeerAdmin {
  constructor(private readonly d: PeerAdminDeps) {}

  invite(options: { ttlSeconds?: number | undefined; grantPool?: string | undefined }): Promise<{ invite: string; expiresAt: string; fingerprint: string }> {
    // The pool must exist now; the grant is made when the invite is accepted.
    if (options.grantPool !== undefined) this.d.checkPool(options.grantPool);
    const created = createInvite({
      identity: this.d.identity,
      name: this.d.name,
      address: peerUrl(this.d.advertise()),
      ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
    });
    this.d.store.invites.purgeExpired();
    this.d.store.invites.create({
      inviteId: created.invite.inviteId,
      secret: created.secret,
      expiresAt: created.invite.expiresAt,
      grantPool: options.grantPool ?? null,
    });
    return Promise.resolve({
      invite: created.line,
      expiresAt: new Date(created.invite.expiresAt * 1000).toISOString(),
      fingerprint: fingerprint(publicIdentity(this.d.identity)),
    });
  }

  async accept(invite: string): Promise<PeerView> {
    const record = await acceptInvite({
      identity: this.d.identity,
      name: this.d.name,
      address: peerUrl(this.d.advertise()),
      invite,
      dispatcher: this.d.dispatcher,
    });
    const store = this.d.store;
    store.transaction(() => {
      if (store.peers.get(record.id)) store.peers.remove(record.id);
      store.peers.add(fromPeerRecord(record));
    });
    return this.view(this.d.store.peers.need(record.id));
  }

  list(): Promise<PeerView[]> {
    return Promise.resolve(this.d.store.peers.list().map((p) => this.view(p)));
  }

  /**
   * Unpairs: the peer is told first (while this appliance can still sign to
   * it), so that it forgets this one too instead of listing a pair that no
   * longer works; then it is forgotten here whether or not it could be told.
   */
  async remove(peer: string, tasks: 'pause' | 'remove' = 'pause'): Promise<PeerRemovedView> {
    const found = this.d.store.peers.need(peer);
    let told: PeerRemovedView['told'];
    try {
      const answered = await this.#client(found).unpair(AbortSignal.any([this.d.stopping, AbortSignal.timeout(TELL_PEER_MS)]));
      told = { reached: true, tasksPaused: answered.tasksPaused, error: null };
    } catch (thrown) {
      told = { reached: false, tasksPaused: 0, error: describeError(toFerryError(thrown)) };
    }
    const stranded = this.#forget(found, tasks);
    const action = tasks === 'remove' ? ('removed' as const) : ('paused' as const);
    return { ...this.view(found), tasks: stranded.map((t) => ({ name: t.name, action })), told };
  }

  /** The peer removed this appliance (its signed notice): forgotten here too, its tasks paused. */
  endedByPeer(peerId: string): { tasksPaused: number } {
    const found = this.d.store.peers.get(peerId);
    if (!found) return { tasksPaused: 0 };
    return { tasksPaused: this.#forget(found, 'pause').length };
  }

  /** Forgets a peer here; returns the tasks that sent to it. */
  #forget(found: Peer, tasks: 'pause' | 'remove'): Task[] {
    const { store } = this.d;
    // Its tasks could only fail NOT_PAIRED from now on: paused (kept, to point at another peer or pair again) or removed.
    const stranded = store.tasks.list().filter((t) => t.peer === found.id);
    store.transaction(() => {
      store.peers.remove(found.id);
      store.grants.removePeer(found.id);
      store.policies.removePeer(found.id);
      for (const t of stranded) {
        if (tasks === 'remove') store.tasks.remove(t.name);
        else store.tasks.setPaused(t.name, true);
      }
    });
    // Removal from the store refuses its next request; this ends what is in flight.
    this.d.peerServer()?.abortPeer(found.id);
    if (stranded.length > 0) this.d.tasksChanged();
    return stranded;
  }

  #client(peer: Peer): PeerClient {
    return new PeerClient({ identity: this.d.identity, peer: toPeerRecord(peer), dispatcher: this.d.dispatcher });
  }

  setAddress(peer: string, address: string): Promise<PeerView> {
    const found = this.d.store.peers.need(peer);
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address)) throw new FerryError('INVALID_INPUT', `'${address}' is not HOST:PORT`);
    this.d.store.peers.setAddress(found.id, peerUrl(address));
    return Promise.resolve(this.view(this.d.store.peers.need(found.id)));
  }

  /** A peer as the admin API shows it. */
  view(peer: Peer): PeerView {
    return {
      id: peer.id,
      name: peer.name,
      address: hostPortOf(peer.address),
      fingerprint: fingerprint(toPeerRecord(peer)),
      pairedAt: peer.pairedAt,
      grants: this.d.store.grants.poolsOf(peer.id),
    };
  }
}
