// The login session as the app shell tracks it. The cookie itself is
// HttpOnly: the page only knows whether the server accepts it (GET
// /ui/session) and the CSRF token that comes with it.

export type Session =
  | { readonly kind: 'checking' }
  | { readonly kind: 'in'; readonly expiresAt: string }
  /** `code` says why: LOGIN_REQUIRED, NO_PASSWORD (none set on the appliance yet), or the error that kept the check from answering. */
  | { readonly kind: 'out'; readonly code: string; readonly error: unknown };

/**
 * Where to go after signing in: the page the admin was on. Only a path of
 * this site, so that a crafted link cannot send a fresh login elsewhere.
 */
export function safeNext(next: string | undefined): string {
  if (next === undefined || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return '/';
  return next;
}

export function loginPath(current: string): string {
  return current === '/' || current.startsWith('/login') ? '/login' : `/login?next=${encodeURIComponent(current)}`;
}
