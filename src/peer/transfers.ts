// The server's table of transfers: those issued by an open (transfer id, salt,
// expiry) and waiting for their one upload, and the uploads under way with the
// AbortController that stops each. An issued entry is taken out when its upload
// starts, so a second PUT with the same transfer id finds nothing.

import type { FerryError } from '../domain/errors.js';

export interface IssuedTransfer {
  readonly peer: string;
  readonly transferId: string;
  readonly salt: Uint8Array;
  /** Unix seconds. */
  readonly expiresAt: number;
}

interface Entry extends IssuedTransfer {
  readonly timer: NodeJS.Timeout;
}

const keyOf = (peer: string, transferId: string): string => `${peer}\n${transferId}`;

export class TransferTable {
  readonly #issued = new Map<string, Entry>();
  readonly #uploads = new Map<string, { peer: string; controller: AbortController }>();
  readonly #onExpire: (issued: IssuedTransfer) => void;

  constructor(onExpire: (issued: IssuedTransfer) => void) {
    this.#onExpire = onExpire;
  }

  issue(transfer: IssuedTransfer, ttlMs: number): void {
    const key = keyOf(transfer.peer, transfer.transferId);
    const old = this.#issued.get(key);
    if (old) clearTimeout(old.timer);
    const timer = setTimeout(() => {
      if (this.#issued.get(key)?.timer !== timer) return;
      this.#issued.delete(key);
      this.#onExpire(transfer);
    }, ttlMs);
    timer.unref();
    this.#issued.set(key, { ...transfer, timer });
  }

  /** Takes the issued transfer out (it can be uploaded once); undefined when unknown. */
  take(peer: string, transferId: string): IssuedTransfer | undefined {
    const key = keyOf(peer, transferId);
    const entry = this.#issued.get(key);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.#issued.delete(key);
    return entry;
  }

  /** Registers a running upload; returns the function that unregisters it. */
  startUpload(peer: string, transferId: string, controller: AbortController): () => void {
    const key = keyOf(peer, transferId);
    const entry = { peer, controller };
    this.#uploads.set(key, entry);
    return () => {
      if (this.#uploads.get(key) === entry) this.#uploads.delete(key);
    };
  }

  /** Aborts a running upload; false when none runs under that id. */
  abortUpload(peer: string, transferId: string, reason: FerryError): boolean {
    const entry = this.#uploads.get(keyOf(peer, transferId));
    if (!entry) return false;
    entry.controller.abort(reason);
    return true;
  }

  /** Aborts every upload of `peer` and takes out its issued transfers (returned, for the receiver to drop). */
  abortPeer(peer: string, reason: FerryError): { uploads: number; issued: IssuedTransfer[] } {
    let uploads = 0;
    for (const entry of this.#uploads.values()) {
      if (entry.peer !== peer) continue;
      entry.controller.abort(reason);
      uploads++;
    }
    const issued: IssuedTransfer[] = [];
    for (const [key, entry] of this.#issued) {
      if (entry.peer !== peer) continue;
      clearTimeout(entry.timer);
      this.#issued.delete(key);
      issued.push(entry);
    }
    return { uploads, issued };
  }

  /** Aborts everything (the server is closing). */
  close(reason: FerryError): void {
    for (const entry of this.#uploads.values()) entry.controller.abort(reason);
    for (const entry of this.#issued.values()) clearTimeout(entry.timer);
    this.#issued.clear();
  }
}
