/** A PostgreSQL server through postgres-js: a connection pool shared by the whole process. */
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { guardDriverWriteAfterClose } from './driver-guard.ts';
import { MIGRATIONS_FOLDER } from './migrations.ts';
import * as schema from './schema.ts';
import { describePostgresUrl } from './postgres-url.ts';
import { DatabaseError, reasonOf, type Database } from './types.ts';

/** Every Baton process migrating this database takes this session lock first. */
const MIGRATION_LOCK = `select pg_advisory_lock(hashtext('baton:migrations'))`;
const MIGRATION_UNLOCK = `select pg_advisory_unlock(hashtext('baton:migrations'))`;

const CONNECT_TIMEOUT_SECONDS = 10;

function clientOptions(applicationName: string, max?: number): postgres.Options<Record<string, postgres.PostgresType>> {
  return {
    ...(max ? { max } : {}),
    connect_timeout: CONNECT_TIMEOUT_SECONDS,
    // No array types cross our pool (jsonb instead), so skip postgres.js's catalog query on every new
    // connection. Besides a round trip per connection, that query's promise is dropped by the driver: a
    // connection reset while it runs (a PostgreSQL restart while the pool reconnects) surfaced as an
    // unhandled rejection and ended the process (porsager/postgres#1192, #1223; not fixed in 3.4.9).
    fetch_types: false,
    onnotice: () => {}, // "schema already exists, skipping" and friends
    // Timestamps come back as text; pin the zone so both drivers print the same strings.
    connection: { TimeZone: 'UTC', application_name: applicationName },
  };
}

/** Connects to `url` (postgres:// or postgresql://), migrates it, and opens the pool. */
export async function openPostgres(url: string): Promise<Database> {
  guardDriverWriteAfterClose();
  const where = describePostgresUrl(url);
  await migrateOnce(url, where);

  const client = postgres(url, clientOptions('baton'));
  let closing: Promise<void> | undefined;
  return {
    db: drizzle({ client, schema }),
    driver: 'postgres',
    async listen(channel, onPayload) {
      // postgres-js keeps one dedicated connection for every LISTEN and re-listens after a reconnect.
      const subscription = await client.listen(channel, (payload) => onPayload(payload));
      return () => subscription.unlisten();
    },
    close: () => {
      closing ??= client.end({ timeout: 5 });
      return closing;
    },
  };
}

/**
 * Runs pending migrations on one dedicated connection holding the advisory lock, so servers
 * and CLIs starting together never run the same migration twice.
 */
async function migrateOnce(url: string, where: string): Promise<void> {
  // max 1: the session lock and every migration statement share the one connection.
  const client = postgres(url, clientOptions('baton-migrate', 1));
  try {
    try {
      await client.unsafe(MIGRATION_LOCK);
    } catch (error) {
      throw new DatabaseError(`cannot connect to PostgreSQL at ${where}: ${scrub(reasonOf(error), url)}`, { cause: error });
    }
    try {
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    } catch (error) {
      throw new DatabaseError(`migrating PostgreSQL at ${where} failed: ${scrub(reasonOf(error), url)}`, { cause: error });
    } finally {
      await client.unsafe(MIGRATION_UNLOCK).catch(() => {});
    }
  } finally {
    await client.end({ timeout: 5 }).catch(() => {});
  }
}

/** Drivers do not echo passwords today; make sure a future message cannot either. */
function scrub(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return message;
  }
  return password ? message.split(password).join('***') : message;
}
