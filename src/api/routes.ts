// The admin API's one route table: for each route its method, path, params,
// query, body, answer and access, declared once. The server registers its
// routes from it and decides access on the route the router matched (never
// on the raw URL: routers decode and normalise paths, so a prefix test on
// the request line can be walked around with `/%61pi/...`); the CLI's client
// and the web UI's client make their calls from it; the OpenAPI document is
// made from the server's routes. Zod and the schemas only: the browser
// bundle and the CLI load this file without fastify.
//
// The contract (this file, views.ts, schemas.ts, and the names and config
// they use) is built with zod/mini, the same zod with functions in place of
// methods: a schema costs a third as much to build, and the `ferry` command,
// which builds them all at every start, then loads no classic zod at all
// (classic zod's load alone was a quarter of `ferry status`; npm run
// bench:cli). The daemon's own schemas are classic zod; both kinds mix.

import * as z from 'zod/mini';
import { AcceptBody, CopyBody, DiscardBody, GrantBody, InviteBody, PeerRemoveQuery, PolicyBody, PoolAddBody, ReplicaQuery, RestoreBody, ServiceBody, SetAddressBody, TaskAddBody, TaskEditBody, TrailQuery } from './schemas.js';
import {
  AddedTaskView,
  CopyView,
  InviteView,
  PeerRemovedView,
  PeerView,
  PoolView,
  ReceiveTrailEntryView,
  RemovedView,
  ReplicaView,
  RestoreView,
  RunView,
  SendTrailEntryView,
  StatusView,
  TaskDetailView,
  TaskView,
} from './views.js';

export const ADMIN_PREFIX = '/api/v1';

/** Prometheus metrics, on the admin listener (with its token) and on the optional metrics listener (without). */
export const METRICS_PATH = '/metrics';

/** The OpenAPI document of the admin API, made from the route schemas. */
export const OPENAPI_PATH = '/api/openapi.json';

/**
 * Who may call a route:
 * - `token`: the bearer token from the state dir (admin.token) only;
 * - `session-or-token`: the token, or a signed-in web UI session (a change also needs the session's CSRF token);
 * - `public`: anyone who reaches the listener (the UI's page, its assets, signing in).
 */
export const ACCESS_LEVELS = ['token', 'session-or-token', 'public'] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

export function isAccess(value: unknown): value is Access {
  return typeof value === 'string' && (ACCESS_LEVELS as readonly string[]).includes(value);
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface AdminRoute {
  readonly method: Method;
  /** The full path, with `:name` for each param. */
  readonly path: string;
  readonly access: Access;
  /** The OpenAPI tag and one-line summary. */
  readonly tag: string;
  readonly summary: string;
  readonly params?: z.core.$ZodObject;
  readonly query?: z.core.$ZodType;
  readonly body?: z.core.$ZodType;
  /** The answer on success; every route answers ApiErrorBody otherwise. */
  readonly response: z.core.$ZodType;
  /** Left out of the OpenAPI document (the document itself, the metrics text). */
  readonly hidden?: boolean;
}

const name = z.string().check(z.minLength(1), z.maxLength(255));
const NameParams = z.object({ name });
const IdParams = z.object({ id: z.string().check(z.minLength(1), z.maxLength(128)) });
const GrantParams = z.object({ name, peer: z.string().check(z.minLength(1), z.maxLength(200)) });
const PeerParams = z.object({ peer: z.string().check(z.minLength(1), z.maxLength(200)) });

const p = ADMIN_PREFIX;
/** Keeps each entry's own type (its schemas), checked against AdminRoute. */
const route = <const R extends AdminRoute>(r: R): R => r;
const admin = 'session-or-token' as const;

export const adminRoutes = {
  openapi: route({ method: 'GET', path: OPENAPI_PATH, access: 'public', tag: 'meta', summary: 'this document', response: z.unknown(), hidden: true }),
  metrics: route({ method: 'GET', path: METRICS_PATH, access: 'token', tag: 'meta', summary: 'Prometheus metrics', response: z.string(), hidden: true }),

  status: route({ method: 'GET', path: `${p}/status`, access: admin, tag: 'appliance', summary: 'id, name, fingerprint, addresses, service state, transfers under way', response: StatusView }),
  setService: route({ method: 'PUT', path: `${p}/service`, access: admin, tag: 'appliance', summary: 'turn the replication service on or off', body: ServiceBody, response: StatusView }),

  listPools: route({ method: 'GET', path: `${p}/pools`, access: admin, tag: 'pools', summary: 'pools with grants, policies and health', response: z.array(PoolView) }),
  addPool: route({ method: 'POST', path: `${p}/pools`, access: admin, tag: 'pools', summary: 'add a pool peers may write to', body: PoolAddBody, response: PoolView }),
  removePool: route({ method: 'DELETE', path: `${p}/pools/:name`, access: admin, tag: 'pools', summary: 'remove a pool (its replicas stay on disk)', params: NameParams, response: RemovedView }),
  grantPool: route({ method: 'POST', path: `${p}/pools/:name/grants`, access: admin, tag: 'pools', summary: 'grant a pool to a peer', params: NameParams, body: GrantBody, response: PoolView }),
  revokePool: route({ method: 'DELETE', path: `${p}/pools/:name/grants/:peer`, access: admin, tag: 'pools', summary: "revoke a peer's grant", params: GrantParams, response: PoolView }),
  setPoolPolicy: route({ method: 'PUT', path: `${p}/pools/:name/policy`, access: admin, tag: 'pools', summary: "set a pool's (or one peer's) retention floor and quota", params: NameParams, body: PolicyBody, response: PoolView }),

  invite: route({ method: 'POST', path: `${p}/pair/invite`, access: admin, tag: 'peers', summary: 'make a one-time invite', body: InviteBody, response: InviteView }),
  accept: route({ method: 'POST', path: `${p}/pair/accept`, access: admin, tag: 'peers', summary: "accept a peer's invite", body: AcceptBody, response: PeerView }),
  listPeers: route({ method: 'GET', path: `${p}/peers`, access: admin, tag: 'peers', summary: 'paired peers with fingerprints and grants', response: z.array(PeerView) }),
  removePeer: route({
    method: 'DELETE',
    path: `${p}/peers/:peer`,
    access: admin,
    tag: 'peers',
    summary: 'unpair a peer; its tasks are paused (or removed)',
    params: PeerParams,
    query: PeerRemoveQuery,
    response: PeerRemovedView,
  }),
  setPeerAddress: route({ method: 'PUT', path: `${p}/peers/:peer/address`, access: admin, tag: 'peers', summary: 'change where a peer is reached', params: PeerParams, body: SetAddressBody, response: PeerView }),

  listTasks: route({ method: 'GET', path: `${p}/tasks`, access: admin, tag: 'tasks', summary: 'replication tasks', response: z.array(TaskView) }),
  addTask: route({ method: 'POST', path: `${p}/tasks`, access: admin, tag: 'tasks', summary: 'add a task', body: TaskAddBody, response: AddedTaskView }),
  showTask: route({ method: 'GET', path: `${p}/tasks/:name`, access: admin, tag: 'tasks', summary: 'a task with its recent attempts', params: NameParams, response: TaskDetailView }),
  removeTask: route({ method: 'DELETE', path: `${p}/tasks/:name`, access: admin, tag: 'tasks', summary: 'remove a task (its snapshots and replicas stay)', params: NameParams, response: RemovedView }),
  editTask: route({ method: 'PATCH', path: `${p}/tasks/:name`, access: admin, tag: 'tasks', summary: "change a task's schedule, retention, retries or degraded-pool choices", params: NameParams, body: TaskEditBody, response: TaskView }),
  runTask: route({ method: 'POST', path: `${p}/tasks/:name/run`, access: admin, tag: 'tasks', summary: 'run a task now (queued behind the concurrency limit)', params: NameParams, response: RunView }),
  cancelTask: route({ method: 'POST', path: `${p}/tasks/:name/cancel`, access: admin, tag: 'tasks', summary: "cancel a task's run under way or queued; answers once it ended", params: NameParams, response: RunView }),
  pauseTask: route({ method: 'POST', path: `${p}/tasks/:name/pause`, access: admin, tag: 'tasks', summary: 'stop scheduled runs of a task', params: NameParams, response: TaskView }),
  resumeTask: route({ method: 'POST', path: `${p}/tasks/:name/resume`, access: admin, tag: 'tasks', summary: 'let scheduled runs start again', params: NameParams, response: TaskView }),
  getRun: route({ method: 'GET', path: `${p}/runs/:id`, access: admin, tag: 'tasks', summary: 'a run, as `task run --wait` follows it', params: IdParams, response: RunView }),

  events: route({
    method: 'GET',
    path: `${p}/events`,
    access: admin,
    tag: 'events',
    summary: 'live events (text/event-stream): `event: run` with a RunEvent for every change of a run; the runs queued or under way first',
    response: z.string().check(z.describe('text/event-stream')),
  }),

  sendTrail: route({ method: 'GET', path: `${p}/trail/send`, access: admin, tag: 'trails', summary: 'send attempts, newest first', query: TrailQuery, response: z.array(SendTrailEntryView) }),
  receiveTrail: route({ method: 'GET', path: `${p}/trail/receive`, access: admin, tag: 'trails', summary: 'receive attempts, newest first', query: TrailQuery, response: z.array(ReceiveTrailEntryView) }),

  listReplicas: route({ method: 'GET', path: `${p}/replicas`, access: admin, tag: 'replicas', summary: 'replicas held here, per peer and share', query: ReplicaQuery, response: z.array(ReplicaView) }),
  copyReplica: route({ method: 'POST', path: `${p}/replicas/copies`, access: admin, tag: 'replicas', summary: 'promote or clone a replica as a writable snapshot', body: CopyBody, response: CopyView }),
  discardClone: route({ method: 'POST', path: `${p}/replicas/discard`, access: admin, tag: 'replicas', summary: 'remove a clone', body: DiscardBody, response: CopyView }),
  restore: route({ method: 'POST', path: `${p}/restores`, access: admin, tag: 'restores', summary: 'get a share back from a peer', body: RestoreBody, response: RestoreView }),
  getRestore: route({ method: 'GET', path: `${p}/restores/:id`, access: admin, tag: 'restores', summary: 'a restore, as `restore --wait` follows it', params: IdParams, response: RestoreView }),
} as const satisfies Record<string, AdminRoute>;

export type AdminRoutes = typeof adminRoutes;
export type RouteId = keyof AdminRoutes;
export const ROUTE_IDS = Object.keys(adminRoutes) as RouteId[];

type Part<R, K extends 'params' | 'query' | 'body'> = R extends Record<K, infer S extends z.core.$ZodType> ? z.output<S> : undefined;

/** What a call of route R carries, typed by its schemas. */
export type RouteInput<R extends AdminRoute> = { params: Part<R, 'params'>; query: Part<R, 'query'>; body: Part<R, 'body'> };

/** What a client passes: only the parts the route has (a query is optional). */
export type CallInput<R extends AdminRoute> = (R extends Record<'params', z.core.$ZodType> ? { params: Part<R, 'params'> } : { params?: undefined }) &
  (R extends Record<'query', z.core.$ZodType> ? { query?: Part<R, 'query'> } : { query?: undefined }) &
  (R extends Record<'body', z.core.$ZodType> ? { body: Part<R, 'body'> } : { body?: undefined });

export type RouteAnswer<R extends AdminRoute> = z.output<R['response']>;

/** True for routes that change something: each is written to the audit trail. */
export function isChange(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}

/** The request target of a call: params encoded into the path, the query's defined fields after it. */
type Scalar = string | number | boolean;

export function targetOf(r: AdminRoute, input: { params?: Readonly<Record<string, Scalar | undefined>> | undefined; query?: Readonly<Record<string, Scalar | undefined>> | undefined }): string {
  const path = r.path.replace(/:([A-Za-z]+)/g, (_match, key: string) => {
    const value = input.params?.[key];
    if (value === undefined) throw new Error(`the call of ${r.method} ${r.path} lacks its '${key}'`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(input.query ?? {})) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
}
