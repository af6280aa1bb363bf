// The appliance's state directory: config, identity, admin token and the
// database. Secrets are written 0600 through a temporary file and a rename,
// so a crash never leaves a half-written key behind.

// The files a command reads here are a few hundred bytes each: read at once,
// synchronously, rather than through node's thread pool, which a command would
// start for them alone (and node:fs/promises, which the writes use, is loaded
// only when they run: npm run bench:cli).
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { FerryError } from '../domain/errors.js';
import { useIssueSentences } from '../domain/issue-sentences.js';

// A config.json that is refused says why in words, in the CLI as in the daemon.
useIssueSentences();

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FERRY_STATE && env.FERRY_STATE !== '' ? env.FERRY_STATE : '/var/lib/ferry';
}

/** HOST:PORT; port 0 lets the system choose one when the daemon starts (its address is then in bound.json). */
export const hostPortSchema = z.string().check(
  z.regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected HOST:PORT'),
  z.refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1));
    return port >= 0 && port < 65536;
  }, 'port must be 0-65535 (0: chosen at start)'),
);

/** True for HOST:0: the port is chosen when the daemon starts. */
export function choosesPort(hostPort: string): boolean {
  return hostPort.endsWith(':0');
}

/** Where a running daemon actually listens (bound.json): what config.json says, with the ports it chose for port 0. */
export const boundSchema = z.strictObject({ pid: z.int(), listen: z.string(), admin: z.string(), advertise: z.string(), metrics: z.nullable(z.string()), ui: z.optional(z.nullable(z.string())) });
export type Bound = z.infer<typeof boundSchema>;

/** Where the admin API listens: HOST:PORT, or `unix:/path` for a unix socket (made 0600: only root talks to it). */
export const adminAddressSchema = z.union([hostPortSchema, z.string().check(z.regex(/^unix:\/[^\0]{1,100}$/, 'expected HOST:PORT or unix:/absolute/path'))]);

/** The socket path of a `unix:/path` admin address, else null. */
export function adminSocketPath(admin: string): string | null {
  return admin.startsWith('unix:') ? admin.slice('unix:'.length) : null;
}

/** True for 127.0.0.0/8, ::1 and localhost: addresses no other machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

export const configSchema = z.object({
  version: z.literal(1),
  name: z.string().check(z.minLength(1), z.maxLength(64)),
  /** Where the peer server listens. */
  listen: hostPortSchema,
  /** Where the admin API listens: localhost by default, or a unix socket. */
  admin: adminAddressSchema,
  /** The admin API may listen beyond loopback (ferry init --admin-beyond-loopback): anyone who reaches it and holds the token is root on the pools. */
  adminBeyondLoopback: z.optional(z.boolean()),
  /** Where peers reach us (NAT, port forward); defaults to listen. */
  advertise: hostPortSchema,
  /** An extra listener serving only GET /metrics (Prometheus text, no token): for a scraper that should not hold the admin token. */
  metrics: z.optional(hostPortSchema),
  /**
   * The web UI for the LAN: a TLS listener (the admin listener serves it on
   * loopback only). Without cert and key, a self-signed pair made in the state
   * dir; `ferry status` shows its fingerprint.
   */
  ui: z.optional(
    z
      .strictObject({
        listen: hostPortSchema,
        /** Further names the UI is reached by (DNS names, addresses behind NAT): it answers only to these, its own address, this machine's addresses and loopback. */
        hosts: z.optional(z.array(z.string().check(z.regex(/^[A-Za-z0-9.:-]{1,253}$/, 'a host name or address'))).check(z.maxLength(32))),
        cert: z.optional(z.string().check(z.startsWith('/', 'ui.cert must be an absolute path'))),
        key: z.optional(z.string().check(z.startsWith('/', 'ui.key must be an absolute path'))),
      })
      .check(z.refine((u) => (u.cert === undefined) === (u.key === undefined), 'give ui.cert and ui.key together, or neither (a self-signed pair)')),
  ),
  /** Runs at once across all tasks, and the largest jitter after a slot. */
  scheduler: z.optional(
    z.strictObject({
      maxConcurrentRuns: z.optional(z.int().check(z.gte(1), z.lte(64))),
      jitterSeconds: z.optional(z.int().check(z.gte(0), z.lte(3600))),
    }),
  ),
  /** What maintenance keeps, and how often each job runs (seconds). */
  maintenance: z.optional(
    z.strictObject({
      trailKeepDays: z.optional(z.int().check(z.gte(1), z.lte(36_500))),
      trailKeepPerTask: z.optional(z.int().check(z.gte(1), z.lte(10_000_000))),
      trailsEverySeconds: z.optional(z.int().check(z.gte(1))),
      purgeEverySeconds: z.optional(z.int().check(z.gte(1))),
      sweepEverySeconds: z.optional(z.int().check(z.gte(1))),
      healthEverySeconds: z.optional(z.int().check(z.gte(1))),
    }),
  ),
});
export type Config = z.infer<typeof configSchema>;

export class StateDir {
  constructor(readonly root: string) {}

  get configPath(): string {
    return path.join(this.root, 'config.json');
  }
  get identityPath(): string {
    return path.join(this.root, 'identity.json');
  }
  get tokenPath(): string {
    return path.join(this.root, 'admin.token');
  }
  /** Written by a running daemon once it listens, removed when it stops. */
  get boundPath(): string {
    return path.join(this.root, 'bound.json');
  }

  /** Where the running daemon listens; null when it does not run (or never wrote it). */
  readBound(): Bound | null {
    let text: string;
    try {
      text = readFileSync(this.boundPath, 'utf8');
    } catch {
      return null;
    }
    const parsed = boundSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  }

  get databasePath(): string {
    return path.join(this.root, 'ferry.db');
  }

  async exists(): Promise<boolean> {
    try {
      await fs.stat(this.configPath);
      return true;
    } catch {
      return false;
    }
  }

  async create(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    await fs.chmod(this.root, 0o700);
  }

  readConfig(): Config {
    let text: string;
    try {
      text = readFileSync(this.configPath, 'utf8');
    } catch {
      throw new FerryError('NOT_FOUND', `no appliance in ${this.root}: run 'ferry init' first (or pass --state DIR)`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new FerryError('INVALID_INPUT', `${this.configPath} is not valid JSON (${err instanceof Error ? err.message : String(err)}): fix it, or bring it back with 'ferry config import'`);
    }
    const parsed = configSchema.safeParse(json);
    if (!parsed.success) {
      throw new FerryError('INVALID_INPUT', `${this.configPath} is not a valid Ferry config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return Object.freeze(parsed.data);
  }

  async writeConfig(config: Config): Promise<void> {
    await writeSecret(this.configPath, JSON.stringify(configSchema.parse(config), null, 2) + '\n');
  }

  readToken(): string {
    try {
      return readFileSync(this.tokenPath, 'utf8').trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new FerryError('NOT_FOUND', `${this.tokenPath} is missing: the daemon and ferry share it; bring it back from a backup of ${this.root}, or import this appliance's export into a new state dir ('ferry config import')`);
      }
      if (code === 'EACCES' || code === 'EPERM') throw new FerryError('NOT_FOUND', `cannot read ${this.tokenPath}: it is root's alone (0600); run ferry as root`);
      throw err;
    }
  }

  /** A fresh admin token, made by the caller (the daemon's init and import: the CLI never loads node:crypto for it). */
  async writeNewToken(randomBytes: (n: number) => Buffer): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await writeSecret(this.tokenPath, token + '\n');
    return token;
  }
}

/** Writes a file readable by its owner only, atomically. */
export async function writeSecret(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await fs.open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.chmod(tmp, 0o600);
  await fs.rename(tmp, file);
}
