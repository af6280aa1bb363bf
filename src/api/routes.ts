// Where the admin API lives: shared by its server and its client, so the
// client need not load the server (and fastify) to know it.

export const ADMIN_PREFIX = '/api/v1';

/** Prometheus metrics, on the admin listener (with its token) and on the optional metrics listener (without). */
export const METRICS_PATH = '/metrics';

/** The OpenAPI document of the admin API, made from the route schemas. */
export const OPENAPI_PATH = '/api/openapi.json';
