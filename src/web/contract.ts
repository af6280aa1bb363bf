// The web UI's own routes (signing in and out), declared once: the server
// validates and answers with these schemas, the browser code sends and checks
// them. Everything else the UI does goes through the admin API (api/).
// zod/mini, as the admin API's contract (api/routes.ts says why).

import * as z from 'zod/mini';

export const UI_PREFIX = '/ui';
export const LOGIN_PATH = `${UI_PREFIX}/login`;
export const LOGOUT_PATH = `${UI_PREFIX}/logout`;
export const SESSION_PATH = `${UI_PREFIX}/session`;
/**
 * The pages the UI's router shows (app.tsx's routes, and the sign-in page it
 * shows when signed out): each answers the page. Any other path is a 404,
 * whatever its spelling.
 */
export const PAGE_PATHS = ['/', '/login', '/tasks', '/tasks/:name', '/receive', '/peers', '/pools', '/appliance'] as const;
/** The bundled scripts and styles. */
export const ASSETS_PREFIX = '/assets/';

/** Every request that changes something carries the session's token in this header. */
export const CSRF_HEADER = 'x-csrf-token';

export const LoginBody = z.strictObject({ password: z.string().check(z.minLength(1, 'enter the password'), z.maxLength(1024)) });
export type LoginBody = z.infer<typeof LoginBody>;

/** A signed-in session as the browser sees it: the cookie itself is HttpOnly, out of the page's reach. */
export const SessionView = z.object({ csrf: z.string(), expiresAt: z.string() });
export type SessionView = z.infer<typeof SessionView>;
