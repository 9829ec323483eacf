import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPostgresDatabase, postgresService, type TestPostgresDatabase } from '../../../test/support/databases.ts';
import { startResettingProxy } from '../../../test/support/resetting-proxy.ts';
import { createTempDirTaskContext, type TempDirTaskContext } from '../../scripts/temp-dir-task-context.ts';
import { TaskFailure, type TaskPlugin } from '../types.ts';
import { postgresqlCopyIn } from './postgresql-copy-in.ts';
import { postgresqlCopyOut } from './postgresql-copy-out.ts';
import { postgresqlQueries } from './postgresql-queries.ts';
import { postgresqlQuery } from './postgresql-query.ts';

postgresService.describe('PostgreSQL plugins against a real server', () => {
  let database: TestPostgresDatabase;
  let admin: postgres.Sql;
  let url: string;
  const contexts: TempDirTaskContext<unknown>[] = [];

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    const u = new URL(database.url);
    url = `jdbc:postgresql://${u.hostname}:${u.port || 5432}${u.pathname}`;
    admin = postgres(database.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.cleanup()));
    await admin?.end({ timeout: 5 });
    await database?.drop();
  });

  async function run(plugin: TaskPlugin, props: Record<string, unknown>) {
    const context = await createTempDirTaskContext<Record<string, unknown>>({ url, username: 'postgres', ...props });
    contexts.push(context as TempDirTaskContext<unknown>);
    const result = await plugin.run(context.ctx);
    return { outputs: (result ?? {}).outputs ?? {}, context };
  }

  async function failure(plugin: TaskPlugin, props: Record<string, unknown>, prepare?: (c: TempDirTaskContext<Record<string, unknown>>) => Promise<void>) {
    const context = await createTempDirTaskContext<Record<string, unknown>>({ url, username: 'postgres', ...props });
    contexts.push(context as TempDirTaskContext<unknown>);
    await prepare?.(context);
    const error = await plugin.run(context.ctx).then(() => undefined, (e: unknown) => e);
    expect(error, 'the task should have failed').toBeInstanceOf(TaskFailure);
    return (error as TaskFailure).message;
  }

  it('a connection reset as the task connects (PostgreSQL restarting) fails the task, not the process', async () => {
    const proxy = await startResettingProxy();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const u = new URL(database.url);
      const viaProxy = `jdbc:postgresql://127.0.0.1:${proxy.port}${u.pathname}`;
      proxy.arm();
      const message = await failure(postgresqlQuery, { url: viaProxy, sql: 'SELECT ARRAY[1,2] AS list', fetchType: 'FETCH_ONE' });
      expect(proxy.resets()).toBe(1);
      expect(message).toMatch(/127\.0\.0\.1:\d+/);
      // The next task connects through the same proxy, arrays and all.
      expect((await run(postgresqlQuery, { url: viaProxy, sql: 'SELECT ARRAY[1,2] AS list', fetchType: 'FETCH_ONE' })).outputs).toEqual({ row: { list: [1, 2] }, size: 1 });
      // A dropped promise would reject on the reset's own turn; give it a few to surface.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });

  describe('Query', () => {
    it('runs several statements; the outputs are those of the last one that returned rows', async () => {
      const { outputs } = await run(postgresqlQuery, {
        fetchType: 'FETCH',
        sql: `DROP TABLE IF EXISTS q1;
              CREATE TABLE q1 (id int, name text);
              INSERT INTO q1 VALUES (1, 'a'), (2, 'b');
              SELECT * FROM q1 ORDER BY id;
              UPDATE q1 SET name = upper(name);`,
      });
      expect(outputs).toEqual({ rows: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }], size: 2 });
      expect(await admin`select name from q1 order by id`).toEqual([{ name: 'A' }, { name: 'B' }]);
    });

    it('FETCH_ONE, STORE and NONE, and the deprecated booleans', async () => {
      await admin`create table q2 as select g as id, 'row ' || g as label from generate_series(1, 2500) g`;
      const sql = 'SELECT id, label FROM q2 ORDER BY id';
      expect((await run(postgresqlQuery, { sql, fetchType: 'FETCH_ONE' })).outputs).toEqual({ row: { id: 1, label: 'row 1' }, size: 1 });
      expect((await run(postgresqlQuery, { sql, fetchOne: true })).outputs).toEqual({ row: { id: 1, label: 'row 1' }, size: 1 });
      expect((await run(postgresqlQuery, { sql: 'SELECT 1 WHERE false', fetchType: 'FETCH_ONE' })).outputs).toEqual({ row: null, size: 0 });
      expect((await run(postgresqlQuery, { sql, fetchType: 'NONE' })).outputs).toEqual({});
      expect((await run(postgresqlQuery, { sql })).outputs).toEqual({});

      for (const props of [{ fetchType: 'STORE' }, { store: true }]) {
        const { outputs, context } = await run(postgresqlQuery, { sql, ...props });
        expect(outputs.size).toBe(2500);
        expect(outputs.uri).toMatch(/^kestra:\/\/\/.*\.ion$/);
        const lines = (await context.ctx.storage.read(outputs.uri as string)).toString().trimEnd().split('\n');
        expect(lines).toHaveLength(2500);
        expect(JSON.parse(lines[2499])).toEqual({ id: 2500, label: 'row 2500' });
      }
    });

    it('converts values as Kestra does', async () => {
      const { outputs } = await run(postgresqlQuery, {
        fetchType: 'FETCH_ONE',
        timeZoneId: 'Europe/Paris',
        sql: `SELECT 9007199254740993::int8 AS big, 42::int8 AS small, 12.50::numeric AS amount, 1.5::float8 AS ratio,
                     true AS flag, '2020-01-01 00:10:00'::timestamp AS pickup, '2020-01-01 00:10:00+00'::timestamptz AS at,
                     '2020-01-31'::date AS day, '10:15:30'::time AS clock, '1 day 02:00:00'::interval AS span,
                     '{"a":[1,2]}'::jsonb AS doc, ARRAY[1,2,3] AS list, '\\x0102'::bytea AS bytes, NULL::text AS nothing,
                     ARRAY['a,b', NULL, 'say "hi"'] AS words, ARRAY[[1.5, 2], [3, 4]]::numeric[] AS grid,
                     ARRAY[9007199254740993]::int8[] AS bigs, ARRAY['2020-01-31']::date[] AS days, '{}'::int[] AS empty`,
      });
      expect(outputs.row).toEqual({
        big: '9007199254740993', small: 42, amount: 12.5, ratio: 1.5, flag: true, pickup: '2020-01-01T00:10:00',
        at: '2020-01-01T01:10:00+01:00', day: '2020-01-31', clock: '10:15:30', span: 'P0Y0M1DT2H0M0S',
        doc: { a: [1, 2] }, list: [1, 2, 3], bytes: 'AQI=', nothing: null,
        // Array elements convert as columns of their type do.
        words: ['a,b', null, 'say "hi"'], grid: [[1.5, 2], [3, 4]], bigs: ['9007199254740993'], days: ['2020-01-31'], empty: [],
      });
    });

    it('binds :name parameters (never inside strings or casts)', async () => {
      const { outputs } = await run(postgresqlQuery, {
        fetchType: 'FETCH_ONE',
        parameters: { n: 41, label: 'x' },
        sql: "SELECT :n::int + 1 AS answer, ':label' AS literal, :label AS bound",
      });
      expect(outputs.row).toEqual({ answer: 42, literal: ':label', bound: 'x' });
      expect(await failure(postgresqlQuery, { parameters: { n: 1 }, sql: 'SELECT :missing' })).toBe("parameters: ':missing' has no value (given: n)");
    });

    it('fails with PostgreSQL message and the line in the SQL; earlier statements are rolled back', async () => {
      const message = await failure(postgresqlQuery, {
        sql: 'CREATE TABLE q3 (id int);\nINSERT INTO q3 VALUES (1);\nSELECT id\n  FROM q3 WHERE nope = 1;',
      });
      expect(message).toBe(
        'ERROR: column "nope" does not exist\n  Position: 27 (line 4, column 17 of the SQL, statement 3 of 3)',
      );
      expect(await admin`select to_regclass('q3') as t`).toEqual([{ t: null }]);
    });

    it('names a bad url (password hidden) and an unreachable server', async () => {
      expect(await failure(postgresqlQuery, { url: 'jdbc:mysql://h/db?password=secret', sql: 'select 1' })).toBe(
        "url: invalid PostgreSQL JDBC url 'jdbc:mysql://h/db?password=***': it must start with 'jdbc:postgresql:' (expected jdbc:postgresql://host:port/database?user=…&password=…)",
      );
      expect(await failure(postgresqlQuery, { url: 'jdbc:postgresql://127.0.0.1:1/db', sql: 'select 1' })).toMatch(
        /^cannot reach PostgreSQL at 127\.0\.0\.1:1\/db \(jdbc:postgresql:\/\/127\.0\.0\.1:1\/db\): .*ECONNREFUSED/,
      );
      expect(await failure(postgresqlQuery, { url: `${url}?user=nobody_here`, sql: 'select 1' })).toMatch(/role "nobody_here" does not exist/);
    });

    it('takes the user from the url before the username property, as pgjdbc does', async () => {
      const { outputs } = await run(postgresqlQuery, { url: `${url}?user=postgres&ApplicationName=from_url`, username: 'ignored', fetchType: 'FETCH_ONE', sql: 'select current_user as u, current_setting(\'application_name\') as app' });
      expect(outputs.row).toEqual({ u: 'postgres', app: 'from_url' });
    });

    it('a kill cancels the running statement', async () => {
      const context = await createTempDirTaskContext({ url, username: 'postgres', sql: "SELECT pg_sleep(30), 'baton-kill-probe'" });
      contexts.push(context as TempDirTaskContext<unknown>);
      const running = postgresqlQuery.run(context.ctx as never).then(() => undefined, (e: unknown) => e);
      await waitUntil(async () => (await admin`select count(*)::int as n from pg_stat_activity where query like '%baton-kill-probe%' and pid <> pg_backend_pid()`)[0].n === 1);
      context.abort(new Error('killed by the test'));
      const error = await running;
      expect(error).toBeInstanceOf(TaskFailure);
      expect((error as Error).message).toBe('stopped: killed by the test');
      await waitUntil(async () => (await admin`select count(*)::int as n from pg_stat_activity where query like '%baton-kill-probe%' and pid <> pg_backend_pid()`)[0].n === 0);
    });
  });

  describe('Queries', () => {
    it('one output per statement that returned rows, in one transaction by default', async () => {
      const { outputs } = await run(postgresqlQueries, {
        fetchType: 'FETCH',
        sql: 'CREATE TABLE qs1 (id int); INSERT INTO qs1 VALUES (1), (2); SELECT count(*)::int AS n FROM qs1; SELECT max(id) AS top FROM qs1;',
      });
      expect(outputs).toEqual({ outputs: [{ rows: [{ n: 2 }], size: 1 }, { rows: [{ top: 2 }], size: 1 }] });

      await failure(postgresqlQueries, { sql: 'CREATE TABLE qs2 (id int); SELECT broken FROM qs2;' });
      expect(await admin`select to_regclass('qs2') as t`).toEqual([{ t: null }]);
      await failure(postgresqlQueries, { transaction: false, sql: 'CREATE TABLE qs3 (id int); SELECT broken FROM qs3;' });
      expect(await admin`select to_regclass('qs3')::text as t`).toEqual([{ t: 'qs3' }]);
    });
  });

  describe('CopyIn', () => {
    beforeAll(async () => {
      await admin`create table trips (vendor int, pickup timestamp, fare double precision, note text)`;
    });

    it('streams a CSV file with a header into the table → rowCount', async () => {
      const context = await createTempDirTaskContext({ url, username: 'postgres', table: 'trips', format: 'CSV', header: true, columns: ['vendor', 'pickup', 'fare'], from: '' });
      contexts.push(context as TempDirTaskContext<unknown>);
      const rows = Array.from({ length: 5000 }, (_, i) => `${i % 3},2020-01-01 00:${String(i % 60).padStart(2, '0')}:00,${i}.5`);
      (context.ctx.props as { from: string }).from = await context.putStorageFile('trips.csv', `vendor,pickup,fare\n${rows.join('\n')}\n`);
      // The file is streamed: a whole-file read would throw here.
      context.ctx.storage.read = async () => {
        throw new Error('CopyIn must stream the file, not read it whole');
      };
      const result = await postgresqlCopyIn.run(context.ctx as never);
      expect(result).toEqual({ outputs: { rowCount: 5000 } });
      expect(await admin`select count(*)::int as n, sum(fare) as total from trips`).toEqual([{ n: 5000, total: 5000 * 4999 / 2 + 2500 }]);
    });

    it('TEXT format with delimiter and nullString', async () => {
      const { outputs } = await runWithFile(postgresqlCopyIn, { table: 'trips', columns: ['vendor', 'note'], delimiter: '|', nullString: 'NA' }, 'copy.txt', '7|hello\n8|NA\n');
      expect(outputs).toEqual({ rowCount: 2 });
      expect(await admin`select vendor, note from trips where vendor in (7, 8) order by vendor`).toEqual([{ vendor: 7, note: 'hello' }, { vendor: 8, note: null }]);
    });

    it('a malformed line fails with its line number and leaves the table untouched', async () => {
      const before = (await admin`select count(*)::int as n from trips`)[0].n;
      // Small: the error arrives after the whole file was sent.
      let message = await failure(postgresqlCopyIn, { table: 'trips', format: 'CSV', header: true, columns: ['vendor', 'pickup', 'fare'], from: '' }, async (c) => {
        (c.ctx.props as { from: string }).from = await c.putStorageFile('bad.csv', 'vendor,pickup,fare\n1,2020-01-01 00:00:00,1\n2,2020-01-01 00:00:00,2,extra\n');
      });
      expect(message).toBe('ERROR: extra data after last expected column\n  Where: COPY trips, line 3: "2,2020-01-01 00:00:00,2,extra"');
      // Large: the error arrives while the file is still being sent.
      const good = Array.from({ length: 200_000 }, (_, i) => `1,2020-01-01 00:00:00,${i}`);
      good.splice(150, 0, '1,not a date,3');
      message = await failure(postgresqlCopyIn, { table: 'trips', format: 'CSV', header: true, columns: ['vendor', 'pickup', 'fare'], from: '' }, async (c) => {
        (c.ctx.props as { from: string }).from = await c.putStorageFile('big-bad.csv', `vendor,pickup,fare\n${good.join('\n')}\n`);
      });
      expect(message).toMatch(/^ERROR: invalid input syntax for type timestamp: "not a date"\n {2}Where: COPY trips, line 152, column pickup: "not a date"$/);
      expect((await admin`select count(*)::int as n from trips`)[0].n).toBe(before);
    });

    it('a from that is not a file of this execution is refused', async () => {
      expect(await failure(postgresqlCopyIn, { table: 'trips', from: 'kestra:///company/team/flow/executions/exec1/nope.csv' })).toMatch(/^from: cannot read 'kestra:\/\/\/company\/team\/flow\/executions\/exec1\/nope\.csv': /);
      expect(await failure(postgresqlCopyIn, { table: 'trips', from: '/etc/passwd' })).toMatch(/^from: cannot read '\/etc\/passwd': /);
    });
  });

  describe('CopyOut', () => {
    it('a query or a table to a file in internal storage → uri and rowCount', async () => {
      await admin`create table export_me (id int, name text)`;
      await admin`insert into export_me values (1, 'a'), (2, null)`;
      let { outputs, context } = await run(postgresqlCopyOut, { sql: 'SELECT id, name FROM export_me ORDER BY id', format: 'CSV', header: true });
      expect(outputs.rowCount).toBe(2);
      expect((await context.ctx.storage.read(outputs.uri as string)).toString()).toBe('id,name\n1,a\n2,\n');
      ({ outputs, context } = await run(postgresqlCopyOut, { table: 'export_me', columns: ['name'] }));
      expect(outputs.rowCount).toBe(2);
      expect((await context.ctx.storage.read(outputs.uri as string)).toString()).toBe('a\n\\N\n');
    });

    it('a large export arrives whole', async () => {
      const { outputs, context } = await run(postgresqlCopyOut, { sql: 'SELECT g, md5(g::text) FROM generate_series(1, 300000) g', format: 'CSV' });
      expect(outputs.rowCount).toBe(300000);
      const text = (await context.ctx.storage.read(outputs.uri as string)).toString();
      expect(text.split('\n')).toHaveLength(300001);
    });
  });

  async function runWithFile(plugin: TaskPlugin, props: Record<string, unknown>, name: string, content: string) {
    const context = await createTempDirTaskContext<Record<string, unknown>>({ url, username: 'postgres', ...props });
    contexts.push(context as TempDirTaskContext<unknown>);
    (context.ctx.props as { from: string }).from = await context.putStorageFile(name, content);
    const result = await plugin.run(context.ctx);
    return { outputs: (result ?? {}).outputs ?? {}, context };
  }
});

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in 10 s');
}
