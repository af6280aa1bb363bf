// The web UI on the admin server: its page and bundled assets, signing in
// and out, and the session check the admin API asks for a request that has
// no admin token (api/browser.ts). The page itself talks to the admin API
// like the CLI does; this file only decides who may.
//
// What guards a session: the password is checked against a memory-hard hash
// (state/ui-password.ts), at most `loginLimit.max` tries a minute per client;
// the session cookie is HttpOnly and SameSite=Strict (`__Host-` and Secure on
// the TLS listener); every change also carries the session's CSRF token in a
// header, and is refused when the browser says it came from another site; the
// Content-Security-Policy lets the page run only its own script and styles.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic, { type FastifyStaticOptions } from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BrowserAccess, Refusal } from '../api/browser.js';
import type { HostAllowlist } from '../api/hosts.js';
import { ApiErrorBody } from '../api/views.js';
import { FerryError } from '../domain/errors.js';
import { adminBudget } from '../util/listener-budgets.js';
import { ASSETS_PREFIX, CSRF_HEADER, LOGIN_PATH, LoginBody, LOGOUT_PATH, PAGE_PATHS, SESSION_PATH, SessionView } from './contract.js';
import { defaultSessionLimits, Sessions, type Session, type SessionLimits } from './sessions.js';

/** The login password, as the daemon keeps it. */
export interface PasswordCheck {
  /** Changes whenever the password is set again; null while none is set. */
  stamp(): Promise<string | null>;
  /** True when the password is right (false too when none is set). */
  verify(password: string): Promise<boolean>;
}

export interface WebUiOptions {
  /** The built UI: index.html and assets/ (dist/web). */
  readonly assetsDir: string;
  readonly password: PasswordCheck;
  /** Served over TLS: the cookie is Secure and `__Host-` prefixed, and browsers are told to keep to https. */
  readonly secure: boolean;
  readonly loginLimit?: { readonly max: number; readonly windowMs: number };
  /** Password checks at once: each holds 32 MiB of scrypt memory, so a burst of sign-ins from many addresses cannot exhaust the appliance's. */
  readonly maxConcurrentChecks?: number;
  readonly sessions?: SessionLimits;
  /** The names the listener answers to: a change's Origin must be one of them. */
  readonly hosts: HostAllowlist;
  /** Told of every failed sign-in (the daemon logs it). */
  readonly onLoginFailed?: (request: FastifyRequest, code: string) => void;
}

const changes = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function sameToken(given: string | undefined, want: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A change a browser sent from a page of another site: its Sec-Fetch-Site
 * says so, or its Origin names a host the listener does not answer to (the
 * request's own Host is no judge: a rebound name sends its own).
 * SameSite=Strict keeps the cookie off such requests already; this refuses
 * them even if a browser did not.
 */
function crossSite(request: FastifyRequest, hosts: HostAllowlist): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return !hosts.allows(new URL(origin).host);
  } catch {
    return true;
  }
}

export function webUi(options: WebUiOptions): BrowserAccess {
  const sessions = new Sessions(options.sessions ?? defaultSessionLimits, () => randomBytes(32).toString('base64url'));
  const cookieName = options.secure ? '__Host-ferry-session' : 'ferry-session';
  const loginLimit = options.loginLimit ?? { max: 10, windowMs: 60_000 };
  const maxChecks = options.maxConcurrentChecks ?? 4;
  let checking = 0;
  const indexFile = path.join(options.assetsDir, 'index.html');
  let index: Promise<string | null> | null = null;
  let parseCookie: (header: string) => Record<string, string | undefined> = () => ({});

  const cookieOptions = { httpOnly: true, sameSite: 'strict', secure: options.secure, path: '/' } as const;
  /** The session id the request's cookie carries, if any. */
  const cookieOf = (request: FastifyRequest): string | undefined => {
    const header = request.headers.cookie;
    return header === undefined ? undefined : parseCookie(header)[cookieName];
  };
  const sessionOf = async (request: FastifyRequest): Promise<Session | null> => {
    const id = cookieOf(request);
    return id === undefined ? null : sessions.use(id, await options.password.stamp());
  };

  const view = (session: Session) => ({ csrf: session.csrf, expiresAt: new Date(sessions.expiresAt(session)).toISOString() });

  /** Null when the request may change things on this session. */
  const changeRefusal = (request: FastifyRequest, session: Session): Refusal | null => {
    const header = request.headers[CSRF_HEADER];
    if (crossSite(request, options.hosts) || !sameToken(typeof header === 'string' ? header : undefined, session.csrf)) {
      return { status: 403, code: 'CSRF_REQUIRED', message: `a change needs the session's ${CSRF_HEADER} header and must come from this page: reload it` };
    }
    return null;
  };

  /** The UI's page: its router shows what the path names (or that nothing is there, with the 404 status the caller set). */
  const page = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    index ??= readFile(indexFile, 'utf8').catch(() => null);
    const html = await index;
    if (html === null) {
      index = null;
      return reply.code(503).type('text/plain; charset=utf-8').send(`the web UI is not built here (no ${indexFile}): run 'npm run build'\n`);
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  };

  const refuse = (reply: FastifyReply, refusal: Refusal) => reply.code(refusal.status).send({ code: refusal.code, message: refusal.message });

  const staticOptions: FastifyStaticOptions = {
    root: path.join(options.assetsDir, 'assets'),
    prefix: ASSETS_PREFIX,
    decorateReply: false,
    index: false,
    // Names carry no hash: the browser asks again each time, and gets 304 while nothing changed.
    cacheControl: false,
    setHeaders: (res) => {
      res.setHeader('cache-control', 'no-cache');
    },
  };

  const install = (app: FastifyInstance): void => {
    void app.register(fastifyCookie);
    parseCookie = (header) => app.parseCookie(header);
    void app.register(fastifyHelmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      hsts: options.secure ? { maxAge: 180 * 86_400 } : false,
      // The page loads nothing from elsewhere; these would only get in the way of the event stream.
      crossOriginEmbedderPolicy: false,
    });
    void app.register(fastifyRateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        new FerryError('RATE_LIMITED', `too many sign-in attempts from this address: try again in ${Math.ceil(context.ttl / 1000)} s`),
    });
    // The assets are public: the static plugin's routes say so as they are added (a route without an access does not start).
    void app.register((scope, _opts, done) => {
      scope.addHook('onRoute', (route) => {
        route.config = { ...route.config, access: 'public' };
      });
      void scope.register(fastifyStatic, staticOptions);
      done();
    });

    // Routes in a plugin of their own, so they are added after the rate limit is loaded: it sees every route as it is added.
    void app.register((scope, _opts, done) => {
      routes(scope);
      done();
    });
  };


  const routes = (app: FastifyInstance): void => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const hidden = { hide: true };
    // Signing in and out decide for themselves (a password, a session); the page and its assets are for anyone.
    const config = { access: 'public' } as const;
    for (const url of PAGE_PATHS) api.get(url, { schema: hidden, config }, (request, reply) => page(request, reply));
    api.get(SESSION_PATH, { schema: { ...hidden, response: { 200: SessionView, 401: ApiErrorBody } }, config }, async (request, reply) => {
      const session = await sessionOf(request);
      if (session) return view(session);
      if ((await options.password.stamp()) === null) throw new FerryError('NO_PASSWORD', "no web UI password is set: run 'ferry admin password' on the appliance");
      return reply.code(401).send({ code: 'LOGIN_REQUIRED', message: 'sign in to continue' });
    });
    api.post(
      LOGIN_PATH,
      {
        schema: { ...hidden, body: LoginBody, response: { 200: SessionView, '4xx': ApiErrorBody } },
        // Read before anyone is known: small.
        bodyLimit: adminBudget.anonymousBodyBytes,
        config: { ...config, rateLimit: { max: loginLimit.max, timeWindow: loginLimit.windowMs } },
      },
      async (request, reply) => {
        if (crossSite(request, options.hosts)) return refuse(reply, { status: 403, code: 'CSRF_REQUIRED', message: 'sign in from the appliance page itself' });
        const stamp = await options.password.stamp();
        if (stamp === null) {
          options.onLoginFailed?.(request, 'NO_PASSWORD');
          throw new FerryError('NO_PASSWORD', "no web UI password is set: run 'ferry admin password' on the appliance");
        }
        if (checking >= maxChecks) throw new FerryError('RATE_LIMITED', 'too many sign-ins at once: try again in a moment');
        checking++;
        const right = await options.password.verify(request.body.password).finally(() => checking--);
        if (!right) {
          options.onLoginFailed?.(request, 'WRONG_PASSWORD');
          throw new FerryError('WRONG_PASSWORD', 'the password is wrong');
        }
        const session = sessions.create(stamp);
        void reply.setCookie(cookieName, session.id, cookieOptions);
        return view(session);
      },
    );
    api.post(LOGOUT_PATH, { schema: { ...hidden, response: { 200: z.object({}), '4xx': ApiErrorBody } }, config }, async (request, reply) => {
      const session = await sessionOf(request);
      if (!session) return refuse(reply, { status: 401, code: 'LOGIN_REQUIRED', message: 'not signed in' });
      const refusal = changeRefusal(request, session);
      if (refusal) return refuse(reply, refusal);
      sessions.remove(session.id);
      void reply.clearCookie(cookieName, cookieOptions);
      return {};
    });
  };

  return {
    install,
    async authorize(request) {
      const session = await sessionOf(request);
      if (!session) {
        return cookieOf(request) !== undefined
          ? { status: 401, code: 'LOGIN_REQUIRED', message: 'the web UI session has ended: sign in again' }
          : { status: 401, code: 'UNAUTHORIZED', message: 'the admin API needs the token from the state dir (admin.token), or a signed-in web UI session' };
      }
      return changes.has(request.method) ? changeRefusal(request, session) : null;
    },
    page,
  };
}
