import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The one HTTP error type: status, a message for people, optional details. Mapped in `app.onError`. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

/** Errors are JSON `{message, details}` with the right status; never a stack trace. */
export function errorResponse(c: Context, err: unknown, log?: (err: unknown) => void) {
  if (err instanceof HttpError) return c.json({ message: err.message, details: err.details ?? null }, err.status);
  log?.(err);
  return c.json({ message: 'internal error', details: null }, 500);
}
