import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { asc, eq, getTableName, is, sql } from 'drizzle-orm';
import { bigint, PgTable, pgSchema, serial, text } from 'drizzle-orm/pg-core';
import * as schema from './schema.ts';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createTestPostgresDatabase, describeEachDatabase, postgresService } from '../test/support/databases.ts';
import {
  DatabaseError,
  executions,
  flowRevisions,
  flows,
  kv,
  logs,
  openDatabase,
  taskRuns,
  toIsoTimestamp,
  triggers,
  type Database,
  type Db,
} from './index.ts';

// Catalog views, declared so the same query-builder code reads them on both drivers.
const informationSchemaTables = pgSchema('information_schema').table('tables', {
  tableSchema: text('table_schema'),
  tableName: text('table_name'),
});
const appliedMigrations = pgSchema('drizzle').table('__drizzle_migrations', {
  id: serial('id'),
  hash: text('hash'),
  createdAt: bigint('created_at', { mode: 'number' }),
});

const JOURNAL = JSON.parse(readFileSync(new URL('../migrations/meta/_journal.json', import.meta.url), 'utf8')) as {
  entries: unknown[];
};
// Every table the schema declares: the migrations must create exactly these.
const TABLES = Object.values(schema).filter((t) => is(t, PgTable)).map((t) => getTableName(t as PgTable)).sort();

async function publicTables(db: Db): Promise<string[]> {
  const rows = await db
    .select({ name: informationSchemaTables.tableName })
    .from(informationSchemaTables)
    .where(eq(informationSchemaTables.tableSchema, 'public'))
    .orderBy(asc(informationSchemaTables.tableName));
  return rows.map((r) => r.name ?? '');
}

async function migrationCount(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(appliedMigrations);
  return row.n;
}

/** A rich JSON document: nesting, arrays, unicode, numbers, booleans and nulls. */
const DOCUMENT = {
  id: 'hello',
  tasks: [{ id: 't1', type: 'io.kestra.plugin.core.log.Log', message: 'héllo ✓ "quoted"' }],
  nested: { depth: { n: 1.5, big: 2 ** 40, yes: true, none: null } },
  empty: [],
};

describeEachDatabase('database', (open) => {
  let database: Database;
  let db: Db;
  beforeAll(async () => {
    database = await open();
    db = database.db;
  });

  test('migrations create every table and are recorded once', async () => {
    expect(await publicTables(db)).toEqual(TABLES);
    expect(await migrationCount(db)).toBe(JOURNAL.entries.length);
  });

  test('flows and flow_revisions round-trip jsonb and timestamps', async () => {
    const updatedAt = '2024-05-01T12:34:56.789Z';
    await db.insert(flows).values({ namespace: 'company.team', id: 'hello', revision: 3, source: 'id: hello\n', definition: DOCUMENT, updatedAt });
    const commit = { sha: 'a'.repeat(40), author: 'Zoë', email: 'z@example.com', message: 'add flow', date: '2024-05-01T12:00:00Z' };
    await db.insert(flowRevisions).values({ namespace: 'company.team', flowId: 'hello', revision: 3, source: 'id: hello\n', definition: DOCUMENT, commit });

    const [flow] = await db.select().from(flows).where(eq(flows.id, 'hello'));
    expect(flow).toMatchObject({ namespace: 'company.team', revision: 3, definition: DOCUMENT, deleted: false, disabled: false });
    expect(toIsoTimestamp(flow.updatedAt)).toBe(updatedAt);

    const [revision] = await db.select().from(flowRevisions).where(eq(flowRevisions.flowId, 'hello'));
    expect(revision).toMatchObject({ revision: 3, definition: DOCUMENT, commit, deleted: false });
    // defaultNow() in the database, close to this process's clock
    expect(Math.abs(Date.parse(toIsoTimestamp(revision.createdAt)) - Date.now())).toBeLessThan(60_000);

    // Stored as a JSON object, not as a JSON string holding the document (a postgres-js pitfall).
    const [kind] = await db.select({ kind: sql<string>`jsonb_typeof(${flows.definition})`, id: sql<string>`${flows.definition}->>'id'` }).from(flows);
    expect(kind).toEqual({ kind: 'object', id: 'hello' });
  });

  test('executions and task_runs round-trip, with defaults and cascade delete', async () => {
    const state = { current: 'RUNNING', histories: [{ state: 'CREATED', date: '2024-05-01T10:00:00.000Z' }], startDate: '2024-05-01T10:00:00.000Z' };
    await db.insert(executions).values({
      id: 'exec1', namespace: 'company.team', flowId: 'hello', flowRevision: 3, state: 'RUNNING', stateDetail: state,
      startDate: '2024-05-01T10:00:00.000Z', labels: { team: 'data' }, trigger: null, commitSha: 'b'.repeat(40),
    });
    const [execution] = await db.select().from(executions).where(eq(executions.id, 'exec1'));
    expect(execution).toMatchObject({ stateDetail: state, inputs: {}, labels: { team: 'data' }, outputs: null, attemptNumber: 1, endDate: null });
    expect(toIsoTimestamp(execution.startDate)).toBe('2024-05-01T10:00:00.000Z');

    await db.insert(taskRuns).values([
      { id: 'tr1', executionId: 'exec1', taskId: 't1', state: 'SUCCESS', stateDetail: state, seq: 0, startDate: '2024-05-01T10:00:01.5Z', outputs: { value: [1, 2] } },
      { id: 'tr2', executionId: 'exec1', taskId: 't2', state: 'RUNNING', stateDetail: state, seq: 1, startDate: '2024-05-01T10:00:02Z', value: 'a', iteration: 0 },
    ]);
    const runs = await db.select().from(taskRuns).where(eq(taskRuns.executionId, 'exec1')).orderBy(asc(taskRuns.seq));
    expect(runs.map((r) => [r.id, r.attempts, r.outputs, r.value, r.iteration])).toEqual([
      ['tr1', [], { value: [1, 2] }, null, null],
      ['tr2', [], null, 'a', 0],
    ]);
    expect(toIsoTimestamp(runs[0].startDate)).toBe('2024-05-01T10:00:01.500Z');

    await expect(db.insert(taskRuns).values({ id: 'orphan', executionId: 'missing', taskId: 't', state: 'CREATED', stateDetail: {}, seq: 0, startDate: '2024-05-01T10:00:00Z' }))
      .rejects.toThrow();
    await db.delete(executions).where(eq(executions.id, 'exec1'));
    expect(await db.select().from(taskRuns).where(eq(taskRuns.executionId, 'exec1'))).toEqual([]);
  });

  test('logs get increasing numeric ids', async () => {
    const inserted = await db
      .insert(logs)
      .values([
        { executionId: 'exec2', taskId: 't1', level: 'INFO', message: 'first', timestamp: '2024-05-01T10:00:00.001Z' },
        { executionId: 'exec2', taskRunId: 'tr9', taskId: 't1', attemptNumber: 1, level: 'ERROR', message: 'second\nline', timestamp: '2024-05-01T10:00:00.002Z' },
      ])
      .returning();
    expect(typeof inserted[0].id).toBe('number');
    expect(inserted[1].id).toBeGreaterThan(inserted[0].id);
    const rows = await db.select().from(logs).where(eq(logs.executionId, 'exec2')).orderBy(asc(logs.id));
    expect(rows.map((r) => [r.level, r.message, r.attemptNumber, toIsoTimestamp(r.timestamp)])).toEqual([
      ['INFO', 'first', null, '2024-05-01T10:00:00.001Z'],
      ['ERROR', 'second\nline', 1, '2024-05-01T10:00:00.002Z'],
    ]);
  });

  test('kv and triggers round-trip', async () => {
    await db.insert(kv).values({ namespace: 'ns', key: 'k', type: 'JSON', value: DOCUMENT, expiresAt: '2030-01-01T00:00:00.000Z' });
    const [entry] = await db.select().from(kv);
    expect(entry).toMatchObject({ namespace: 'ns', key: 'k', type: 'JSON', value: DOCUMENT, description: null });
    expect(toIsoTimestamp(entry.expiresAt!)).toBe('2030-01-01T00:00:00.000Z');

    await db.insert(triggers).values({ namespace: 'ns', flowId: 'f', triggerId: 'daily', lastDate: '2024-05-01T00:00:00Z', backfill: { start: '2024-01-01', paused: false } });
    const [trigger] = await db.select().from(triggers);
    expect(trigger).toMatchObject({ triggerId: 'daily', nextDate: null, disabled: false, backfill: { start: '2024-01-01', paused: false } });
    expect(toIsoTimestamp(trigger.lastDate!)).toBe('2024-05-01T00:00:00.000Z');
  });

  test('timestamps read back in UTC whatever the offset written', async () => {
    await db.insert(triggers).values({ namespace: 'ns', flowId: 'f', triggerId: 'tz', lastDate: '2024-05-01T02:00:00+02:00' });
    const [trigger] = await db.select().from(triggers).where(eq(triggers.triggerId, 'tz'));
    expect(trigger.lastDate).toMatch(/\+00$/);
    expect(toIsoTimestamp(trigger.lastDate!)).toBe('2024-05-01T00:00:00.000Z');
  });

  test('close is idempotent', async () => {
    const other = await open();
    await other.close();
    await other.close();
  });
});

describe('openDatabase with PGlite', () => {
  let dir: string;
  const opened: Database[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-db-test-'));
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const track = (database: Database) => (opened.push(database), database);

  test('re-opening a data directory keeps its data', async () => {
    const dataDir = join(dir, 'reopen');
    const first = await openDatabase({ dataDir });
    expect(first.driver).toBe('pglite');
    await first.db.insert(kv).values({ namespace: 'ns', key: 'kept', type: 'STRING', value: 'still here' });
    await first.close();

    const second = track(await openDatabase({ dataDir }));
    expect(await second.db.select({ value: kv.value }).from(kv)).toEqual([{ value: 'still here' }]);
    expect(await migrationCount(second.db)).toBe(JOURNAL.entries.length);
  });

  test('a data directory open in this process cannot be opened again until closed', async () => {
    const dataDir = join(dir, 'locked');
    const first = await openDatabase({ dataDir });
    await expect(openDatabase({ dataDir })).rejects.toThrow(/already open in process \d+/);
    await first.close();
    track(await openDatabase({ dataDir }));
  });

  test('a lock left by a process that is gone is taken over', async () => {
    const dataDir = join(dir, 'stale');
    await (await openDatabase({ dataDir })).close();
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(join(dataDir, 'pglite.lock'), String(gone));
    const reopened = track(await openDatabase({ dataDir }));
    expect((await readFile(join(dataDir, 'pglite.lock'), 'utf8')).split('\n')[0]).toBe(String(process.pid));
    await reopened.close();
    await expect(readFile(join(dataDir, 'pglite.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('memory:// databases are independent', async () => {
    const a = track(await openDatabase({ dataDir: 'memory://' }));
    const b = track(await openDatabase({ url: 'memory://' }));
    await a.db.insert(kv).values({ namespace: 'ns', key: 'only-in-a', type: 'STRING', value: 'x' });
    expect(await b.db.select().from(kv)).toEqual([]);
  });

  test('BATON_DATA_DIR is the default location', async () => {
    const saved = { url: process.env.DATABASE_URL, dir: process.env.BATON_DATA_DIR };
    process.env.BATON_DATA_DIR = join(dir, 'from-env');
    delete process.env.DATABASE_URL;
    try {
      const database = track(await openDatabase());
      expect(database.driver).toBe('pglite');
      expect(readFileSync(join(dir, 'from-env', 'pglite', 'PG_VERSION'), 'utf8').trim()).toMatch(/^\d+$/);
    } finally {
      restoreEnv('DATABASE_URL', saved.url);
      restoreEnv('BATON_DATA_DIR', saved.dir);
    }
  });

  test('an unsupported URL scheme is refused without echoing credentials', async () => {
    const error = await openDatabase({ url: 'mysql://root:hunter2@db:3306/x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toMatch(/unsupported database URL 'mysql:\/\/db:3306\/x'/);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('openDatabase with an unreachable PostgreSQL', () => {
  test('fails with a DatabaseError naming host:port but not the password', async () => {
    const port = await unusedPort();
    const error = await openDatabase({ url: `postgres://baton:hunter2-secret@127.0.0.1:${port}/nowhere` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    const { message, cause } = error as DatabaseError;
    expect(message).toContain(`cannot connect to PostgreSQL at 127.0.0.1:${port}/nowhere`);
    expect(message).toContain('ECONNREFUSED');
    expect(cause).toBeInstanceOf(Error);
    expect(inspect(error, { depth: 10 })).not.toContain('hunter2');
  });
});

postgresService.describe('openDatabase with PostgreSQL', () => {
  test('concurrent opens of a new database migrate it exactly once', async () => {
    const target = await createTestPostgresDatabase();
    try {
      const databases = await Promise.all(Array.from({ length: 5 }, () => openDatabase({ url: target.url })));
      try {
        expect(databases.map((d) => d.driver)).toEqual(Array(5).fill('postgres'));
        expect(await migrationCount(databases[0].db)).toBe(JOURNAL.entries.length);
        expect(await publicTables(databases[4].db)).toEqual(TABLES);
      } finally {
        await Promise.all(databases.map((d) => d.close()));
      }
    } finally {
      await target.drop();
    }
  });

  test('DATABASE_URL selects PostgreSQL when no option is given', async () => {
    const target = await createTestPostgresDatabase();
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = target.url;
    try {
      const database = await openDatabase();
      expect(database.driver).toBe('postgres');
      expect(await publicTables(database.db)).toEqual(TABLES);
      await database.close();
    } finally {
      restoreEnv('DATABASE_URL', saved);
      await target.drop();
    }
  });

  test('a database that does not exist is a DatabaseError naming it', async () => {
    const target = await createTestPostgresDatabase();
    await target.drop();
    const error = await openDatabase({ url: target.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toMatch(new RegExp(`cannot connect to PostgreSQL at .+/${target.name}: .*does not exist`));
  });
});

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** A TCP port nothing listens on (bound, then released). */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
