// The store: one SQLite file per appliance, its repositories, and start-up recovery.
import { ChainRepo } from './chains.js';
import type { ConfigDump} from './config-dump.js';
import { dumpConfig, loadConfig } from './config-dump.js';
import { CopyRepo } from './copies.js';
import type { Db } from './db.js';
import { GrantRepo } from './grants.js';
import { damaged, openDatabase } from './db.js';
import { InviteRepo } from './invites.js';
import { migrate } from './migrations.js';
import { NonceRepo } from './nonces.js';
import { PeerRepo } from './peers.js';
import { PoolPolicyRepo } from './pool-policies.js';
import { PoolRepo } from './pools.js';
import { ReceiveTrailRepo } from './receive-trail.js';
import { SendTrailRepo } from './send-trail.js';
import { SettingsRepo } from './settings.js';
import { TaskRepo } from './tasks.js';

export class Store {
  readonly tasks: TaskRepo;
  readonly pools: PoolRepo;
  readonly sendTrail: SendTrailRepo;
  readonly receiveTrail: ReceiveTrailRepo;
  readonly settings: SettingsRepo;
  readonly peers: PeerRepo;
  readonly invites: InviteRepo;
  readonly nonces: NonceRepo;
  readonly grants: GrantRepo;
  readonly policies: PoolPolicyRepo;
  readonly chains: ChainRepo;
  readonly copies: CopyRepo;

  /** Use `openStore`; this expects a database already migrated. */
  constructor(private readonly db: Db) {
    this.tasks = new TaskRepo(db);
    this.pools = new PoolRepo(db);
    this.sendTrail = new SendTrailRepo(db);
    this.receiveTrail = new ReceiveTrailRepo(db);
    this.settings = new SettingsRepo(db);
    this.peers = new PeerRepo(db);
    this.invites = new InviteRepo(db);
    this.nonces = new NonceRepo(db);
    this.grants = new GrantRepo(db);
    this.policies = new PoolPolicyRepo(db);
    this.chains = new ChainRepo(db);
    this.copies = new CopyRepo(db);
  }

  /**
   * At start-up: every trail entry still 'running' (left by a crash) becomes
   * 'interrupted', endedAt = now, errorCode 'INTERRUPTED'. Returns counts.
   */
  markRunningInterrupted(now: Date): { send: number; receive: number } {
    const at = now.toISOString();
    return this.transaction(() => ({
      send: this.sendTrail.interruptRunning(at),
      receive: this.receiveTrail.interruptRunning(at),
    }));
  }

  /** Runs `fn` in one transaction (a savepoint when nested). `fn` must be synchronous. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** The configuration tables as rows (`ferry config export`). */
  dumpConfig(): ConfigDump {
    return dumpConfig(this.db);
  }

  /** Replaces the configuration tables (`ferry config import`), all or nothing. */
  loadConfig(dump: ConfigDump): void {
    loadConfig(this.db, dump);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens the store at `path` (':memory:' for a throw-away one), creating the
 * file with mode 0600 if it is new, and brings its schema up to date.
 */
export function openStore(path: string): Store {
  const db = openDatabase(path);
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw damaged(path, (err as { cause?: unknown }).cause ?? err) ?? err;
  }
  return new Store(db);
}
