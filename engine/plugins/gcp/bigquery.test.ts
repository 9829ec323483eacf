/**
 * BigQuery tasks on the official @google-cloud/bigquery client, against the local BigQuery FAKE (no
 * Google Cloud is reachable here). The fake runs no SQL: it records each job's configuration and
 * query, answers canned results the tests register, and keeps the bytes of load jobs.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirTaskContext, type TempDirTaskContext } from '../../scripts/temp-dir-task-context.ts';
import { TaskFailure, type TaskPlugin, type TaskResult } from '../types.ts';
import { GcpFake } from '../../../test/support/gcp-fakes/gcp-fake.ts';
import { guardLoopback, type LoopbackGuard } from '../../../test/support/gcp-fakes/loopback-guard.ts';
import type { FakeServiceAccount } from '../../../test/support/gcp-fakes/service-account-fake.ts';
import { bigqueryCreateDataset } from './bigquery-create-dataset.ts';
import { bigqueryLoad } from './bigquery-load.ts';
import { bigqueryQuery } from './bigquery-query.ts';

let fake: GcpFake;
let guard: LoopbackGuard;
let account: FakeServiceAccount;
const project = 'bq-fake-project';

beforeAll(async () => {
  guard = guardLoopback();
  fake = await GcpFake.start();
  account = fake.serviceAccount({ projectId: project });
});
afterAll(async () => {
  await fake.close();
  guard.restore();
});
beforeEach(() => {
  fake.bigquery.pollsBeforeDone = 1;
  fake.bigquery.pageSize = 10_000;
});

const open: Array<TempDirTaskContext<unknown>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.cleanup()));
});

async function context(props: Record<string, unknown>, taskId = 'task'): Promise<TempDirTaskContext<unknown>> {
  const t = await createTempDirTaskContext<unknown>({ serviceAccount: account.json, projectId: project, ...props }, { taskId });
  t.ctx.env = fake.env();
  open.push(t);
  return t;
}

async function run(plugin: TaskPlugin, props: Record<string, unknown>): Promise<Record<string, unknown>> {
  const t = await context(props);
  const result = (await plugin.run(t.ctx as never)) as TaskResult;
  return result.outputs ?? {};
}

async function failure(plugin: TaskPlugin, props: Record<string, unknown>): Promise<TaskFailure> {
  const t = await context(props);
  const error = await plugin.run(t.ctx as never).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TaskFailure);
  return error as TaskFailure;
}

function lastJob() {
  return fake.bigquery.jobList().at(-1)!;
}

describe('bigquery.CreateDataset (fake BigQuery)', () => {
  it('creates the dataset in the location and outputs it', async () => {
    expect(await run(bigqueryCreateDataset, { name: 'zoomcamp', location: 'us-central1', description: 'taxi data' })).toEqual({
      dataset: 'zoomcamp', project, friendlyName: null, description: 'taxi data', location: 'us-central1',
    });
    expect(fake.bigquery.datasets.get(`${project}:zoomcamp`)).toMatchObject({ location: 'us-central1', description: 'taxi data' });
  });

  it('ifExists: ERROR fails with Google\'s message, SKIP returns it unchanged, UPDATE applies the settings', async () => {
    fake.bigquery.putDataset(project, 'existing', 'EU');
    expect((await failure(bigqueryCreateDataset, { name: 'existing' })).message)
      .toBe(`Creating dataset '${project}:existing' failed: Already Exists: Dataset ${project}:existing (HTTP 409, duplicate)`);
    expect(await run(bigqueryCreateDataset, { name: 'existing', ifExists: 'SKIP', location: 'us-central1', description: 'ignored' }))
      .toMatchObject({ dataset: 'existing', location: 'EU', description: null });
    expect(await run(bigqueryCreateDataset, { name: 'existing', ifExists: 'UPDATE', location: 'EU', friendlyName: 'Existing' }))
      .toMatchObject({ dataset: 'existing', location: 'EU', friendlyName: 'Existing' });
    expect(fake.bigquery.datasets.get(`${project}:existing`)).toMatchObject({ friendlyName: 'Existing' });
  });

  it('refuses a dataset name BigQuery refuses, and a missing project', async () => {
    expect((await failure(bigqueryCreateDataset, { name: 'bad-name' })).message).toMatch(/^Creating dataset 'bq-fake-project:bad-name' failed: Invalid dataset ID "bad-name".*\(HTTP 400, invalid\)$/);
    expect((await failure(bigqueryCreateDataset, { name: 'x', projectId: undefined, serviceAccount: undefined })).message)
      .toBe('projectId is required: set projectId, or use a service account key that names its project_id');
  });
});

describe('bigquery.Query (fake BigQuery)', () => {
  it('runs DDL as a query job named after the task run, waits for it, and outputs its jobId', async () => {
    const sql = 'CREATE TABLE IF NOT EXISTS `p.d.t` (id STRING);';
    expect(await run(bigqueryQuery, { sql, location: 'us-central1' })).toEqual({ jobId: 'kestra_taskrun1' });
    const job = lastJob();
    expect(job.location).toBe('us-central1');
    expect(job.configuration).toEqual({ query: { query: sql, useLegacySql: false, priority: 'INTERACTIVE', flattenResults: true }, dryRun: false });
    expect(fake.bigquery.queries.at(-1)).toBe(sql);
    // It polled the job until DONE.
    expect(fake.requests.filter((r) => r.method === 'GET' && r.path === `/bigquery/v2/projects/${project}/jobs/kestra_taskrun1`).length).toBeGreaterThanOrEqual(2);
    fake.bigquery.jobs.clear();
  });

  it('fetches every page and converts cells as Kestra does', async () => {
    fake.bigquery.pageSize = 2;
    fake.bigquery.answer('FROM typed', {
      schema: [
        { name: 'id', type: 'INTEGER' },
        { name: 'name', type: 'STRING' },
        { name: 'ok', type: 'BOOLEAN' },
        { name: 'amount', type: 'NUMERIC' },
        { name: 'ratio', type: 'FLOAT' },
        { name: 'at', type: 'TIMESTAMP' },
        { name: 'day', type: 'DATE' },
        { name: 'local', type: 'DATETIME' },
        { name: 'tags', type: 'STRING', mode: 'REPEATED' },
        { name: 'point', type: 'RECORD', fields: [{ name: 'x', type: 'INTEGER' }, { name: 'y', type: 'INTEGER' }] },
      ],
      rows: [
        { id: 1, name: 'a', ok: true, amount: '10.5', ratio: 0.25, at: '2019-01-01T00:37:42.123456Z', day: '2019-01-01', local: '2019-01-01T00:37:42', tags: ['x', 'y'], point: { x: 1, y: 2 } },
        { id: 2, name: null, ok: false, amount: '0', ratio: 1, at: '2019-01-02T10:00:00Z', day: '2019-01-02', local: '2019-01-02T10:00:00.5', tags: [], point: null },
        { id: 3, name: 'c', ok: true, amount: '1', ratio: 2, at: '2019-01-03T10:00:00.120Z', day: '2019-01-03', local: '2019-01-03T00:00:00', tags: ['z'], point: { x: 0, y: 0 } },
      ],
    });
    const outputs = await run(bigqueryQuery, { sql: 'SELECT * FROM typed', fetchType: 'FETCH' });
    expect(outputs.size).toBe(3);
    expect(outputs.rows).toEqual([
      { id: 1, name: 'a', ok: true, amount: 10.5, ratio: 0.25, at: '2019-01-01T00:37:42.123456Z', day: '2019-01-01', local: '2019-01-01T00:37:42Z', tags: ['x', 'y'], point: { x: 1, y: 2 } },
      { id: 2, name: null, ok: false, amount: 0, ratio: 1, at: '2019-01-02T10:00:00Z', day: '2019-01-02', local: '2019-01-02T10:00:00.5Z', tags: [], point: null },
      { id: 3, name: 'c', ok: true, amount: 1, ratio: 2, at: '2019-01-03T10:00:00.120Z', day: '2019-01-03', local: '2019-01-03T00:00:00Z', tags: ['z'], point: { x: 0, y: 0 } },
    ]);
    expect(outputs.destinationTable).toEqual({ project, dataset: '_fake_anonymous', table: 'anon_kestra_taskrun1' });
    const pages = fake.requests.filter((r) => r.path === `/bigquery/v2/projects/${project}/queries/kestra_taskrun1` && r.query.includes('pageToken'));
    expect(pages.length).toBe(1);
    fake.bigquery.jobs.clear();
  });

  it('fetchOne outputs the first row, store a file of JSON lines, the old booleans still work', async () => {
    fake.bigquery.answer('FROM people', { schema: [{ name: 'id', type: 'INT64' }, { name: 'name', type: 'STRING' }], rows: [{ id: 1, name: 'John' }, { id: 2, name: 'Doe' }] });
    expect(await run(bigqueryQuery, { sql: 'SELECT * FROM people', fetchOne: true })).toMatchObject({ row: { id: 1, name: 'John' }, size: 1 });
    fake.bigquery.jobs.clear();
    const t = await context({ sql: 'SELECT * FROM people', fetchType: 'STORE' });
    const outputs = ((await bigqueryQuery.run(t.ctx as never)) as TaskResult).outputs!;
    expect(outputs.size).toBe(2);
    expect((await t.ctx.storage.read(outputs.uri as string)).toString()).toBe('{"id":1,"name":"John"}\n{"id":2,"name":"Doe"}\n');
    fake.bigquery.jobs.clear();
  });

  it('passes destinationTable and dispositions, legacy SQL and labels into the job', async () => {
    const outputs = await run(bigqueryQuery, {
      sql: 'SELECT 1', destinationTable: 'ds.results', writeDisposition: 'WRITE_APPEND', createDisposition: 'CREATE_IF_NEEDED',
      legacySql: true, labels: { team: 'data' }, priority: 'BATCH',
    });
    expect(outputs.destinationTable).toEqual({ project, dataset: 'ds', table: 'results' });
    expect(lastJob().configuration.query).toMatchObject({
      destinationTable: { projectId: project, datasetId: 'ds', tableId: 'results' }, writeDisposition: 'WRITE_APPEND',
      createDisposition: 'CREATE_IF_NEEDED', useLegacySql: true, labels: { team: 'data' }, priority: 'BATCH',
    });
    fake.bigquery.jobs.clear();
  });

  it("shows BigQuery's error for a failed job", async () => {
    fake.bigquery.fail('SELEC oops', { reason: 'invalidQuery', message: 'Syntax error: Unexpected identifier "SELEC" at [1:1]', location: 'query' });
    expect((await failure(bigqueryQuery, { sql: 'SELEC oops' })).message)
      .toBe('BigQuery job \'kestra_taskrun1\' failed: Syntax error: Unexpected identifier "SELEC" at [1:1] (reason: invalidQuery, location: query)');
    fake.bigquery.jobs.clear();
  });

  it('retries a transient failure under a new job id (retryAuto)', async () => {
    fake.bigquery.fail('UPDATE busy', { reason: 'jobBackendError', message: 'Transaction is aborted due to concurrent update' }, 1);
    const t = await context({ sql: 'UPDATE busy SET a = 1 WHERE TRUE', retryAuto: { type: 'constant', interval: 'PT0.05S', maxAttempt: 3 } });
    const outputs = ((await bigqueryQuery.run(t.ctx as never)) as TaskResult).outputs!;
    expect(outputs.jobId).toBe('kestra_taskrun1_retry1');
    expect(fake.bigquery.jobList().map((j) => j.jobId)).toEqual(['kestra_taskrun1', 'kestra_taskrun1_retry1']);
    expect(t.logs.some((l) => l.level === 'WARN' && l.message.includes('concurrent update') && l.message.includes('retry 1'))).toBe(true);
    fake.bigquery.jobs.clear();
  });

  it('a kill while the job runs cancels it in BigQuery', async () => {
    fake.bigquery.pollsBeforeDone = 1_000;
    const t = await context({ sql: 'SELECT slow' });
    const running = bigqueryQuery.run(t.ctx as never);
    while (!fake.bigquery.jobs.size) await new Promise((r) => setTimeout(r, 10));
    t.abort(new Error('killed'));
    await expect(running).rejects.toThrow('killed');
    expect(lastJob().cancelled).toBe(true);
    fake.bigquery.jobs.clear();
  });
});

describe('bigquery.Load (fake BigQuery)', () => {
  it('streams the file into a load job with the CSV options and dispositions, and outputs rows', async () => {
    fake.bigquery.putDataset(project, 'ny_taxi');
    const t = await context({});
    const from = await t.putStorageFile('yellow.csv', 'VendorID,total_amount\n1,10.5\n2,7\n');
    Object.assign(t.ctx.props as object, {
      from, destinationTable: `${project}.ny_taxi.yellow_tripdata_staging`, format: 'CSV',
      csvOptions: { fieldDelimiter: ',', skipLeadingRows: 1, allowJaggedRows: true, quote: '"' },
      writeDisposition: 'WRITE_TRUNCATE', createDisposition: 'CREATE_IF_NEEDED', location: 'us-central1',
    });
    const outputs = ((await bigqueryLoad.run(t.ctx as never)) as TaskResult).outputs!;
    expect(outputs).toEqual({ jobId: 'kestra_taskrun1', destinationTable: `${project}.ny_taxi.yellow_tripdata_staging`, rows: 2 });
    const load = fake.bigquery.loads.at(-1)!;
    expect(load.load).toEqual({
      destinationTable: { projectId: project, datasetId: 'ny_taxi', tableId: 'yellow_tripdata_staging' },
      sourceFormat: 'CSV', fieldDelimiter: ',', skipLeadingRows: 1, allowJaggedRows: true, quote: '"',
      writeDisposition: 'WRITE_TRUNCATE', createDisposition: 'CREATE_IF_NEEDED',
    });
    expect(load.data.toString()).toBe('VendorID,total_amount\n1,10.5\n2,7\n');
    expect(lastJob().location).toBe('us-central1');
    fake.bigquery.jobs.clear();
  });

  it('JSON lines with a schema and autodetect; a table in the task project when the project is left out', async () => {
    fake.bigquery.putDataset(project, 'events');
    const t = await context({});
    const from = await t.putStorageFile('e.json', '{"a":1}\n{"a":2}\n{"a":3}\n');
    Object.assign(t.ctx.props as object, {
      from, destinationTable: 'events.raw', format: 'JSON', autodetect: false, ignoreUnknownValues: true,
      schema: { fields: [{ name: 'a', type: 'INTEGER', mode: 'NULLABLE' }] },
    });
    expect(((await bigqueryLoad.run(t.ctx as never)) as TaskResult).outputs).toMatchObject({ destinationTable: `${project}.events.raw`, rows: 3 });
    expect(fake.bigquery.loads.at(-1)!.load).toMatchObject({
      sourceFormat: 'NEWLINE_DELIMITED_JSON', autodetect: false, ignoreUnknownValues: true, schema: { fields: [{ name: 'a', type: 'INTEGER', mode: 'NULLABLE' }] },
    });
    fake.bigquery.jobs.clear();
  });

  it('loads into a table of another project with the job in the task project, as Kestra does', async () => {
    fake.bigquery.putDataset('shared-warehouse', 'lake');
    const t = await context({});
    const from = await t.putStorageFile('x.csv', 'a\n1\n');
    Object.assign(t.ctx.props as object, { from, destinationTable: 'shared-warehouse.lake.x', format: 'CSV' });
    expect(((await bigqueryLoad.run(t.ctx as never)) as TaskResult).outputs).toMatchObject({ destinationTable: 'shared-warehouse.lake.x', rows: 2 });
    expect(lastJob().projectId).toBe(project);
    expect(fake.bigquery.loads.at(-1)!.load.destinationTable).toEqual({ projectId: 'shared-warehouse', datasetId: 'lake', tableId: 'x' });
    fake.bigquery.jobs.clear();
  });

  it('fails on a missing dataset, an empty file and a bad table name, saying which', async () => {
    const t = await context({});
    const from = await t.putStorageFile('x.csv', 'a\n1\n');
    Object.assign(t.ctx.props as object, { from, destinationTable: 'missing.t', format: 'CSV' });
    const missing = await bigqueryLoad.run(t.ctx as never).then(() => undefined, (e: Error) => e);
    expect(missing?.message).toBe(`BigQuery job 'kestra_taskrun1' failed: Not found: Dataset ${project}:missing (reason: notFound)`);
    fake.bigquery.jobs.clear();

    const empty = await t.putStorageFile('empty.csv', '');
    Object.assign(t.ctx.props as object, { from: empty, destinationTable: 'ny_taxi.t' });
    expect((await bigqueryLoad.run(t.ctx as never).then(() => undefined, (e: Error) => e))?.message).toBe("Can't load an empty file and this one don't contain any data");
    Object.assign(t.ctx.props as object, { failedOnEmpty: false });
    expect(((await bigqueryLoad.run(t.ctx as never)) as TaskResult).outputs).toEqual({ rows: 0 });

    Object.assign(t.ctx.props as object, { from, destinationTable: 'onlyone' });
    expect((await bigqueryLoad.run(t.ctx as never).then(() => undefined, (e: Error) => e))?.message)
      .toBe("destinationTable: invalid table name 'onlyone', expected project.dataset.table or dataset.table");
    expect(fake.bigquery.jobs.size).toBe(0);
  });

  it('every request stayed on loopback and carried the fake-issued token', () => {
    expect(guard.refused).toEqual([]);
    expect(guard.connections.every((c) => c === `127.0.0.1:${new URL(fake.url).port}`)).toBe(true);
    const api = fake.requests.filter((r) => r.path !== '/token');
    expect(api.every((r) => r.account === account.clientEmail)).toBe(true);
    expect(fake.requests.filter((r) => r.path === '/token')).toHaveLength(1);
  });
});
