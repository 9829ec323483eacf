import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './errors.ts';

/** `Authorization: Bearer <token>` on every route it guards; no token configured → open. */
export function apiTokenAuth(options: { token?: string }): MiddlewareHandler {
  const expected = options.token ? digest(options.token) : undefined;
  return async function apiTokenAuth(c, next) {
    if (!expected) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Digests have equal length, so the comparison leaks neither content nor length.
    if (!match || !timingSafeEqual(digest(match[1].trim()), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="baton"');
      throw new HttpError(401, match ? 'invalid API token' : 'missing API token: send Authorization: Bearer <BATON_API_TOKEN>');
    }
    return next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
