// The admin API as the browser calls it: the session cookie authenticates,
// every call that changes something carries the CSRF token the session gave,
// and every answer is checked against the same zod view the daemon
// serializes with, so a daemon of another version shows as BAD_ANSWER rather
// than as a page of undefined.

import * as z from 'zod/mini';
import { adminRoutes, targetOf, type AdminRoute, type CallInput, type Method, type RouteAnswer } from '../../api/routes.js';
import { CSRF_HEADER, LOGIN_PATH, LOGOUT_PATH, SESSION_PATH, SessionView } from '../contract.js';
import type { CopyBody, InviteBody, PolicyBody, PoolAddBody, RestoreBody, TaskAddBody, TaskEditBody, TrailQuery } from '../../api/schemas.js';
import { ApiErrorBody } from '../../api/views.js';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** An error as the UI shows it: one sentence, then its code, e.g. `The peer could not be reached. (PEER_UNREACHABLE)`. */
export function errorSentence(error: unknown): string {
  if (error instanceof ApiError) return `${sentence(error.message)} (${error.code})`;
  if (error instanceof Error) return `${sentence(error.message)} (NETWORK)`;
  return 'Something went wrong. (UNKNOWN)';
}

function sentence(text: string): string {
  const t = text.trim();
  if (t === '') return 'Something went wrong.';
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}


const Empty = z.unknown();

export class FerryApi {
  /** From the session: sent with every request that is not a GET. */
  csrf: string | null = null;

  /** Called on any 401 of an admin route: the session ended (expired, logged out elsewhere, daemon restarted). */
  constructor(private readonly onUnauthorized: (code: string) => void) {}

  /** One call of a route of the admin API's table (api/routes.ts). */
  private route<R extends AdminRoute>(r: R, input: CallInput<R>): Promise<RouteAnswer<R>> {
    const target = targetOf(r, input);
    const body = (input as { body?: unknown }).body;
    // A POST without a body of its own sends {}, as a JSON POST should.
    return this.call(r.method, target, r.response as z.ZodMiniType<RouteAnswer<R>>, body ?? (r.method === 'POST' ? {} : undefined), true);
  }

  private async call<T>(method: Method, path: string, schema: z.ZodMiniType<T>, body: unknown, admin: boolean): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.csrf !== null) headers[CSRF_HEADER] = this.csrf;
    let response: Response;
    try {
      response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch {
      throw new ApiError('UNREACHABLE', 'the appliance did not answer; check that ferry is running and the network is up', 0);
    }
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): reported below by its status.
    }
    if (!response.ok) {
      const err = ApiErrorBody.safeParse(json);
      const error = err.success ? new ApiError(err.data.code, err.data.message, response.status) : new ApiError(`HTTP_${response.status}`, `the appliance answered ${response.status} ${response.statusText}`, response.status);
      if (response.status === 401 && admin) this.onUnauthorized(error.code);
      throw error;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ApiError('BAD_ANSWER', `the appliance answered ${method} ${path.split('?')[0]} in a form this page does not know (another version of ferry?)`, response.status);
    return parsed.data;
  }

  // Session (src/web/server.ts; its contract in src/web/contract.ts)
  session = () => this.call('GET', SESSION_PATH, SessionView, undefined, false);
  login = (password: string) => this.call('POST', LOGIN_PATH, SessionView, { password }, false);
  logout = () => this.call('POST', LOGOUT_PATH, Empty, {}, false);

  // Appliance
  status = () => this.route(adminRoutes.status, {});
  setService = (enabled: boolean) => this.route(adminRoutes.setService, { body: { enabled } });

  // Tasks and runs
  tasks = () => this.route(adminRoutes.listTasks, {});
  task = (name: string) => this.route(adminRoutes.showTask, { params: { name } });
  addTask = (body: TaskAddBody) => this.route(adminRoutes.addTask, { body });
  editTask = (name: string, body: TaskEditBody) => this.route(adminRoutes.editTask, { params: { name }, body });
  removeTask = (name: string) => this.route(adminRoutes.removeTask, { params: { name } });
  runTask = (name: string) => this.route(adminRoutes.runTask, { params: { name } });
  cancelTask = (name: string) => this.route(adminRoutes.cancelTask, { params: { name } });
  pauseTask = (name: string, paused: boolean) => this.route(paused ? adminRoutes.pauseTask : adminRoutes.resumeTask, { params: { name } });

  // Trails
  sendTrail = (query: TrailQuery) => this.route(adminRoutes.sendTrail, { query });
  receiveTrail = (query: TrailQuery) => this.route(adminRoutes.receiveTrail, { query });

  // Replicas, copies and restores
  replicas = () => this.route(adminRoutes.listReplicas, {});
  copyReplica = (body: CopyBody) => this.route(adminRoutes.copyReplica, { body });
  discardClone = (path: string) => this.route(adminRoutes.discardClone, { body: { path } });
  restore = (body: RestoreBody) => this.route(adminRoutes.restore, { body });
  getRestore = (id: string) => this.route(adminRoutes.getRestore, { params: { id } });

  // Peers and pairing
  peers = () => this.route(adminRoutes.listPeers, {});
  invite = (body: z.infer<typeof InviteBody>) => this.route(adminRoutes.invite, { body });
  accept = (invite: string) => this.route(adminRoutes.accept, { body: { invite } });
  removePeer = (peer: string) => this.route(adminRoutes.removePeer, { params: { peer } });
  setPeerAddress = (peer: string, address: string) => this.route(adminRoutes.setPeerAddress, { params: { peer }, body: { address } });

  // Pools
  pools = () => this.route(adminRoutes.listPools, {});
  addPool = (body: PoolAddBody) => this.route(adminRoutes.addPool, { body });
  removePool = (name: string) => this.route(adminRoutes.removePool, { params: { name } });
  grant = (pool: string, peer: string) => this.route(adminRoutes.grantPool, { params: { name: pool }, body: { peer } });
  revoke = (pool: string, peer: string) => this.route(adminRoutes.revokePool, { params: { name: pool, peer } });
  setPolicy = (pool: string, body: PolicyBody) => this.route(adminRoutes.setPoolPolicy, { params: { name: pool }, body });
}

/** The address of the live event stream (GET, with the session cookie). */
export const EVENTS_PATH = adminRoutes.events.path;

export type { SessionView } from '../contract.js';
export type { CopyBody, PolicyBody, PoolAddBody, RestoreBody, TaskAddBody, TaskEditBody, TrailQuery };
