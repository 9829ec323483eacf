/**
 * Riding out a database that goes away for a moment (a PostgreSQL restart, a failover, a dropped
 * connection): writes that are safe to repeat are retried with backoff instead of failing the run.
 */

/** SQLSTATE classes and driver codes that mean "the connection, not the statement, failed". */
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND',
  // postgres.js
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
]);

/** True when retrying the same statement later may succeed. */
export function isTransientDatabaseError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || TRANSIENT_SQLSTATES.has(code) || code.startsWith('08'))) return true;
    if (e instanceof AggregateError && e.errors.some(isTransientDatabaseError)) return true;
  }
  return false;
}

/**
 * Runs `write` until it succeeds, retrying transient failures with exponential backoff for up to
 * `budgetMs` (default 60 s). Only for idempotent writes (upserts keyed by id).
 */
export async function retryTransient<T>(write: () => Promise<T>, budgetMs = 60_000): Promise<T> {
  const started = Date.now();
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await write();
    } catch (error) {
      if (!isTransientDatabaseError(error) || Date.now() - started + delay > budgetMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
