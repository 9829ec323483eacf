/**
 * Riding out a database that goes away for a moment (a PostgreSQL restart, a failover, a dropped
 * connection): writes that are safe to repeat are retried with backoff instead of failing the run.
 *
 * Only the connection is worth waiting for. A statement the database answered with an error (a
 * syntax error, a constraint, more than 65,535 parameters — reported as a protocol violation, an
 * invalid byte sequence) fails the same way every time: retrying it only turns one bug into a loop.
 */

/**
 * SQLSTATEs of a connection that failed or a server going away. Class 08 is listed code by code:
 * 08P01 (protocol_violation) is the server refusing one message, e.g. a bind with too many parameters.
 */
const CONNECTION_SQLSTATES = new Set([
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
  '08007', // transaction_resolution_unknown
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

/** Errors of the socket or of postgres.js's connection handling: the statement never got an answer. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  // postgres.js
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
]);

/** A five-character SQLSTATE: the database answered the statement (with an error). */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * True when retrying the same statement later may succeed: the connection failed, not the statement.
 * An error whose chain carries a SQLSTATE outside the connection classes was the statement's own.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  let transient = false;
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (CONNECTION_CODES.has(code) || CONNECTION_SQLSTATES.has(code)) transient = true;
      // The database refused the statement: whatever else the chain says, the same statement fails again.
      else if (SQLSTATE.test(code)) return false;
    }
    if (e instanceof AggregateError && e.errors.some(isTransientDatabaseError)) transient = true;
  }
  return transient;
}

/**
 * Runs `write` until it succeeds, retrying transient failures with exponential backoff for up to
 * `budgetMs` (default 60 s). Only for idempotent writes (upserts keyed by id). Any other failure is
 * thrown at once: the statement is wrong, and it is the caller's to report, once.
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
