// What each admin route does: one handler per entry of the route table
// (routes.ts), typed by its schemas. Handlers only translate: the appliance
// does the work through AdminPorts. The table has no route without a
// handler here, and the compiler says so when one is missing.

import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminPorts } from './ports.js';
import type { AdminRoutes, RouteAnswer, RouteId, RouteInput } from './routes.js';
import { RunEvent } from './views.js';

export interface HandlerContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

type Answer<R extends AdminRoutes[RouteId]> = RouteAnswer<R> | FastifyReply | undefined;
export type Handler<K extends RouteId> = (input: RouteInput<AdminRoutes[K]>, http: HandlerContext) => Answer<AdminRoutes[K]> | Promise<Answer<AdminRoutes[K]>>;
export type Handlers = { readonly [K in RouteId]: Handler<K> | null };

/** How often a quiet event stream says it is alive. */
const HEARTBEAT_MS = 15_000;

export interface HandlerOptions {
  readonly ports: AdminPorts;
  /** Prometheus text for GET /metrics; null: the route is not served. */
  readonly metrics: (() => Promise<{ contentType: string; body: string }>) | null;
  /** The OpenAPI document, made by the server from its routes. */
  readonly openapi: () => unknown;
  /** Open event streams, which the server ends when it closes (they are never idle). */
  readonly streams: Set<ServerResponse>;
}

export function adminHandlers({ ports, metrics, openapi, streams }: HandlerOptions): Handlers {
  return {
    openapi: () => openapi(),
    metrics: metrics
      ? async (_input, { reply }) => {
          const { contentType, body } = await metrics();
          return reply.type(contentType).send(body);
        }
      : null,

    status: () => ports.status(),
    setService: async ({ body }) => {
      await ports.setService(body.enabled);
      return ports.status();
    },

    listPools: () => ports.listPools(),
    addPool: ({ body }) => ports.addPool(body),
    removePool: async ({ params }) => {
      await ports.removePool(params.name);
      return { removed: params.name };
    },
    grantPool: ({ params, body }) => ports.grantPool(params.name, body.peer),
    revokePool: ({ params }) => ports.revokePool(params.name, params.peer),
    setPoolPolicy: ({ params, body }) => ports.setPoolPolicy(params.name, body),

    invite: ({ body }) => ports.invite(body),
    accept: ({ body }) => ports.accept(body.invite),
    listPeers: () => ports.listPeers(),
    removePeer: ({ params, query }) => ports.removePeer(params.peer, query.tasks),
    setPeerAddress: ({ params, body }) => ports.setPeerAddress(params.peer, body.address),

    listTasks: () => ports.listTasks(),
    addTask: ({ body }) => ports.addTask(body),
    showTask: ({ params }) => ports.showTask(params.name),
    removeTask: async ({ params }) => {
      await ports.removeTask(params.name);
      return { removed: params.name };
    },
    editTask: ({ params, body }) => ports.editTask(params.name, body),
    runTask: ({ params }) => ports.runTask(params.name),
    cancelTask: ({ params }) => ports.cancelTask(params.name),
    pauseTask: ({ params }) => ports.pauseTask(params.name, true),
    resumeTask: ({ params }) => ports.pauseTask(params.name, false),
    getRun: ({ params }) => ports.getRun(params.id),

    events: (_input, { request, reply }) => {
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
      request.raw.once('close', () => {
        clearInterval(beat);
        unsubscribe();
        streams.delete(out);
      });
      return undefined;
    },

    sendTrail: ({ query }) => ports.sendTrail(query),
    receiveTrail: ({ query }) => ports.receiveTrail(query),

    listReplicas: ({ query }) => ports.listReplicas(query),
    copyReplica: ({ body }) => ports.copyReplica(body),
    discardClone: ({ body }) => ports.discardClone(body.path),
    restore: ({ body }) => ports.restore(body),
    getRestore: ({ params }) => ports.getRestore(params.id),
  };
}
