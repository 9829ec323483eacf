/**
 * The seed's PostgreSQL taxi pipelines (flows/02_postgres_taxi*.yaml, read byte for byte as committed)
 * run end to end through the engine against the real local PostgreSQL, with synthetic TLC files
 * served over HTTP on 127.0.0.1.
 *
 * How the unchanged flows are pointed at local services:
 * - the download base URL is the KV entry TAXI_BASE_URL of namespace `zoomcamp`, which the flows
 *   read with the seed's GitHub URL as default: the test sets it to the local file server;
 * - the flows' pluginDefaults name `jdbc:postgresql://postgres_zoomcamp:5432/ny_taxi` (root/root):
 *   the engine gets an instance-level plugin default (Kestra's `kestra.plugins.defaults`) with
 *   `forced: true` for `io.kestra.plugin.jdbc.postgresql`, naming a throwaway database. Forced
 *   instance defaults override a flow's own, exactly as in Kestra.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/index.ts';
import { createEngine, type Engine, type Execution, type LogEntry } from '../../engine/index.ts';
import { formatProblem, validateFlowSource } from '../../engine/flow/index.ts';
import type { FlowDef } from '../../engine/flow/types.ts';
import { createTestPostgresDatabase, postgresService, type TestPostgresDatabase } from '../support/databases.ts';
import { startTaxiFileServer, taxiFileName, wgetService, type TaxiFileServer, type TaxiMonth } from '../support/taxi-data.ts';

const FLOWS = join(import.meta.dirname, '..', '..', 'flows');

postgresService.describe('02_postgres_taxi flows end to end on PostgreSQL', () => wgetService.describe('downloading with wget', () => {
  let taxiDb: TestPostgresDatabase;
  let sql: postgres.Sql;
  let files: TaxiFileServer;
  let baton: Database;
  let engine: Engine;
  let dataDir: string;
  let taxiFlow: FlowDef;
  let scheduledFlow: FlowDef;

  beforeAll(async () => {
    taxiDb = await createTestPostgresDatabase();
    sql = postgres(taxiDb.url, { max: 1, onnotice: () => {} });
    files = await startTaxiFileServer();
    baton = await openDatabase({ dataDir: 'memory://' });
    dataDir = await mkdtemp(join(tmpdir(), 'baton-taxi-'));
    const db = new URL(taxiDb.url);
    engine = createEngine({
      db: baton.db,
      dataDir,
      env: {},
      workRoot: join(dataDir, 'work'),
      pluginDefaults: [{
        type: 'io.kestra.plugin.jdbc.postgresql',
        forced: true,
        values: { url: `jdbc:postgresql://${db.hostname}:${db.port || 5432}${db.pathname}`, username: 'postgres', password: '' },
      }],
    });
    await engine.resources.kv.set('zoomcamp', 'TAXI_BASE_URL', files.url);
    taxiFlow = await loadFlow('02_postgres_taxi.yaml');
    scheduledFlow = await loadFlow('02_postgres_taxi_scheduled.yaml');
  });

  afterAll(async () => {
    await engine?.idle();
    await sql?.end({ timeout: 5 });
    await files?.close();
    await baton?.close();
    await taxiDb?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function run(flow: FlowDef, inputs: Record<string, unknown>, trigger?: Record<string, unknown>) {
    const logs: LogEntry[] = [];
    const stop = engine.onLog((l) => logs.push(l));
    try {
      const execution = await engine.execute({ flow, inputs, trigger });
      await engine.idle();
      return { execution, logs };
    } finally {
      stop();
    }
  }

  const count = async (table: string) => (await sql.unsafe(`select count(*)::int as n from ${table}`))[0].n as number;

  it('loads a yellow month: every row of the file, each with its file name and a distinct md5 id', async () => {
    const month: TaxiMonth = { taxi: 'yellow', year: 2019, month: 1, rows: 3000 };
    files.publish(month);
    const { execution, logs } = await run(taxiFlow, { taxi: 'yellow', year: 2019, month: 1 });
    expect(execution.state.current, failureOf(execution, logs)).toBe('SUCCESS');
    expect(files.requests).toContain('/yellow/yellow_tripdata_2019-01.csv.gz');
    expect(taskOutputs(execution, 'yellow_load_to_staging')).toEqual({ rowCount: 3000 });
    expect(stateOf(execution, 'if_green_taxi')).toBe('SUCCESS');
    expect(execution.taskRunList.some((t) => t.taskId.startsWith('green_'))).toBe(false);

    expect(await count('public.yellow_tripdata')).toBe(3000);
    expect(await sql`select count(distinct unique_row_id)::int as ids, count(*) filter (where filename = 'yellow_tripdata_2019-01.csv')::int as named from public.yellow_tripdata`).toEqual([{ ids: 3000, named: 3000 }]);
    // The staging table is emptied at the end; the execution's files are purged.
    expect(await count('public.yellow_tripdata_staging')).toBe(0);
    expect(taskOutputs(execution, 'purge_files')?.uris).toEqual(expect.arrayContaining([expect.stringContaining(taxiFileName('yellow', 2019, 1))]));
    // Values land typed: a timestamp, a NULL surcharge on every fifth row (empty in the CSV).
    expect(await sql`select min(tpep_pickup_datetime)::text as first, count(*) filter (where congestion_surcharge is null)::int as nulls from public.yellow_tripdata`).toEqual([{ first: '2019-01-01 00:00:00', nulls: 600 }]);
  });

  it('running the same month again keeps every row exactly once', async () => {
    const { execution, logs } = await run(taxiFlow, { taxi: 'yellow', year: 2019, month: 1 });
    expect(execution.state.current, failureOf(execution, logs)).toBe('SUCCESS');
    expect(await count('public.yellow_tripdata')).toBe(3000);
    expect(await sql`select count(*)::int as dupes from (select unique_row_id from public.yellow_tripdata group by 1 having count(*) > 1) d`).toEqual([{ dupes: 0 }]);
  });

  it('a second month adds its rows', async () => {
    files.publish({ taxi: 'yellow', year: 2019, month: 2, rows: 1200 });
    const { execution, logs } = await run(taxiFlow, { taxi: 'yellow', year: 2019, month: 2 });
    expect(execution.state.current, failureOf(execution, logs)).toBe('SUCCESS');
    expect(await count('public.yellow_tripdata')).toBe(4200);
    expect(await sql`select filename, count(*)::int as n from public.yellow_tripdata group by 1 order by 1`).toEqual([
      { filename: 'yellow_tripdata_2019-01.csv', n: 3000 },
      { filename: 'yellow_tripdata_2019-02.csv', n: 1200 },
    ]);
  });

  it('loads a green month (20 columns) into its own table, twice without duplicates', async () => {
    files.publish({ taxi: 'green', year: 2019, month: 1, rows: 2500 });
    for (let attempt = 0; attempt < 2; attempt++) {
      const { execution, logs } = await run(taxiFlow, { taxi: 'green', year: 2019, month: 1 });
      expect(execution.state.current, failureOf(execution, logs)).toBe('SUCCESS');
      expect(execution.taskRunList.some((t) => t.taskId.startsWith('yellow_'))).toBe(false);
    }
    expect(await count('public.green_tripdata')).toBe(2500);
    expect(await sql`select count(distinct unique_row_id)::int as ids, count(ehail_fee)::int as fees, count(trip_type)::int as typed from public.green_tripdata`).toEqual([{ ids: 2500, fees: 0, typed: 2500 }]);
    expect(await count('public.yellow_tripdata')).toBe(4200);
  });

  it('a malformed file fails the load with its line number and leaves the main table untouched', async () => {
    files.publish({ taxi: 'yellow', year: 2019, month: 3, rows: 2000, extraColumnAtLine: 1235 });
    const { execution, logs } = await run(taxiFlow, { taxi: 'yellow', year: 2019, month: 3 });
    expect(execution.state.current).toBe('FAILED');
    expect(stateOf(execution, 'extract')).toBe('SUCCESS');
    expect(stateOf(execution, 'yellow_load_to_staging')).toBe('FAILED');
    expect(execution.taskRunList.some((t) => t.taskId === 'yellow_merge_to_main')).toBe(false);
    const error = logs.filter((l) => l.taskId === 'yellow_load_to_staging' && l.level === 'ERROR').map((l) => l.message).join('\n');
    expect(error).toContain('ERROR: extra data after last expected column');
    expect(error).toContain('Where: COPY yellow_tripdata_staging, line 1235: "');
    expect(await count('public.yellow_tripdata')).toBe(4200);
    expect(await count('public.yellow_tripdata_staging')).toBe(0);
  });

  it('the scheduled flow loads the month of its schedule date (yellow at 9:00, green at 10:00)', async () => {
    expect(scheduledFlow.concurrency).toEqual({ limit: 1 });
    expect(scheduledFlow.triggers?.map((t) => [t.id, (t as { cron?: string }).cron, (t as { inputs?: unknown }).inputs])).toEqual([
      ['yellow_schedule', '0 9 1 * *', { taxi: 'yellow' }],
      ['green_schedule', '0 10 1 * *', { taxi: 'green' }],
    ]);
    files.publish({ taxi: 'yellow', year: 2019, month: 4, rows: 800 });
    files.publish({ taxi: 'green', year: 2019, month: 4, rows: 600 });
    const scheduleTrigger = 'io.kestra.plugin.core.trigger.Schedule';
    const yellow = await run(scheduledFlow, { taxi: 'yellow' }, { id: 'yellow_schedule', type: scheduleTrigger, date: '2019-04-01T09:00:00Z' });
    expect(yellow.execution.state.current, failureOf(yellow.execution, yellow.logs)).toBe('SUCCESS');
    const green = await run(scheduledFlow, { taxi: 'green' }, { id: 'green_schedule', type: scheduleTrigger, date: '2019-04-01T10:00:00Z' });
    expect(green.execution.state.current, failureOf(green.execution, green.logs)).toBe('SUCCESS');
    expect(await sql`select count(*)::int as n from public.yellow_tripdata where filename = 'yellow_tripdata_2019-04.csv'`).toEqual([{ n: 800 }]);
    expect(await sql`select count(*)::int as n from public.green_tripdata where filename = 'green_tripdata_2019-04.csv'`).toEqual([{ n: 600 }]);
  });

  async function loadFlow(name: string): Promise<FlowDef> {
    const file = join(FLOWS, name);
    const { flow, problems } = validateFlowSource(await readFile(file, 'utf8'), file);
    const errors = problems.filter((p) => p.severity === 'error');
    if (!flow || errors.length) throw new Error(`${name} is invalid:\n${errors.map(formatProblem).join('\n')}`);
    return flow;
  }
}));

function stateOf(execution: Execution, taskId: string) {
  return execution.taskRunList.find((t) => t.taskId === taskId)?.state.current;
}

function taskOutputs(execution: Execution, taskId: string) {
  return execution.taskRunList.find((t) => t.taskId === taskId)?.outputs as Record<string, unknown> | undefined;
}

/** What went wrong, for the assertion message: failed tasks and ERROR lines. */
function failureOf(execution: Execution, logs: LogEntry[]): string {
  const failed = execution.taskRunList.filter((t) => t.state.current === 'FAILED').map((t) => t.taskId);
  return `failed tasks: ${failed.join(', ') || 'none'}\n${logs.filter((l) => l.level === 'ERROR').map((l) => `${l.taskId}: ${l.message}`).join('\n')}`;
}
