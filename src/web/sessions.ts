// Signed-in web UI sessions, in memory: a restart signs everyone out, which
// is what an admin expects of an appliance UI. A session ends when idle too
// long, when too old, when the admin signs out, or when the password is set
// again (the session remembers the password file's stamp). Pure apart from
// the clock and the random source it is given, so tests drive it with tables.

export interface Session {
  readonly id: string;
  /** Sent back in a header by every change the page makes: a page of another site cannot read it. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeenAt: number;
  /** The password file's stamp when the admin signed in. */
  readonly stamp: string;
}

export interface SessionLimits {
  /** A session not used for this long ends. */
  readonly idleMs: number;
  /** No session lasts longer than this, used or not. */
  readonly maxMs: number;
  /** Sessions kept at once; the least recently used one goes first. */
  readonly max: number;
}

export const defaultSessionLimits: SessionLimits = { idleMs: 2 * 3600_000, maxMs: 12 * 3600_000, max: 64 };

export class Sessions {
  readonly #byId = new Map<string, Session>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly random: () => string,
    private readonly now: () => number = Date.now,
  ) {}

  create(stamp: string): Session {
    const at = this.now();
    const session: Session = { id: this.random(), csrf: this.random(), createdAt: at, lastSeenAt: at, stamp };
    this.#byId.set(session.id, session);
    while (this.#byId.size > this.limits.max) {
      const oldest = [...this.#byId.values()].reduce((a, b) => (b.lastSeenAt < a.lastSeenAt ? b : a));
      this.#byId.delete(oldest.id);
    }
    return session;
  }

  /** The live session with this id, touched; null (and forgotten) when it ended. */
  use(id: string | undefined, stamp: string | null): Session | null {
    if (id === undefined) return null;
    const session = this.#byId.get(id);
    if (!session) return null;
    const at = this.now();
    if (stamp !== session.stamp || at - session.lastSeenAt >= this.limits.idleMs || at - session.createdAt >= this.limits.maxMs) {
      this.#byId.delete(id);
      return null;
    }
    session.lastSeenAt = at;
    return session;
  }

  /** When the session ends if it stays idle. */
  expiresAt(session: Session): number {
    return Math.min(session.lastSeenAt + this.limits.idleMs, session.createdAt + this.limits.maxMs);
  }

  remove(id: string): void {
    this.#byId.delete(id);
  }

  get size(): number {
    return this.#byId.size;
  }
}
