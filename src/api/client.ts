// The admin API's client, used by the CLI (and tests). It turns every way a
// call can go wrong into one of two errors: the daemon answered no (ApiError,
// with the code it gave) or the daemon could not be reached (DaemonUnreachable).

import http from 'node:http';
import { z } from 'zod';
import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import { ADMIN_PREFIX } from './routes.js';
import type { CopyBody, PolicyBody, ReplicaQuery, RestoreBody, TaskAddBody, TaskEditBody, TrailQuery } from './schemas.js';
import {
  AddedTaskView,
  ApiErrorBody,
  CopyView,
  InviteView,
  PeerView,
  PoolView,
  ReceiveTrailEntryView,
  RemovedView,
  ReplicaView,
  RestoreView,
  RunEvent,
  RunView,
  SendTrailEntryView,
  StatusView,
  TaskDetailView,
  TaskView,
} from './views.js';

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

  /** For a `unix:/path` address: the socket the requests go to. */
  readonly #socketPath: string | undefined;

  constructor(options: { address: string; token: string }) {
    const unix = options.address.startsWith('unix:') ? options.address.slice('unix:'.length) : undefined;
    this.#socketPath = unix;
    this.#base = `http://${unix === undefined ? options.address : 'localhost'}${ADMIN_PREFIX}`;
    this.#token = options.token;
  }

  /** One call; the answer is checked against the route's schema (views.ts), as the daemon declared it. */
  async call<T extends z.ZodType>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, schema: T, body?: unknown): Promise<z.output<T>> {
    const { status, text } = await this.#send(method, path, body === undefined ? undefined : JSON.stringify(body));
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw new ApiError(status, 'INTERNAL', `the daemon answered ${status} with a body that is not JSON`);
    }
    if (status >= 400) {
      const e = ApiErrorBody.safeParse(json);
      throw new ApiError(status, e.success ? e.data.code : 'INTERNAL', e.success ? e.data.message : `the daemon answered ${status}`);
    }
    const checked = schema.safeParse(json);
    if (!checked.success) {
      const first = checked.error.issues[0];
      throw new ApiError(status, 'BAD_ANSWER', `the daemon's answer to ${method} ${path} does not match this ferry's contract (is it another version?): ${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
    }
    return checked.data;
  }

  /**
   * Listens to the live events (GET /events). Resolves once the daemon is
   * streaming, so that a run started after it is seen from its first event;
   * `close` ends the listening. Each event is checked against its schema.
   */
  events(onEvent: (event: RunEvent) => void): Promise<{ close: () => void; onEnd: (f: () => void) => void }> {
    return new Promise((resolve, reject) => {
      const req = http.request(this.#base + '/events', {
        method: 'GET',
        headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' },
        ...(this.#socketPath === undefined ? {} : { socketPath: this.#socketPath }),
      });
      req.on('error', (err) => reject(new DaemonUnreachable(this.#base, err)));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new ApiError(res.statusCode ?? 0, 'INTERNAL', `the daemon answered ${res.statusCode} to the event stream`));
          return;
        }
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (text: string) => {
          buffer += text;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data === '') continue;
            const parsed = RunEvent.safeParse(JSON.parse(data));
            if (parsed.success) onEvent(parsed.data);
          }
        });
        res.on('error', () => undefined);
        resolve({ close: () => req.destroy(), onEnd: (f) => res.once('close', f) });
      });
      req.end();
    });
  }

  /**
   * One request over node:http: the CLI makes one or a few calls to a local
   * daemon, and loading an HTTP client library would cost more start-up time
   * than all of them together (undici serves the peer transport).
   */
  #send(method: string, path: string, body: string | undefined): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const unreachable = (err: unknown): void => reject(new DaemonUnreachable(this.#socketPath === undefined ? this.#base : `unix:${this.#socketPath}`, err));
      const req = http.request(
        this.#base + path,
        {
          method,
          headers: {
            authorization: `Bearer ${this.#token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
          timeout: 30_000,
          ...(this.#socketPath === undefined ? {} : { socketPath: this.#socketPath }),
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

  status = (): Promise<StatusView> => this.call('GET', '/status', StatusView);
  setService = (enabled: boolean): Promise<StatusView> => this.call('PUT', '/service', StatusView, { enabled });
  listPools = (): Promise<PoolView[]> => this.call('GET', '/pools', z.array(PoolView));
  addPool = (name: string, path: string): Promise<PoolView> => this.call('POST', '/pools', PoolView, { name, path });
  removePool = (name: string): Promise<unknown> => this.call('DELETE', `/pools/${encodeURIComponent(name)}`, RemovedView);
  grantPool = (pool: string, peer: string): Promise<PoolView> => this.call('POST', `/pools/${encodeURIComponent(pool)}/grants`, PoolView, { peer });
  revokePool = (pool: string, peer: string): Promise<PoolView> => this.call('DELETE', `/pools/${encodeURIComponent(pool)}/grants/${encodeURIComponent(peer)}`, PoolView);
  setPoolPolicy = (pool: string, change: PolicyBody): Promise<PoolView> => this.call('PUT', `/pools/${encodeURIComponent(pool)}/policy`, PoolView, change);
  invite = (options: { ttlSeconds?: number; grantPool?: string } = {}): Promise<InviteView> => this.call('POST', '/pair/invite', InviteView, options);
  accept = (invite: string): Promise<PeerView> => this.call('POST', '/pair/accept', PeerView, { invite });
  listPeers = (): Promise<PeerView[]> => this.call('GET', '/peers', z.array(PeerView));
  removePeer = (peer: string): Promise<PeerView> => this.call('DELETE', `/peers/${encodeURIComponent(peer)}`, PeerView);
  setPeerAddress = (peer: string, address: string): Promise<PeerView> => this.call('PUT', `/peers/${encodeURIComponent(peer)}/address`, PeerView, { address });
  addTask = (body: TaskAddBody): Promise<AddedTaskView> => this.call('POST', '/tasks', AddedTaskView, body);
  listTasks = (): Promise<TaskView[]> => this.call('GET', '/tasks', z.array(TaskView));
  editTask = (name: string, change: TaskEditBody): Promise<TaskView> => this.call('PATCH', `/tasks/${encodeURIComponent(name)}`, TaskView, change);
  showTask = (name: string): Promise<TaskDetailView> => this.call('GET', `/tasks/${encodeURIComponent(name)}`, TaskDetailView);
  runTask = (name: string): Promise<RunView> => this.call('POST', `/tasks/${encodeURIComponent(name)}/run`, RunView);
  cancelTask = (name: string): Promise<RunView> => this.call('POST', `/tasks/${encodeURIComponent(name)}/cancel`, RunView);
  getRun = (id: string): Promise<RunView> => this.call('GET', `/runs/${encodeURIComponent(id)}`, RunView);
  pauseTask = (name: string): Promise<TaskView> => this.call('POST', `/tasks/${encodeURIComponent(name)}/pause`, TaskView);
  resumeTask = (name: string): Promise<TaskView> => this.call('POST', `/tasks/${encodeURIComponent(name)}/resume`, TaskView);
  removeTask = (name: string): Promise<unknown> => this.call('DELETE', `/tasks/${encodeURIComponent(name)}`, RemovedView);
  sendTrail = (query: TrailQuery): Promise<SendTrailEntry[]> => this.call('GET', `/trail/send${queryString(query)}`, z.array(SendTrailEntryView));
  receiveTrail = (query: TrailQuery): Promise<ReceiveTrailEntry[]> => this.call('GET', `/trail/receive${queryString(query)}`, z.array(ReceiveTrailEntryView));
  listReplicas = (query: ReplicaQuery = {}): Promise<ReplicaView[]> => this.call('GET', `/replicas${queryString(query)}`, z.array(ReplicaView));
  copyReplica = (body: CopyBody): Promise<CopyView> => this.call('POST', '/replicas/copies', CopyView, body);
  discardClone = (path: string): Promise<CopyView> => this.call('POST', '/replicas/discard', CopyView, { path });
  restore = (body: RestoreBody): Promise<RestoreView> => this.call('POST', '/restores', RestoreView, body);
  getRestore = (id: string): Promise<RestoreView> => this.call('GET', `/restores/${encodeURIComponent(id)}`, RestoreView);
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}
