import { randomUUID } from 'node:crypto';

/** A new attempt id: random, so that both sides can use it as a key without coordination. */
export function newAttemptId(): string {
  return randomUUID();
}
