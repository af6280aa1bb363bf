// The admin API's client, used by the CLI (and tests). It turns every way a
// call can go wrong into one of two errors: the daemon answered no (ApiError,
// with the code it gave) or the daemon could not be reached (DaemonUnreachable).

import http from 'node:http';
import { safeParse } from 'zod/mini';
import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import { adminRoutes, targetOf, type AdminRoute, type CallInput, type RouteAnswer } from './routes.js';
import type { CopyBody, PolicyBody, ReplicaQuery, RestoreBody, TaskAddBody, TaskEditBody, TrailQuery } from './schemas.js';
import { ApiErrorBody, RunEvent, type AddedTaskView, type CopyView, type InviteView, type PeerRemovedView, type PeerView, type PoolView, type ReplicaView, type RestoreView, type RunView, type StatusView, type TaskDetailView, type TaskView } from './views.js';

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

/**
 * Where to connect for a listener address: one that listens on every address
 * (0.0.0.0, [::]) is reached on loopback, a name its Host allowlist holds;
 * "0.0.0.0" names no host a browser or the allowlist would accept.
 */
export function connectAddress(address: string): string {
  return address.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

export class AdminClient {
  readonly #base: string;
  readonly #token: string;

  /** For a `unix:/path` address: the socket the requests go to. */
  readonly #socketPath: string | undefined;

  constructor(options: { address: string; token: string }) {
    const unix = options.address.startsWith('unix:') ? options.address.slice('unix:'.length) : undefined;
    this.#socketPath = unix;
    this.#base = `http://${unix === undefined ? connectAddress(options.address) : 'localhost'}`;
    this.#token = options.token;
  }

  /** One call of a route of the table; the answer is checked against the route's schema, as the daemon declared it. */
  async call<R extends AdminRoute>(route: R, input: CallInput<R>): Promise<RouteAnswer<R>> {
    const target = targetOf(route, input);
    const body = (input as { body?: unknown }).body;
    const { status, text } = await this.#send(route.method, target, body === undefined ? undefined : JSON.stringify(body));
    const what = `${route.method} ${route.path}`;
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw new ApiError(status, 'INTERNAL', `the daemon answered ${status} to ${what} with a body that is not JSON`);
    }
    if (status >= 400) {
      const e = ApiErrorBody.safeParse(json);
      throw new ApiError(status, e.success ? e.data.code : 'INTERNAL', e.success ? e.data.message : `the daemon answered ${status} to ${what}`);
    }
    const checked = safeParse(route.response, json);
    if (!checked.success) {
      const first = checked.error.issues[0];
      throw new ApiError(status, 'BAD_ANSWER', `the daemon's answer to ${what} does not match this ferry's contract (is it another version?): ${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
    }
    return checked.data as RouteAnswer<R>;
  }

  /**
   * Listens to the live events (GET /events). Resolves once the daemon is
   * streaming, so that a run started after it is seen from its first event;
   * `close` ends the listening. Each event is checked against its schema.
   */
  events(onEvent: (event: RunEvent) => void): Promise<{ close: () => void; onEnd: (f: () => void) => void }> {
    return new Promise((resolve, reject) => {
      const req = http.request(this.#base + adminRoutes.events.path, {
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

  status = (): Promise<StatusView> => this.call(adminRoutes.status, {});
  setService = (enabled: boolean): Promise<StatusView> => this.call(adminRoutes.setService, { body: { enabled } });
  listPools = (): Promise<PoolView[]> => this.call(adminRoutes.listPools, {});
  addPool = (name: string, path: string): Promise<PoolView> => this.call(adminRoutes.addPool, { body: { name, path } });
  removePool = (name: string): Promise<unknown> => this.call(adminRoutes.removePool, { params: { name } });
  grantPool = (pool: string, peer: string): Promise<PoolView> => this.call(adminRoutes.grantPool, { params: { name: pool }, body: { peer } });
  revokePool = (pool: string, peer: string): Promise<PoolView> => this.call(adminRoutes.revokePool, { params: { name: pool, peer } });
  setPoolPolicy = (pool: string, change: PolicyBody): Promise<PoolView> => this.call(adminRoutes.setPoolPolicy, { params: { name: pool }, body: change });
  invite = (options: { ttlSeconds?: number; grantPool?: string } = {}): Promise<InviteView> => this.call(adminRoutes.invite, { body: options });
  accept = (invite: string): Promise<PeerView> => this.call(adminRoutes.accept, { body: { invite } });
  listPeers = (): Promise<PeerView[]> => this.call(adminRoutes.listPeers, {});
  removePeer = (peer: string, tasks?: 'pause' | 'remove'): Promise<PeerRemovedView> => this.call(adminRoutes.removePeer, { params: { peer }, query: tasks === undefined ? {} : { tasks } });
  setPeerAddress = (peer: string, address: string): Promise<PeerView> => this.call(adminRoutes.setPeerAddress, { params: { peer }, body: { address } });
  addTask = (body: TaskAddBody): Promise<AddedTaskView> => this.call(adminRoutes.addTask, { body });
  listTasks = (): Promise<TaskView[]> => this.call(adminRoutes.listTasks, {});
  editTask = (name: string, change: TaskEditBody): Promise<TaskView> => this.call(adminRoutes.editTask, { params: { name }, body: change });
  showTask = (name: string): Promise<TaskDetailView> => this.call(adminRoutes.showTask, { params: { name } });
  runTask = (name: string): Promise<RunView> => this.call(adminRoutes.runTask, { params: { name } });
  cancelTask = (name: string): Promise<RunView> => this.call(adminRoutes.cancelTask, { params: { name } });
  getRun = (id: string): Promise<RunView> => this.call(adminRoutes.getRun, { params: { id } });
  pauseTask = (name: string): Promise<TaskView> => this.call(adminRoutes.pauseTask, { params: { name } });
  resumeTask = (name: string): Promise<TaskView> => this.call(adminRoutes.resumeTask, { params: { name } });
  removeTask = (name: string): Promise<unknown> => this.call(adminRoutes.removeTask, { params: { name } });
  sendTrail = (query: TrailQuery): Promise<SendTrailEntry[]> => this.call(adminRoutes.sendTrail, { query });
  receiveTrail = (query: TrailQuery): Promise<ReceiveTrailEntry[]> => this.call(adminRoutes.receiveTrail, { query });
  listReplicas = (query: ReplicaQuery = {}): Promise<ReplicaView[]> => this.call(adminRoutes.listReplicas, { query });
  copyReplica = (body: CopyBody): Promise<CopyView> => this.call(adminRoutes.copyReplica, { body });
  discardClone = (path: string): Promise<CopyView> => this.call(adminRoutes.discardClone, { body: { path } });
  restore = (body: RestoreBody): Promise<RestoreView> => this.call(adminRoutes.restore, { body });
  getRestore = (id: string): Promise<RestoreView> => this.call(adminRoutes.getRestore, { params: { id } });
}
