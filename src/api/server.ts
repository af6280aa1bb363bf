// The admin API: localhost (or a unix socket) by default, every route behind
// the bearer token from the state dir. Handlers only validate and translate;
// the appliance does the work through AdminPorts.

import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { z } from 'zod';
import { FerryError, toFerryError } from '../domain/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { httpStatusFor } from './errors.js';
import { ADMIN_PREFIX } from './routes.js';
import type { AdminPorts } from './ports.js';
import { AcceptBody, CopyBody, DiscardBody, RestoreBody, GrantBody, InviteBody, PolicyBody, PoolAddBody, ReplicaQuery, ServiceBody, SetAddressBody, TaskAddBody, TrailQuery } from './schemas.js';


function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
    throw new FerryError('INVALID_INPUT', `${where}${first?.message ?? 'invalid input'}`);
  }
  return result.data;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export function createAdminApi(options: { ports: AdminPorts; token: string; logger?: Logger }): FastifyInstance {
  const { ports, token } = options;
  const logger = options.logger ?? silentLogger;
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith(ADMIN_PREFIX)) return;
    if (!tokenMatches(request.headers.authorization, token)) {
      await reply.code(401).send({ code: 'UNAUTHORIZED', message: 'the admin API needs the token from the state dir (admin.token)' });
    }
  });

  app.setErrorHandler((error: unknown, _request, reply: FastifyReply) => {
    const fastifyError = error as { statusCode?: number; code?: string; message?: string };
    if (!(error instanceof FerryError) && fastifyError.statusCode && fastifyError.statusCode < 500) {
      return reply.code(fastifyError.statusCode).send({ code: 'INVALID_INPUT', message: fastifyError.message ?? 'bad request' });
    }
    const err = toFerryError(error);
    const status = httpStatusFor(err.code);
    if (status >= 500) logger.error('admin API failure', { code: err.code, error: err.message });
    return reply.code(status).send({ code: err.code, message: err.message });
  });

  const p = ADMIN_PREFIX;
  app.get(`${p}/status`, () => ports.status());
  app.put(`${p}/service`, async (req) => {
    await ports.setService(parse(ServiceBody, req.body).enabled);
    return ports.status();
  });

  app.get(`${p}/pools`, () => ports.listPools());
  app.post(`${p}/pools`, (req) => ports.addPool(parse(PoolAddBody, req.body)));
  app.delete<{ Params: { name: string } }>(`${p}/pools/:name`, async (req) => {
    await ports.removePool(req.params.name);
    return { removed: req.params.name };
  });

  app.post<{ Params: { name: string } }>(`${p}/pools/:name/grants`, (req) => ports.grantPool(req.params.name, parse(GrantBody, req.body).peer));
  app.delete<{ Params: { name: string; peer: string } }>(`${p}/pools/:name/grants/:peer`, (req) => ports.revokePool(req.params.name, req.params.peer));
  app.put<{ Params: { name: string } }>(`${p}/pools/:name/policy`, (req) => ports.setPoolPolicy(req.params.name, parse(PolicyBody, req.body)));

  app.post(`${p}/pair/invite`, (req) => ports.invite(parse(InviteBody, req.body)));
  app.post(`${p}/pair/accept`, (req) => ports.accept(parse(AcceptBody, req.body).invite));
  app.get(`${p}/peers`, () => ports.listPeers());
  app.delete<{ Params: { peer: string } }>(`${p}/peers/:peer`, (req) => ports.removePeer(req.params.peer));
  app.put<{ Params: { peer: string } }>(`${p}/peers/:peer/address`, (req) => ports.setPeerAddress(req.params.peer, parse(SetAddressBody, req.body).address));

  app.get(`${p}/tasks`, () => ports.listTasks());
  app.post(`${p}/tasks`, (req) => ports.addTask(parse(TaskAddBody, req.body)));
  app.get<{ Params: { name: string } }>(`${p}/tasks/:name`, (req) => ports.showTask(req.params.name));
  app.delete<{ Params: { name: string } }>(`${p}/tasks/:name`, async (req) => {
    await ports.removeTask(req.params.name);
    return { removed: req.params.name };
  });
  app.post<{ Params: { name: string } }>(`${p}/tasks/:name/run`, (req) => ports.runTask(req.params.name));
  app.post<{ Params: { name: string } }>(`${p}/tasks/:name/cancel`, (req) => ports.cancelTask(req.params.name));
  app.post<{ Params: { name: string } }>(`${p}/tasks/:name/pause`, (req) => ports.pauseTask(req.params.name, true));
  app.post<{ Params: { name: string } }>(`${p}/tasks/:name/resume`, (req) => ports.pauseTask(req.params.name, false));
  app.get<{ Params: { id: string } }>(`${p}/runs/:id`, (req) => ports.getRun(req.params.id));

  app.get(`${p}/trail/send`, (req) => ports.sendTrail(parse(TrailQuery, req.query)));
  app.get(`${p}/trail/receive`, (req) => ports.receiveTrail(parse(TrailQuery, req.query)));
  app.get(`${p}/replicas`, (req) => ports.listReplicas(parse(ReplicaQuery, req.query)));
  app.post(`${p}/replicas/copies`, (req) => ports.copyReplica(parse(CopyBody, req.body)));
  app.post(`${p}/replicas/discard`, (req) => ports.discardClone(parse(DiscardBody, req.body).path));
  app.post(`${p}/restores`, (req) => ports.restore(parse(RestoreBody, req.body)));
  app.get<{ Params: { id: string } }>(`${p}/restores/:id`, (req) => ports.getRestore(req.params.id));

  return app;
}
