// The admin API's client, used by the CLI (and tests). It turns every way a
// call can go wrong into one of two errors: the daemon answered no (ApiError,
// with the code it gave) or the daemon could not be reached (DaemonUnreachable).

import { request } from 'undici';
import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import type { CopyView, PoolView, ReplicaView, TaskView } from './ports.js';
import type { CopyBody, RestoreBody, RestoreView, PeerView, PolicyBody, ReplicaQuery, RunView, StatusView, TaskAddBody, TrailQuery } from './schemas.js';
import { ADMIN_PREFIX } from './server.js';

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
    let response;
    try {
      response = await request(this.#base + path, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
    } catch (err) {
      throw new DaemonUnreachable(this.#base, err);
    }
    const text = await response.body.text();
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw new ApiError(response.statusCode, 'INTERNAL', `the daemon answered ${response.statusCode} with a body that is not JSON`);
    }
    if (response.statusCode >= 400) {
      const e = (json ?? {}) as { code?: string; message?: string };
      throw new ApiError(response.statusCode, e.code ?? 'INTERNAL', e.message ?? `the daemon answered ${response.statusCode}`);
    }
    return json as T;
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
