/**
 * The database: one door for the schema, the row types and `openDatabase`.
 * Queries are written once against `Db` and run on embedded PGlite or on PostgreSQL.
 */
import { DatabaseError, type Database, type OpenDatabaseOptions } from './types.ts';

export * from './schema.ts';
export { DatabaseError, type Database, type DatabaseDriver, type Db, type OpenDatabaseOptions } from './types.ts';
export { describePostgresUrl } from './postgres-url.ts';
export { toIsoTimestamp } from './timestamps.ts';
export { escapeLike } from './like.ts';
export { DashboardSessionRows } from './dashboard-sessions.ts';
export { inNamespaceOrBelow } from './namespace-prefix.ts';
export { pageWindow, type PageWindow } from './paging.ts';

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
// Each driver is imported when opened: a process on PostgreSQL never loads PGlite, one on PGlite never
// loads postgres.js (memory a worker or an embedded server need not hold).
const IN_MEMORY = 'memory://';

/**
 * Opens and migrates the database: PostgreSQL when `url` (else env `DATABASE_URL`) is a
 * postgres:// URL, otherwise embedded PGlite under `dataDir` (else env `BATON_DATA_DIR`, else
 * `.baton/` in the cwd); `memory://` as url or dataDir gives a throw-away in-memory database.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const url = options.url || (options.dataDir ? undefined : process.env.DATABASE_URL || undefined);
  if (url !== undefined) {
    if (POSTGRES_URL.test(url)) return (await import('./postgres.ts')).openPostgres(url);
    if (url === IN_MEMORY) return (await import('./pglite.ts')).openPglite(IN_MEMORY);
    throw new DatabaseError(
      `unsupported database URL '${url.replace(/\/\/[^@/]*@/, '//')}': expected postgres://… or ${IN_MEMORY}`,
    );
  }
  return (await import('./pglite.ts')).openPglite(options.dataDir || process.env.BATON_DATA_DIR || '.baton');
}
export { isTransientDatabaseError, retryTransient } from './transient.ts';

/**
 * Starts opening the database `openDatabase` will open with the same options, so that a process can
 * load its other modules meanwhile (start-up time). Only the embedded database has slow steps that
 * need no caller (compiling PGlite, writing a new data directory); openDatabase reports any failure.
 */
export async function prepareDatabase(options: OpenDatabaseOptions = {}): Promise<void> {
  const url = options.url || (options.dataDir ? undefined : process.env.DATABASE_URL || undefined);
  if (url !== undefined) return;
  (await import('./pglite.ts')).prepareDataDir(options.dataDir || process.env.BATON_DATA_DIR || '.baton');
}
