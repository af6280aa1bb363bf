// The admin API: localhost (or a unix socket) by default, and the web UI's
// TLS listener for the LAN. Its routes come from the one route table
// (routes.ts), each with its schemas and its access; fastify's zod type
// provider validates what comes in, serializes what goes out and makes the
// OpenAPI document at GET /api/openapi.json. Handlers (handlers.ts) only
// translate; the appliance does the work through AdminPorts.
//
// The doors, in the order a request meets them: the connection budget
// (util/connection-guard.ts: strangers may hold only so many connections, so
// long); the Host allowlist (hosts.ts: 421 before any route runs); the access
// the matched route declares (never a test on the raw URL, which the router
// decodes and normalises before it picks a route); then the route's schemas.
// A route without a declared access stops the server from starting.

import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { FerryError, toFerryError } from '../domain/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { serverLogging } from '../log/server-logging.js';
import { ConnectionGuard, type CutReason } from '../util/connection-guard.js';
import { adminBudget, serverSettings, type ListenerBudget } from '../util/listener-budgets.js';
import type { BrowserAccess } from './browser.js';
import { httpStatusFor } from './errors.js';
import { adminHandlers } from './handlers.js';
import { hostAllowlist, type HostAllowlist } from './hosts.js';
import type { AdminPorts } from './ports.js';
import { adminRoutes, isAccess, isChange, ROUTE_IDS, type Access, type AdminRoute } from './routes.js';
import { ApiErrorBody } from './views.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (routes.ts); a route without one stops the server from starting. */
    access?: Access;
  }
}

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

/** Who made a request, as the audit trail says it. */
export type Actor = 'token' | 'session' | 'anonymous';

/** One state-changing request, as the audit trail records it. */
export interface AuditEvent {
  readonly actor: Actor;
  readonly from: string;
  /** METHOD and the route's declared path, e.g. `POST /api/v1/tasks/:name/run`. */
  readonly route: string;
  readonly params: Readonly<Record<string, string>>;
  readonly status: number;
  /** ok (2xx), refused (the door said no) or failed (the route said no). */
  readonly result: 'ok' | 'refused' | 'failed';
  readonly code: string | null;
}

export interface AdminApiOptions {
  /** The listener's name in its log lines (`server`): admin, or ui for the web UI's TLS listener. */
  readonly listener?: 'admin' | 'ui';
  readonly ports: AdminPorts;
  readonly token: string;
  readonly logger?: Logger;
  /** Prometheus text for GET /metrics, behind the same token as the API. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The version in the OpenAPI document. */
  readonly version?: string;
  /** The web UI: its page and sign-in here, and its sessions let requests without the token through. */
  readonly browser?: BrowserAccess;
  /** Serve over TLS (the web UI's LAN listener). */
  readonly https?: { cert: string; key: string };
  /** The names this listener answers to; default loopback only. */
  readonly hosts?: HostAllowlist;
  readonly budget?: ListenerBudget;
  /** Told of every state-changing request (the daemon counts them in its metrics). */
  readonly onAudit?: (event: AuditEvent) => void;
  /** Told of every connection the budget cut before it proved who sent it. */
  readonly onConnectionCut?: (address: string, reason: CutReason) => void;
}

export type AdminServer = FastifyInstance & { readonly connections: ConnectionGuard };

export function createAdminApi(options: AdminApiOptions): AdminServer {
  const { ports, token, metrics, browser } = options;
  const logger = options.logger ?? silentLogger;
  const hosts = options.hosts ?? hostAllowlist([]);
  const budget = options.budget ?? adminBudget;
  const { loggerInstance: pinoInstance, ...logging } = serverLogging(logger, options.listener ?? 'admin');
  // Typed as fastify's base logger, so the instance keeps fastify's default logger type.
  const loggerInstance: FastifyBaseLogger | undefined = pinoInstance;
  const settings = { ...logging, logController: new LogController({ disableRequestLogging: true }), ...(loggerInstance ? { loggerInstance } : {}), ...serverSettings(budget, options.https) };
  // Over TLS the server is node:https's; everything registered on it is the same, hence the one type.
  const app = Fastify(settings) as unknown as FastifyInstance;
  app.server.maxConnections = budget.maxConnections;
  const connections = new ConnectionGuard(budget.untrusted, options.onConnectionCut);
  connections.attach(app.server);

  const actors = new WeakMap<FastifyRequest, Actor>();
  const codes = new WeakMap<FastifyRequest, string>();
  const refuse = (request: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string): FastifyReply => {
    codes.set(request, code);
    return reply.code(status).send({ code, message });
  };

  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // ---- the doors ----------------------------------------------------------------------

  app.addHook('onRequest', async (request, reply) => {
    const authority = absoluteFormAuthority(request.raw.url ?? '');
    if (!hosts.allows(request.headers.host) || (authority !== null && !hosts.allows(authority))) {
      return refuse(request, reply, 421, 'UNKNOWN_HOST', `this listener answers only to ${hosts.names.join(', ')}: reach it by one of those names`);
    }
    // No route matched: the not-found handler answers, and nothing stands behind it.
    if (request.is404) return;
    const access = request.routeOptions.config.access;
    if (access === 'public') return;
    if (tokenMatches(request.headers.authorization, token)) return admit(request, 'token');
    if (access === 'session-or-token' && browser) {
      const refusal = await browser.authorize(request);
      if (refusal === null) return admit(request, 'session');
      return refuse(request, reply, refusal.status, refusal.code, refusal.message);
    }
    return refuse(request, reply, 401, 'UNAUTHORIZED', `the admin API needs the token from the state dir (admin.token)${browser && access !== 'token' ? ', or a signed-in web UI session' : ''}`);
  });
  const admit = (request: FastifyRequest, actor: Actor): void => {
    actors.set(request, actor);
    connections.trust(request.raw.socket);
  };

  // Deny by default: every route, ours or a plugin's, must say who may call it.
  const registered: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    registered.push(route);
  });
  app.addHook('onReady', (done) => {
    const undeclared = registered.filter((r) => !isAccess(r.config?.access));
    done(undeclared.length === 0 ? undefined : new FerryError('INTERNAL', `admin routes without a declared access: ${undeclared.map((r) => `${String(r.method)} ${r.url}`).join(', ')}`));
  });

  // ---- the audit trail: one line per state-changing request ---------------------------

  app.addHook('onResponse', async (request, reply) => {
    const method = request.method;
    if (!isChange(method) || request.is404) {
      request.log.debug({ method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'admin request');
      return;
    }
    const status = reply.statusCode;
    const actor = actors.get(request) ?? 'anonymous';
    const event: AuditEvent = {
      actor,
      from: request.ip,
      route: `${method} ${request.routeOptions.url ?? ''}`,
      params: { ...(request.params as Record<string, string> | undefined) },
      status,
      result: status < 400 ? 'ok' : actors.has(request) || request.routeOptions.config.access === 'public' ? 'failed' : 'refused',
      code: codes.get(request) ?? null,
    };
    request.log.info({ ...event, ms: Math.round(reply.elapsedTime) }, 'admin change');
    options.onAudit?.(event);
  });

  // A GET outside the routes gets the UI's page with 404 (its router shows what is missing) when a browser asks for a page; anything else a clear 404.
  app.setNotFoundHandler((request, reply) => {
    const page = browser && (request.method === 'GET' || request.method === 'HEAD') && /\btext\/html\b/.test(request.headers.accept ?? '');
    if (page) return browser.page(request, reply.code(404));
    return refuse(request, reply, 404, 'NOT_FOUND', `no route ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}`);
  });
  browser?.install(app);

  app.setErrorHandler((error: unknown, request, reply: FastifyReply) => {
    if (hasZodFastifySchemaValidationErrors(error)) return refuse(request, reply, 400, 'INVALID_INPUT', validationMessage(error));
    const fastifyError = error as { statusCode?: number; code?: string; message?: string };
    if (!(error instanceof FerryError) && fastifyError.statusCode && fastifyError.statusCode < 500) {
      return refuse(request, reply, fastifyError.statusCode, 'INVALID_INPUT', fastifyError.message ?? 'bad request');
    }
    const err = toFerryError(error);
    const status = httpStatusFor(err.code);
    if (status >= 500) request.log.error({ code: err.code, error: err.message }, 'admin API failure');
    return refuse(request, reply, status, err.code, err.message);
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

  const handlers = adminHandlers({ ports, metrics: metrics ?? null, openapi: () => app.swagger(), streams });
  // In a plugin of its own, so that swagger (registered above) sees every route.
  void app.register((scope, _opts, done) => {
    for (const id of ROUTE_IDS) {
      const declared: AdminRoute = adminRoutes[id];
      const handle = handlers[id] as ((input: unknown, http: { request: FastifyRequest; reply: FastifyReply }) => unknown) | null;
      if (handle === null) continue;
      scope.route({
        method: declared.method,
        url: declared.path,
        schema: {
          ...(declared.hidden ? { hide: true } : { tags: [declared.tag], summary: declared.summary, response: { 200: declared.response, '4xx': ApiErrorBody, '5xx': ApiErrorBody } }),
          ...(declared.params ? { params: declared.params } : {}),
          ...(declared.query ? { querystring: declared.query } : {}),
          ...(declared.body ? { body: declared.body } : {}),
        },
        config: { access: declared.access },
        handler: (request, reply) => handle({ params: request.params, query: request.query, body: request.body }, { request, reply }),
      });
    }
    done();
  });

  return Object.assign(app, { connections });
}

/** The authority of an absolute-form request target (`GET http://host/path`), which HTTP says wins over Host; null for the usual `/path`. */
function absoluteFormAuthority(target: string): string | null {
  if (target.startsWith('/')) return null;
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target);
  return match ? (match[1] ?? '').replace(/^.*@/, '') : '';
}
