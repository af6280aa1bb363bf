// The admin API as the browser calls it: the session cookie authenticates,
// every call that changes something carries the CSRF token the session gave,
// and every answer is checked against the same zod view the daemon
// serializes with, so a daemon of another version shows as BAD_ANSWER rather
// than as a page of undefined.

import { z } from 'zod';
import { ADMIN_PREFIX } from '../../api/routes.js';
import { CSRF_HEADER, LOGIN_PATH, LOGOUT_PATH, SESSION_PATH, SessionView } from '../contract.js';
import type { CopyBody, InviteBody, PolicyBody, PoolAddBody, RestoreBody, TaskAddBody, TaskEditBody, TrailQuery } from '../../api/schemas.js';
import {
  AddedTaskView,
  ApiErrorBody,
  CopyView,
  InviteView,
  PeerView,
  PoolView,
  ReceiveTrailEntryView,
  ReplicaView,
  RestoreView,
  RunView,
  SendTrailEntryView,
  StatusView,
  TaskDetailView,
  TaskView,
} from '../../api/views.js';

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


const Removed = z.object({ removed: z.string() });
const Empty = z.unknown();

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const p = (name: string): string => encodeURIComponent(name);

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export class FerryApi {
  /** From the session: sent with every request that is not a GET. */
  csrf: string | null = null;

  /** Called on any 401 of an admin route: the session ended (expired, logged out elsewhere, daemon restarted). */
  constructor(private readonly onUnauthorized: (code: string) => void) {}

  private async call<T>(method: Method, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
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
      if (response.status === 401 && path.startsWith(ADMIN_PREFIX)) this.onUnauthorized(error.code);
      throw error;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ApiError('BAD_ANSWER', `the appliance answered ${method} ${path.split('?')[0]} in a form this page does not know (another version of ferry?)`, response.status);
    return parsed.data;
  }

  // Session (src/web/server.ts; its contract in src/web/contract.ts)
  session = () => this.call('GET', SESSION_PATH, SessionView);
  login = (password: string) => this.call('POST', LOGIN_PATH, SessionView, { password });
  logout = () => this.call('POST', LOGOUT_PATH, Empty, {});

  // Appliance
  status = () => this.call('GET', `${ADMIN_PREFIX}/status`, StatusView);
  setService = (enabled: boolean) => this.call('PUT', `${ADMIN_PREFIX}/service`, StatusView, { enabled });

  // Tasks and runs
  tasks = () => this.call('GET', `${ADMIN_PREFIX}/tasks`, z.array(TaskView));
  task = (name: string) => this.call('GET', `${ADMIN_PREFIX}/tasks/${p(name)}`, TaskDetailView);
  addTask = (body: TaskAddBody) => this.call('POST', `${ADMIN_PREFIX}/tasks`, AddedTaskView, body);
  editTask = (name: string, body: TaskEditBody) => this.call('PATCH', `${ADMIN_PREFIX}/tasks/${p(name)}`, TaskView, body);
  removeTask = (name: string) => this.call('DELETE', `${ADMIN_PREFIX}/tasks/${p(name)}`, Removed);
  runTask = (name: string) => this.call('POST', `${ADMIN_PREFIX}/tasks/${p(name)}/run`, RunView, {});
  cancelTask = (name: string) => this.call('POST', `${ADMIN_PREFIX}/tasks/${p(name)}/cancel`, RunView, {});
  pauseTask = (name: string, paused: boolean) => this.call('POST', `${ADMIN_PREFIX}/tasks/${p(name)}/${paused ? 'pause' : 'resume'}`, TaskView, {});

  // Trails
  sendTrail = (query: TrailQuery) => this.call('GET', `${ADMIN_PREFIX}/trail/send${queryString(query)}`, z.array(SendTrailEntryView));
  receiveTrail = (query: TrailQuery) => this.call('GET', `${ADMIN_PREFIX}/trail/receive${queryString(query)}`, z.array(ReceiveTrailEntryView));

  // Replicas, copies and restores
  replicas = () => this.call('GET', `${ADMIN_PREFIX}/replicas`, z.array(ReplicaView));
  copyReplica = (body: CopyBody) => this.call('POST', `${ADMIN_PREFIX}/replicas/copies`, CopyView, body);
  discardClone = (path: string) => this.call('POST', `${ADMIN_PREFIX}/replicas/discard`, CopyView, { path });
  restore = (body: RestoreBody) => this.call('POST', `${ADMIN_PREFIX}/restores`, RestoreView, body);
  getRestore = (id: string) => this.call('GET', `${ADMIN_PREFIX}/restores/${p(id)}`, RestoreView);

  // Peers and pairing
  peers = () => this.call('GET', `${ADMIN_PREFIX}/peers`, z.array(PeerView));
  invite = (body: z.infer<typeof InviteBody>) => this.call('POST', `${ADMIN_PREFIX}/pair/invite`, InviteView, body);
  accept = (invite: string) => this.call('POST', `${ADMIN_PREFIX}/pair/accept`, PeerView, { invite });
  removePeer = (peer: string) => this.call('DELETE', `${ADMIN_PREFIX}/peers/${p(peer)}`, PeerView);
  setPeerAddress = (peer: string, address: string) => this.call('PUT', `${ADMIN_PREFIX}/peers/${p(peer)}/address`, PeerView, { address });

  // Pools
  pools = () => this.call('GET', `${ADMIN_PREFIX}/pools`, z.array(PoolView));
  addPool = (body: PoolAddBody) => this.call('POST', `${ADMIN_PREFIX}/pools`, PoolView, body);
  removePool = (name: string) => this.call('DELETE', `${ADMIN_PREFIX}/pools/${p(name)}`, Removed);
  grant = (pool: string, peer: string) => this.call('POST', `${ADMIN_PREFIX}/pools/${p(pool)}/grants`, PoolView, { peer });
  revoke = (pool: string, peer: string) => this.call('DELETE', `${ADMIN_PREFIX}/pools/${p(pool)}/grants/${p(peer)}`, PoolView);
  setPolicy = (pool: string, body: PolicyBody) => this.call('PUT', `${ADMIN_PREFIX}/pools/${p(pool)}/policy`, PoolView, body);
}

/** The address of the live event stream (GET, with the session cookie). */
export const EVENTS_PATH = `${ADMIN_PREFIX}/events`;

export type { SessionView } from '../contract.js';
export type { CopyBody, PolicyBody, PoolAddBody, RestoreBody, TaskAddBody, TaskEditBody, TrailQuery };
