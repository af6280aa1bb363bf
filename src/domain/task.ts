import type { HealthPolicy } from './health.js';

// A task: "replicate share S to pool Q of peer P on schedule X, keep N here and M there".

export type Schedule = { readonly kind: 'every'; readonly seconds: number } | { readonly kind: 'cron'; readonly expr: string };

export interface Task {
  readonly name: string;
  /** Absolute path of the share (a btrfs subvolume) on this appliance. */
  readonly sharePath: string;
  /** The share's name as the receiver files it (its replica directory): the last component of sharePath unless the admin chose another. */
  readonly share: string;
  /** The share subvolume's UUID when the task was added: two tasks of one share to one peer and pool are refused. */
  readonly shareUuid?: string | null;
  /** Peer id (or, for an in-process pair, the local appliance id). */
  readonly peer: string;
  /** Pool on the receiving appliance. */
  readonly pool: string;
  readonly schedule: Schedule;
  readonly keepLocal: number;
  readonly keepRemote: number;
  readonly paused: boolean;
  readonly createdAt: string;
  /** What to do when a pool is degraded; defaultHealthPolicy when absent. */
  readonly healthPolicy?: HealthPolicy;
  /** Attempts after the first within one run, for transient failures only; the appliance's default when absent. */
  readonly retries?: number;
  /** The first retry's delay; each next one doubles, with jitter, up to a minute (or this, if longer). */
  readonly retryBackoffMs?: number;
}

export const defaultRetries = 3;
export const defaultRetryBackoffMs = 2_000;
export const maxRetries = 20;

export const defaultKeepLocal = 5;
export const defaultKeepRemote = 10;
