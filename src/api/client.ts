// The admin API's client, used by the CLI (and tests). It turns every way a
// call can go wrong into one of two errors: the daemon answered no (ApiError,
// with the code it gave) or the daemon could not be reached (DaemonUnreachable).

import { safeParse } from 'zod/mini';
import type { ReceiveTrailEntry, SendTrailEntry } from '../domain/trail.js';
import { ApiError, DaemonUnreachable } from './client-errors.js';
import { ExchangeError, exchange, fetchText, type Endpoint, type Request } from './http1.js';
import { adminRoutes, targetOf, type AdminRoute, type CallInput, type RouteAnswer } from './routes.js';
import type { CopyBody, PolicyBody, ReplicaQuery, RestoreBody, TaskAddBody, TaskEditBody, TrailQuery } from './schemas.js';
import { ApiErrorBody, RunEvent, type AddedTaskView, type CopyView, type InviteView, type PeerRemovedView, type PeerView, type PoolView, type ReplicaView, type RestoreView, type RunView, type StatusView, type TaskDetailView, type TaskView } from './views.js';

/**
 * Where to connect for a listener address: one that listens on every address
 * (0.0.0.0, [::]) is reached on loopback, a name its Host allowlist holds;
 * "0.0.0.0" names no host a browser or the allowlist would accept.
 */
export function connectAddress(address: string): string {
  return address.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

/** The most an answer of the daemon may hold: a trail page of 10,000 attempts is a few megabytes. */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/** How long the daemon may be silent before a call gives up. */
const ANSWER_WITHIN_MS = 30_000;

export class AdminClient {
  readonly #endpoint: Endpoint;
  /** How the daemon's address is named in messages: HOST:PORT or unix:/path. */
  readonly #address: string;
  /** The Host header: the address itself, or localhost for a unix socket (what the admin listener's allowlist takes). */
  readonly #host: string;
  readonly #token: string;

  constructor(options: { address: string; token: string }) {
    const unix = options.address.startsWith('unix:') ? options.address.slice('unix:'.length) : undefined;
    if (unix === undefined) {
      const address = connectAddress(options.address);
      const url = new URL(`http://${address}`);
      this.#endpoint = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 80) };
      this.#host = url.host;
      this.#address = `http://${url.host}`;
    } else {
      this.#endpoint = { socketPath: unix };
      this.#host = 'localhost';
      this.#address = options.address;
    }
    this.#token = options.token;
  }

  #request(method: string, target: string, body: string | undefined, accept: string): Request {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return { method, target, host: this.#host, headers, ...(body === undefined ? {} : { body }) };
  }

  /** One call of a route of the table; the answer is checked against the route's schema, as the daemon declared it. */
  async call<R extends AdminRoute>(route: R, input: CallInput<R>): Promise<RouteAnswer<R>> {
    const target = targetOf(route, input);
    const body = (input as { body?: unknown }).body;
    const what = `${route.method} ${route.path}`;
    let status: number;
    let text: string;
    try {
      ({ status, text } = await fetchText(this.#endpoint, this.#request(route.method, target, body === undefined ? undefined : JSON.stringify(body), 'application/json'), { idleMs: ANSWER_WITHIN_MS, maxBytes: MAX_ANSWER_BYTES }));
    } catch (err) {
      if (err instanceof ExchangeError && err.answered) throw new ApiError(0, 'BAD_ANSWER', `the daemon's answer to ${what} could not be read: ${err.message}`);
      throw new DaemonUnreachable(this.#address, err);
    }
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
      const ended: (() => void)[] = [];
      let streaming = false;
      let buffer = '';
      const decoder = new TextDecoder();
      const stop = (): void => {
        for (const f of ended.splice(0)) f();
      };
      const stream = exchange(this.#endpoint, this.#request('GET', adminRoutes.events.path, undefined, 'text/event-stream'), {
        head: (status) => {
          if (status !== 200) {
            stream.close();
            reject(new ApiError(status, 'INTERNAL', `the daemon answered ${status} to the event stream`));
            return;
          }
          streaming = true;
          resolve({ close: () => (stream.close(), stop()), onEnd: (f) => ended.push(f) });
        },
        body: (chunk) => {
          buffer += decoder.decode(chunk, { stream: true });
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
            let json: unknown;
            try {
              json = JSON.parse(data);
            } catch {
              continue; // not an event of this contract: the run is still followed by asking for it
            }
            const parsed = RunEvent.safeParse(json);
            if (parsed.success) onEvent(parsed.data);
          }
        },
        end: stop,
        fail: (err) => (streaming ? stop() : reject(new DaemonUnreachable(this.#address, err))),
      });
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
