/**
 * A connection reset while the pool opens a connection (what a PostgreSQL restart does to a pool that
 * reconnects at that moment) fails the query that was waiting, which our writers retry, and nothing
 * else: no unhandled rejection, which would end a Baton process (it did in CI: postgres.js drops the
 * promise of its array-type catalog query, porsager/postgres#1192).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestPostgresDatabase, postgresService, TEST_POSTGRES_URL, type TestPostgresDatabase } from '../test/support/databases.ts';
import { retryTransient } from './transient.ts';
import { openDatabase, type Database } from './index.ts';

/** A TCP proxy to PostgreSQL that, once armed, resets the next connection when it sends its first query. */
async function startResettingProxy(): Promise<{ server: Server; port: number; arm(): void; resets(): number }> {
  const target = new URL(TEST_POSTGRES_URL);
  let armed = false;
  let resets = 0;
  const server = createServer((client: Socket) => {
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    let startupSeen = false;
    client.on('data', (chunk: Buffer) => {
      // The startup message has no type byte; after it, 'P' (Parse) or 'Q' (Query) starts a query.
      const startsQuery = startupSeen && (chunk[0] === 0x50 || chunk[0] === 0x51);
      startupSeen = true;
      if (armed && startsQuery) {
        armed = false;
        resets++;
        upstream.destroy();
        client.resetAndDestroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.writable && client.write(chunk));
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, arm: () => (armed = true), resets: () => resets };
}

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
