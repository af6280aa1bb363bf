// The optional Prometheus listener ("metrics": "HOST:PORT" in config.json):
// GET /metrics and nothing else, without the admin token, so a scraper can
// be pointed at it without holding the key to the admin API.

import Fastify, { type FastifyInstance } from 'fastify';
import { METRICS_PATH } from '../api/routes.js';

export function createMetricsServer(scrape: () => Promise<{ contentType: string; body: string }>): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get(METRICS_PATH, async (_req, reply) => {
    const { contentType, body } = await scrape();
    return reply.type(contentType).send(body);
  });
  return app;
}
