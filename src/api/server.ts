// The admin API: localhost (or a unix socket) by default, every route behind
// the bearer token from the state dir. Each route declares its params, body,
// query and answers as zod schemas (schemas.ts, views.ts) through fastify's
// zod type provider: they validate what comes in, serialize what goes out,
// and make the OpenAPI document at GET /api/openapi.json. Handlers only
// translate; the appliance does the work through AdminPorts.

import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FerryError, toFerryError } from '../domain/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { serverLogging } from '../log/server-logging.js';
import { httpStatusFor } from './errors.js';
import type { BrowserAccess } from './browser.js';
import type { AdminPorts } from './ports.js';
import { ADMIN_PREFIX, METRICS_PATH, OPENAPI_PATH } from './routes.js';
import { AcceptBody, CopyBody, DiscardBody, GrantBody, InviteBody, PolicyBody, PoolAddBody, ReplicaQuery, RestoreBody, ServiceBody, SetAddressBody, TaskAddBody, TaskEditBody, TrailQuery } from './schemas.js';
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

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** The first problem of a refused request, as one sentence: `field.sub: what is wrong`. */
function validationMessage(error: { validation: readonly { message?: string; instancePath?: string }[] }): string {
  const first = error.validation[0];
  const where = first?.instancePath && first.instancePath !== '/' ? `${first.instancePath.slice(1).split('/').join('.')}: ` : '';
  return `${where}${first?.message ?? 'invalid input'}`;
}

/** How often a quiet event stream says it is alive. */
const HEARTBEAT_MS = 15_000;

const name = z.string().min(1).max(255);
const NameParams = z.object({ name });
const IdParams = z.object({ id: z.string().min(1).max(128) });
const GrantParams = z.object({ name, peer: z.string().min(1).max(200) });
const PeerParams = z.object({ peer: z.string().min(1).max(200) });

/** Every answer of a route: its own on success, the error body otherwise. */
function answers<T extends z.ZodType>(ok: T) {
  return { 200: ok, '4xx': ApiErrorBody, '5xx': ApiErrorBody };
}

export function createAdminApi(options: {
  ports: AdminPorts;
  token: string;
  logger?: Logger;
  /** Prometheus text for GET /metrics, behind the same token as the API. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The version in the OpenAPI document. */
  version?: string;
  /** The web UI: its page and sign-in here, and its sessions let requests without the token through. */
  browser?: BrowserAccess;
  /** Serve over TLS (the web UI's LAN listener). */
  https?: { cert: string; key: string };
}): FastifyInstance {
  const { ports, token, metrics, browser } = options;
  const logger = options.logger ?? silentLogger;
  const { loggerInstance: pinoInstance, ...logging } = serverLogging(logger, 'admin');
  // Typed as fastify's base logger, so the instance keeps fastify's default logger type.
  const loggerInstance: FastifyBaseLogger | undefined = pinoInstance;
  const settings = { ...logging, ...(loggerInstance ? { loggerInstance } : {}), bodyLimit: 64 * 1024 };
  // Over TLS the server is node:https's; everything registered on it is the same, hence the one type.
  const app = (options.https ? Fastify({ ...settings, https: options.https }) : Fastify(settings)) as unknown as FastifyInstance;
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'admin request');
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', async (request, reply) => {
    const api = request.url.startsWith(ADMIN_PREFIX);
    if (!api && !request.url.startsWith(METRICS_PATH)) return;
    if (tokenMatches(request.headers.authorization, token)) return;
    // Without the token, a browser's session may do what the token does with the API (not scrape metrics).
    const refusal = api && browser ? await browser.authorize(request) : null;
    if (api && browser && refusal === null) return;
    await reply
      .code(refusal?.status ?? 401)
      .send(refusal ? { code: refusal.code, message: refusal.message } : { code: 'UNAUTHORIZED', message: 'the admin API needs the token from the state dir (admin.token)' });
  });

  // A GET outside the API's paths goes to the UI (its page, or its own 404); anything else is a clear 404.
  app.setNotFoundHandler((request, reply) => {
    const ours = [ADMIN_PREFIX, '/api/', METRICS_PATH].some((p) => request.url.startsWith(p));
    if (browser && !ours && (request.method === 'GET' || request.method === 'HEAD')) return browser.page(request, reply);
    return reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` });
  });
  browser?.install(app);

  app.setErrorHandler((error: unknown, request, reply: FastifyReply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      return reply.code(400).send({ code: 'INVALID_INPUT', message: validationMessage(error) });
    }
    const fastifyError = error as { statusCode?: number; code?: string; message?: string };
    if (!(error instanceof FerryError) && fastifyError.statusCode && fastifyError.statusCode < 500) {
      return reply.code(fastifyError.statusCode).send({ code: 'INVALID_INPUT', message: fastifyError.message ?? 'bad request' });
    }
    const err = toFerryError(error);
    const status = httpStatusFor(err.code);
    if (status >= 500) request.log.error({ code: err.code, error: err.message }, 'admin API failure');
    return reply.code(status).send({ code: err.code, message: err.message });
  });

  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Ferry admin API', version: options.version ?? '1', description: 'The admin API of one Ferry appliance: what the ferry command and the web UI use.' },
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'the admin token from the state dir (admin.token)' } } },
      security: [{ token: [] }],
    },
    transform: jsonSchemaTransform,
  });

  // Event streams stay open until their reader goes: at close they are ended,
  // or the server would wait for them for ever (they are never idle).
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    for (const out of streams) out.end();
    streams.clear();
    done();
  });

  // In a plugin of its own, so that swagger (registered above) sees every route.
  void app.register((plain, _opts, done) => {
    const api = plain.withTypeProvider<ZodTypeProvider>();
    const p = ADMIN_PREFIX;

    api.get(OPENAPI_PATH, { schema: { hide: true } }, () => app.swagger());
    if (metrics) {
      api.get(METRICS_PATH, { schema: { hide: true } }, async (_req, reply) => {
        const { contentType, body } = await metrics();
        return reply.type(contentType).send(body);
      });
    }

    const tag = (t: string, summary: string) => ({ tags: [t], summary });

    api.get(`${p}/status`, { schema: { ...tag('appliance', 'id, name, fingerprint, addresses, service state, transfers under way'), response: answers(StatusView) } }, () => ports.status());
    api.put(`${p}/service`, { schema: { ...tag('appliance', 'turn the replication service on or off'), body: ServiceBody, response: answers(StatusView) } }, async (req) => {
      await ports.setService(req.body.enabled);
      return ports.status();
    });

    api.get(`${p}/pools`, { schema: { ...tag('pools', 'pools with grants, policies and health'), response: answers(z.array(PoolView)) } }, () => ports.listPools());
    api.post(`${p}/pools`, { schema: { ...tag('pools', 'add a pool peers may write to'), body: PoolAddBody, response: answers(PoolView) } }, (req) => ports.addPool(req.body));
    api.delete(`${p}/pools/:name`, { schema: { ...tag('pools', 'remove a pool (its replicas stay on disk)'), params: NameParams, response: answers(RemovedView) } }, async (req) => {
      await ports.removePool(req.params.name);
      return { removed: req.params.name };
    });
    api.post(`${p}/pools/:name/grants`, { schema: { ...tag('pools', 'grant a pool to a peer'), params: NameParams, body: GrantBody, response: answers(PoolView) } }, (req) =>
      ports.grantPool(req.params.name, req.body.peer),
    );
    api.delete(`${p}/pools/:name/grants/:peer`, { schema: { ...tag('pools', "revoke a peer's grant"), params: GrantParams, response: answers(PoolView) } }, (req) =>
      ports.revokePool(req.params.name, req.params.peer),
    );
    api.put(`${p}/pools/:name/policy`, { schema: { ...tag('pools', "set a pool's (or one peer's) retention floor and quota"), params: NameParams, body: PolicyBody, response: answers(PoolView) } }, (req) =>
      ports.setPoolPolicy(req.params.name, req.body),
    );

    api.post(`${p}/pair/invite`, { schema: { ...tag('peers', 'make a one-time invite'), body: InviteBody, response: answers(InviteView) } }, (req) => ports.invite(req.body));
    api.post(`${p}/pair/accept`, { schema: { ...tag('peers', "accept a peer's invite"), body: AcceptBody, response: answers(PeerView) } }, (req) => ports.accept(req.body.invite));
    api.get(`${p}/peers`, { schema: { ...tag('peers', 'paired peers with fingerprints and grants'), response: answers(z.array(PeerView)) } }, () => ports.listPeers());
    api.delete(`${p}/peers/:peer`, { schema: { ...tag('peers', 'unpair a peer'), params: PeerParams, response: answers(PeerView) } }, (req) => ports.removePeer(req.params.peer));
    api.put(`${p}/peers/:peer/address`, { schema: { ...tag('peers', "change where a peer is reached"), params: PeerParams, body: SetAddressBody, response: answers(PeerView) } }, (req) =>
      ports.setPeerAddress(req.params.peer, req.body.address),
    );

    api.get(`${p}/tasks`, { schema: { ...tag('tasks', 'replication tasks'), response: answers(z.array(TaskView)) } }, () => ports.listTasks());
    api.post(`${p}/tasks`, { schema: { ...tag('tasks', 'add a task'), body: TaskAddBody, response: answers(AddedTaskView) } }, (req) => ports.addTask(req.body));
    api.get(`${p}/tasks/:name`, { schema: { ...tag('tasks', 'a task with its recent attempts'), params: NameParams, response: answers(TaskDetailView) } }, (req) => ports.showTask(req.params.name));
    api.delete(`${p}/tasks/:name`, { schema: { ...tag('tasks', 'remove a task (its snapshots and replicas stay)'), params: NameParams, response: answers(RemovedView) } }, async (req) => {
      await ports.removeTask(req.params.name);
      return { removed: req.params.name };
    });
    api.patch(`${p}/tasks/:name`, { schema: { ...tag('tasks', "change a task's schedule, retention, retries or degraded-pool choices"), params: NameParams, body: TaskEditBody, response: answers(TaskView) } }, (req) =>
      ports.editTask(req.params.name, req.body),
    );
    api.post(`${p}/tasks/:name/run`, { schema: { ...tag('tasks', 'run a task now (queued behind the concurrency limit)'), params: NameParams, response: answers(RunView) } }, (req) =>
      ports.runTask(req.params.name),
    );
    api.post(`${p}/tasks/:name/cancel`, { schema: { ...tag('tasks', "cancel a task's run under way or queued; answers once it ended"), params: NameParams, response: answers(RunView) } }, (req) =>
      ports.cancelTask(req.params.name),
    );
    api.post(`${p}/tasks/:name/pause`, { schema: { ...tag('tasks', 'stop scheduled runs of a task'), params: NameParams, response: answers(TaskView) } }, (req) => ports.pauseTask(req.params.name, true));
    api.post(`${p}/tasks/:name/resume`, { schema: { ...tag('tasks', 'let scheduled runs start again'), params: NameParams, response: answers(TaskView) } }, (req) => ports.pauseTask(req.params.name, false));
    api.get(`${p}/runs/:id`, { schema: { ...tag('tasks', 'a run, as `task run --wait` follows it'), params: IdParams, response: answers(RunView) } }, (req) => ports.getRun(req.params.id));

    api.get(
      `${p}/events`,
      {
        schema: {
          ...tag('events', 'live events (text/event-stream): `event: run` with a RunEvent for every change of a run; the runs queued or under way first'),
          response: { 200: z.string().describe('text/event-stream'), '4xx': ApiErrorBody, '5xx': ApiErrorBody },
        },
      },
      (req, reply) => {
        // Server-sent events: the connection stays open; fastify hands the socket over.
        reply.hijack();
        const out = reply.raw;
        out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        const send = (event: RunEvent): void => {
          out.write(`event: ${event.type}\ndata: ${JSON.stringify(RunEvent.parse(event))}\n\n`);
        };
        const { snapshot, unsubscribe } = ports.events(send);
        streams.add(out);
        out.write(': ferry live events\n\n');
        for (const event of snapshot) send(event);
        // A comment now and then keeps proxies and idle timeouts from closing a quiet stream.
        const beat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
        beat.unref();
        req.raw.once('close', () => {
          clearInterval(beat);
          unsubscribe();
          streams.delete(out);
        });
      },
    );

    api.get(`${p}/trail/send`, { schema: { ...tag('trails', 'send attempts, newest first'), querystring: TrailQuery, response: answers(z.array(SendTrailEntryView)) } }, (req) => ports.sendTrail(req.query));
    api.get(`${p}/trail/receive`, { schema: { ...tag('trails', 'receive attempts, newest first'), querystring: TrailQuery, response: answers(z.array(ReceiveTrailEntryView)) } }, (req) =>
      ports.receiveTrail(req.query),
    );

    api.get(`${p}/replicas`, { schema: { ...tag('replicas', 'replicas held here, per peer and share'), querystring: ReplicaQuery, response: answers(z.array(ReplicaView)) } }, (req) =>
      ports.listReplicas(req.query),
    );
    api.post(`${p}/replicas/copies`, { schema: { ...tag('replicas', 'promote or clone a replica as a writable snapshot'), body: CopyBody, response: answers(CopyView) } }, (req) => ports.copyReplica(req.body));
    api.post(`${p}/replicas/discard`, { schema: { ...tag('replicas', 'remove a clone'), body: DiscardBody, response: answers(CopyView) } }, (req) => ports.discardClone(req.body.path));
    api.post(`${p}/restores`, { schema: { ...tag('restores', 'get a share back from a peer'), body: RestoreBody, response: answers(RestoreView) } }, (req) => ports.restore(req.body));
    api.get(`${p}/restores/:id`, { schema: { ...tag('restores', 'a restore, as `restore --wait` follows it'), params: IdParams, response: answers(RestoreView) } }, (req) => ports.getRestore(req.params.id));
    done();
  });

  return app;
}
