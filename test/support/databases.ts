/**
 * Run one suite against both databases Baton supports: embedded PGlite (in memory) and a real
 * PostgreSQL server, where each suite gets a fresh database that is dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe } from 'vitest';
import { describePostgresUrl, openDatabase, type Database } from '../../db/index.ts';
import { requireService } from './services.ts';

/** The test server's maintenance database: fresh test databases are created from it. */
export const TEST_POSTGRES_URL = process.env.BATON_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

const TEST_DATABASE_PREFIX = 'baton_test_';
/** Test databases older than this were left by a killed run; creating a new one sweeps them. */
const STALE_AFTER_SECONDS = 6 * 3600;

/** Gate for suites that need the test PostgreSQL server: `postgresService.describe(name, () => {…})`. */
export const postgresService = requireService('postgresql', async () => {
  const sql = admin();
  try {
    await sql`select 1`;
    return null;
  } catch (error) {
    return `cannot connect to ${describePostgresUrl(TEST_POSTGRES_URL)} (set BATON_TEST_DATABASE_URL): ${reasonOf(error)}`;
  } finally {
    await sql.end({ timeout: 1 });
  }
});

/**
 * Declares `name [pglite]` and `name [postgres]`, calling `suite` in each with `open()`.
 * `open()` connects to the suite's database: on PostgreSQL every call reaches the same fresh
 * database, on PGlite every call is a new empty in-memory one — so open once per suite
 * (`beforeAll`) unless a test needs its own. Databases still open when the suite ends are closed.
 */
export function describeEachDatabase(name: string, suite: (open: () => Promise<Database>) => void): void {
  describe(`${name} [pglite]`, () => {
    suite(closedAfterAll(() => openDatabase({ dataDir: 'memory://' })));
  });

  postgresService.describe(`${name} [postgres]`, () => {
    let database: TestPostgresDatabase | undefined;
    // Registered before the suite's hooks: created before its beforeAll, dropped after its afterAll.
    beforeAll(async () => {
      database = await createTestPostgresDatabase();
    });
    afterAll(async () => {
      await database?.drop();
    });
    suite(
      closedAfterAll(() => {
        if (!database) throw new Error('open() called before the suite started (call it in a hook or a test)');
        return openDatabase({ url: database.url });
      }),
    );
  });
}

export interface TestPostgresDatabase {
  /** URL of the new, empty (not yet migrated) database. */
  url: string;
  name: string;
  /** Drops it, disconnecting anyone still connected. */
  drop(): Promise<void>;
}

/** A fresh, empty database on the test server, for suites that need PostgreSQL specifically. */
export async function createTestPostgresDatabase(): Promise<TestPostgresDatabase> {
  const name = `${TEST_DATABASE_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const sql = admin();
  try {
    await sweepStaleDatabases(sql);
    for (let attempt = 1; ; attempt++) {
      try {
        await sql.unsafe(`create database "${name}"`);
        break;
      } catch (error) {
        // 55006: someone is briefly connected to template1; concurrent suites collide here.
        if ((error as { code?: string }).code !== '55006' || attempt === 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const dropper = admin();
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}

async function sweepStaleDatabases(sql: postgres.Sql): Promise<void> {
  const rows = await sql<{ datname: string }[]>`
    select datname from pg_database where datname like ${`${TEST_DATABASE_PREFIX}%`}`;
  const cutoff = Date.now() / 1000 - STALE_AFTER_SECONDS;
  for (const { datname } of rows) {
    const createdAt = Number(datname.slice(TEST_DATABASE_PREFIX.length).split('_')[0]);
    if (Number.isFinite(createdAt) && createdAt < cutoff) {
      await sql.unsafe(`drop database if exists "${datname}" with (force)`).catch(() => {});
    }
  }
}

function admin(): postgres.Sql {
  return postgres(TEST_POSTGRES_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
}

/** Wraps an opener so whatever it opened is closed when the enclosing suite ends. */
function closedAfterAll(open: () => Promise<Database>): () => Promise<Database> {
  const opened: Database[] = [];
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()));
  });
  return async () => {
    const database = await open();
    opened.push(database);
    return database;
  };
}

function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && !error.message) return error.errors.map(reasonOf).join('; ');
  return error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || error.name : String(error);
}
