import type { MiddlewareHandler } from 'hono';

/**
 * The dashboard's Content-Security-Policy. Scripts come from Baton's own files only (htmx and
 * views/static/*.js): no inline script, no event-handler attribute, no eval — htmx evaluates code
 * only for `hx-on`, `js:` values and trigger filters, which the views do not use, so a `js:` value
 * smuggled into a page cannot run either. Style attributes stay allowed: the Gantt chart and
 * the task tree position their bars and rows with them; a style element is not.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const HEADERS: [string, string][] = [
  ['Content-Security-Policy', CONTENT_SECURITY_POLICY],
  // For browsers without frame-ancestors.
  ['X-Frame-Options', 'DENY'],
  ['X-Content-Type-Options', 'nosniff'],
  // Same-origin requests keep their Referer (the origin check reads it when Origin is absent); other sites get none.
  ['Referrer-Policy', 'same-origin'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
];

/** Sets the security headers on every response (a header a route set itself is kept). */
export function securityHeaders(): MiddlewareHandler {
  return async function securityHeaders(c, next) {
    await next();
    const headers = c.res.headers;
    for (const [name, value] of HEADERS) if (!headers.has(name)) headers.set(name, value);
  };
}
