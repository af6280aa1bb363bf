/**
 * Named, non-waiting locks: "one run per task", "one transfer per share".
 * A second taker is refused at once rather than queued, because a queued
 * replication run would only repeat work the running one is doing.
 */
export class KeyedLock {
  readonly #held = new Set<string>();

  tryAcquire(key: string): (() => void) | null {
    if (this.#held.has(key)) return null;
    this.#held.add(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held.delete(key);
    };
  }

  isHeld(key: string): boolean {
    return this.#held.has(key);
  }

  get keys(): string[] {
    return [...this.#held];
  }
}
