// How a browser reaches the admin API: the web layer (src/web) signs the
// admin in and keeps the session; the API only asks it, for a request that
// carries no admin token, whether a session lets it through. Declared here so
// the API needs nothing of the web layer but this contract.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiErrorBody } from './views.js';

export interface Refusal extends ApiErrorBody {
  readonly status: 401 | 403;
}

export interface BrowserAccess {
  /** Adds the UI's own routes (assets, sign in and out) and its security headers to the admin server. */
  install(app: FastifyInstance): void;
  /** Null when the request's session lets it through (for a change: with its CSRF token); else why not. */
  authorize(request: FastifyRequest): Promise<Refusal | null>;
  /** What a GET outside the API's paths gets: the UI's page, whose router takes the path (a miss under the UI's own paths: 404). */
  page(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}
