// Where the admin API lives: shared by its server and its client, so the
// client need not load the server (and fastify) to know it.

export const ADMIN_PREFIX = '/api/v1';
