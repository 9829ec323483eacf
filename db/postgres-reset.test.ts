/**
 * A connection reset while the pool opens a connection (what a PostgreSQL restart does to a pool that
 * reconnects at that moment) fails the query that was waiting, which our writers retry, and nothing
 * else: no unhandled rejection, which would end a Baton process (it did in CI: postgres.js drops the
 * promise of its array-type catalog query, porsager/postgres#1192).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestPostgresDatabase, postgresService, type TestPostgresDatabase } from '../test/support/databases.ts';
import { startResettingProxy } from '../test/support/resetting-proxy.ts';
import { retryTransient } from './transient.ts';
import { openDatabase, type Database } from './index.ts';

postgresService.describe('PostgreSQL pool: a connection reset while it connects', () => {
  let database: TestPostgresDatabase;
  let proxy: Awaited<ReturnType<typeof startResettingProxy>>;
  let opened: Database | undefined;

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    proxy = await startResettingProxy();
  });
  afterAll(async () => {
    await opened?.close();
    await new Promise((resolve) => proxy?.server.close(resolve));
    await database?.drop();
  });

  test('fails only the waiting query (retried), never as an unhandled rejection', async () => {
    const url = new URL(database.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    opened = await openDatabase({ url: url.toString() });

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Every pooled connection so far belongs to the migration client; this query opens a new one.
      proxy.arm();
      const rows = await retryTransient(() => opened!.db.execute(sql`select 41 + 1 as answer`), 10_000);
      expect(proxy.resets()).toBe(1);
      expect(Array.from(rows as Iterable<{ answer: number }>)[0].answer).toBe(42);
      // A dropped promise rejects on the reset's own turn; give it a few to surface.
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled.map((r) => String((r as Error)?.stack ?? r))).toEqual([]);
  });
});
