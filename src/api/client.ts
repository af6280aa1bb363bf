// The admin API's client, used by the CLI (and tests). It turns every way a
// call can go wrong into one of two errors: the daemon answered no (ApiError,
// with the code it gave) or the daemon could not be reached (DaemonUnreachable).

import http from 'node:http';
import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import type { CopyView, PoolView, ReplicaView, TaskView } from './ports.js';
import type { CopyBody, RestoreBody, RestoreView, PeerView, PolicyBody, ReplicaQuery, RunView, StatusView, TaskAddBody, TrailQuery } from './schemas.js';
import { ADMIN_PREFIX } from './routes.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class DaemonUnreachable extends Error {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(`the Ferry daemon at ${address} could not be reached (is 'ferry serve' running?): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'DaemonUnreachable';
  }
}

export class AdminClient {
  readonly #base: string;
  readonly #token: string;

  constructor(options: { address: string; token: string }) {
    this.#base = `http://${options.address}${ADMIN_PREFIX}`;
    this.#token = options.token;
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const { status, text } = await this.#send(method, path, body === undefined ? undefined : JSON.stringify(body));
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw new ApiError(status, 'INTERNAL', `the daemon answered ${status} with a body that is not JSON`);
    }
    if (status >= 400) {
      const e = (json ?? {}) as { code?: string; message?: string };
      throw new ApiError(status, e.code ?? 'INTERNAL', e.message ?? `the daemon answered ${status}`);
    }
    return json as T;
  }

  /**
   * One request over node:http: the CLI makes one or a few calls to a local
   * daemon, and loading an HTTP client library would cost more start-up time
   * than all of them together (undici serves the peer transport).
   */
  #send(method: string, path: string, body: string | undefined): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const unreachable = (err: unknown): void => reject(new DaemonUnreachable(this.#base, err));
      const req = http.request(
        this.#base + path,
        {
          method,
          headers: {
            authorization: `Bearer ${this.#token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', unreachable);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', unreachable);
      req.end(body);
    });
  }

  status = (): Promise<StatusView> => this.call('GET', '/status');
  setService = (enabled: boolean): Promise<StatusView> => this.call('PUT', '/service', { enabled });
  listPools = (): Promise<PoolView[]> => this.call('GET', '/pools');
  addPool = (name: string, path: string): Promise<PoolView> => this.call('POST', '/pools', { name, path });
  removePool = (name: string): Promise<unknown> => this.call('DELETE', `/pools/${encodeURIComponent(name)}`);
  grantPool = (pool: string, peer: string): Promise<PoolView> => this.call('POST', `/pools/${encodeURIComponent(pool)}/grants`, { peer });
  revokePool = (pool: string, peer: string): Promise<PoolView> => this.call('DELETE', `/pools/${encodeURIComponent(pool)}/grants/${encodeURIComponent(peer)}`);
  setPoolPolicy = (pool: string, change: PolicyBody): Promise<PoolView> => this.call('PUT', `/pools/${encodeURIComponent(pool)}/policy`, change);
  invite = (options: { ttlSeconds?: number; grantPool?: string } = {}): Promise<{ invite: string; expiresAt: string; fingerprint: string }> =>
    this.call('POST', '/pair/invite', options);
  accept = (invite: string): Promise<PeerView> => this.call('POST', '/pair/accept', { invite });
  listPeers = (): Promise<PeerView[]> => this.call('GET', '/peers');
  removePeer = (peer: string): Promise<PeerView> => this.call('DELETE', `/peers/${encodeURIComponent(peer)}`);
  setPeerAddress = (peer: string, address: string): Promise<PeerView> => this.call('PUT', `/peers/${encodeURIComponent(peer)}/address`, { address });
  addTask = (body: TaskAddBody): Promise<{ task: TaskView; warnings: string[] }> => this.call('POST', '/tasks', body);
  listTasks = (): Promise<TaskView[]> => this.call('GET', '/tasks');
  showTask = (name: string): Promise<TaskView & { recent: SendTrailEntry[] }> => this.call('GET', `/tasks/${encodeURIComponent(name)}`);
  runTask = (name: string): Promise<RunView> => this.call('POST', `/tasks/${encodeURIComponent(name)}/run`);
  cancelTask = (name: string): Promise<RunView> => this.call('POST', `/tasks/${encodeURIComponent(name)}/cancel`);
  getRun = (id: string): Promise<RunView> => this.call('GET', `/runs/${encodeURIComponent(id)}`);
  pauseTask = (name: string): Promise<TaskView> => this.call('POST', `/tasks/${encodeURIComponent(name)}/pause`);
  resumeTask = (name: string): Promise<TaskView> => this.call('POST', `/tasks/${encodeURIComponent(name)}/resume`);
  removeTask = (name: string): Promise<unknown> => this.call('DELETE', `/tasks/${encodeURIComponent(name)}`);
  sendTrail = (query: TrailQuery): Promise<SendTrailEntry[]> => this.call('GET', `/trail/send${queryString(query)}`);
  receiveTrail = (query: TrailQuery): Promise<ReceiveTrailEntry[]> => this.call('GET', `/trail/receive${queryString(query)}`);
  listReplicas = (query: ReplicaQuery = {}): Promise<ReplicaView[]> => this.call('GET', `/replicas${queryString(query)}`);
  copyReplica = (body: CopyBody): Promise<CopyView> => this.call('POST', '/replicas/copies', body);
  discardClone = (path: string): Promise<CopyView> => this.call('POST', '/replicas/discard', { path });
  restore = (body: RestoreBody): Promise<RestoreView> => this.call('POST', '/restores', body);
  getRestore = (id: string): Promise<RestoreView> => this.call('GET', `/restores/${encodeURIComponent(id)}`);
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}
