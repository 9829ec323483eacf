import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema.ts';

/**
 * The drizzle handle every query is written against. Both drivers (PGlite, postgres-js) are
 * `PgDatabase` subclasses, so code typed with `Db` runs unchanged on either. Prefer the query
 * builder: the raw result of `db.execute()` differs between drivers (`{ rows }` vs an array).
 * Beware: drizzle's `jsonb` mapping re-parses a top-level JSON *string* on read ("42" comes back
 * as 42); select `sql\`${col}::text\`` and JSON.parse it where such values occur (see engine/kv).
 */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DatabaseDriver = 'pglite' | 'postgres';

/** An open, migrated database. */
export interface Database {
  db: Db;
  driver: DatabaseDriver;
  /**
   * Subscribes to a PostgreSQL notification channel (`LISTEN`); `pg_notify` in a transaction is
   * delivered when it commits, to every process on the database. Resolves to the unsubscribe.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Releases the connection(s); idempotent. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** `postgres://…` for a PostgreSQL server, or `memory://` for a throw-away embedded database. */
  url?: string;
  /** Where the embedded database lives (`<dataDir>/pglite`), or `memory://`. */
  dataDir?: string;
}

/** The database could not be opened: unreachable, refused, locked or failed to migrate. */
export class DatabaseError extends Error {
  constructor(
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

/** A one-line reason for an error from a driver (AggregateErrors from dual-stack connects have none). */
export function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && !error.message) {
    return [...new Set(error.errors.map(reasonOf))].join('; ');
  }
  if (error instanceof Error) {
    // drizzle wraps driver errors as "Failed query: <sql>"; the driver's message is the reason.
    if (error.message.startsWith('Failed query') && error.cause instanceof Error) return reasonOf(error.cause);
    return error.message || (error as NodeJS.ErrnoException).code || error.name;
  }
  return String(error);
}
