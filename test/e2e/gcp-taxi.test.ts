/**
 * The course's Google Cloud flows (flows/04_gcp_kv, 05_gcp_setup, 06_gcp_taxi, 06_gcp_taxi_scheduled,
 * read as committed) run end to end through the engine against local FAKES of GCS, BigQuery and
 * Google's token endpoint (no Google Cloud is reachable here), with a synthetic TLC file over HTTP.
 *
 * How the unchanged flows are pointed at local services:
 * - the engine's environment sets BATON_GCP_STORAGE_ENDPOINT and BATON_GCP_BIGQUERY_ENDPOINT to the
 *   fake, and the secret GCP_SERVICE_ACCOUNT (SECRET_GCP_SERVICE_ACCOUNT) to a key made for this test
 *   whose token_uri is the fake's;
 * - the download base URL is the KV entry TAXI_BASE_URL, which the flow reads with the seed's GitHub
 *   URL as default.
 * The BigQuery fake runs no SQL: the test checks the uploaded bytes, the load job's configuration and
 * the queries issued, in order. A guard fails any connection this process opens to a non-loopback
 * address.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/index.ts';
import { createEngine, type Engine, type Execution, type LogEntry } from '../../engine/index.ts';
import { formatProblem, validateFlowSource } from '../../engine/flow/index.ts';
import type { FlowDef } from '../../engine/flow/types.ts';
import { renderTriggerInputs, triggerTemplateServices } from '../../engine/triggers/index.ts';
import { GcpFake } from '../support/gcp-fakes/gcp-fake.ts';
import { guardLoopback, type LoopbackGuard } from '../support/gcp-fakes/loopback-guard.ts';
import type { FakeServiceAccount } from '../support/gcp-fakes/service-account-fake.ts';
import { requireService } from '../support/services.ts';
import { startTaxiFileServer, taxiCsv, type TaxiFileServer, type TaxiMonth } from '../support/taxi-data.ts';

const FLOWS = join(import.meta.dirname, '..', '..', 'flows');
// The values 04_gcp_kv writes, as committed.
const PROJECT = 'your-project-id';
const BUCKET = 'your-unique-bucket-name';
const DATASET = 'ny_taxi';
const LOCATION = 'us-central1';

/** The flows' extract step downloads with wget, as the course does. */
const wgetService = requireService('wget', async () => {
  try {
    await promisify(execFile)('wget', ['--version']);
    return null;
  } catch (error) {
    return `wget is not installed: ${(error as Error).message}`;
  }
});

wgetService.describe('the GCP taxi flows end to end (GCS and BigQuery fakes)', () => {
  let guard: LoopbackGuard;
  let fake: GcpFake;
  let account: FakeServiceAccount;
  let files: TaxiFileServer;
  let baton: Database;
  let engine: Engine;
  let dataDir: string;
  const logs: LogEntry[] = [];

  beforeAll(async () => {
    guard = guardLoopback();
    fake = await GcpFake.start();
    account = fake.serviceAccount({ projectId: 'the-key-project' });
    files = await startTaxiFileServer();
    baton = await openDatabase({ dataDir: 'memory://' });
    dataDir = await mkdtemp(join(tmpdir(), 'baton-gcp-taxi-'));
    engine = createEngine({
      db: baton.db,
      dataDir,
      workRoot: join(dataDir, 'work'),
      env: { ...fake.env(), SECRET_GCP_SERVICE_ACCOUNT: Buffer.from(account.json).toString('base64') },
    });
    engine.onLog((l) => logs.push(l));
  });

  afterAll(async () => {
    await engine?.idle();
    await files?.close();
    await fake?.close();
    await baton?.close();
    guard?.restore();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function run(name: string, inputs: Record<string, unknown> = {}, trigger?: Record<string, unknown>) {
    const flow = await loadFlow(name);
    const from = logs.length;
    const execution = await engine.execute({ flow, inputs, trigger });
    await engine.idle();
    return { execution, logs: logs.slice(from) };
  }

  it('04_gcp_kv stores the settings the other flows read', async () => {
    const { execution } = await run('04_gcp_kv.yaml');
    expect(execution.state.current).toBe('SUCCESS');
    for (const [key, value] of [['GCP_PROJECT_ID', PROJECT], ['GCP_LOCATION', LOCATION], ['GCP_BUCKET_NAME', BUCKET], ['GCP_DATASET', DATASET]]) {
      expect((await engine.resources.kv.get('zoomcamp', key))?.value).toBe(value);
    }
    await engine.resources.kv.set('zoomcamp', 'TAXI_BASE_URL', files.url);
  });

  it('05_gcp_setup creates the bucket and the dataset, and skips both the second time', async () => {
    const first = await run('05_gcp_setup.yaml');
    expect(first.execution.state.current, failureOf(first.execution, first.logs)).toBe('SUCCESS');
    expect(outputsOf(first.execution, 'create_gcs_bucket')).toEqual({
      bucket: { name: BUCKET, uri: `gs://${BUCKET}`, location: 'US-CENTRAL1' }, created: true, updated: false,
    });
    expect(outputsOf(first.execution, 'create_bq_dataset')).toEqual({
      dataset: DATASET, project: PROJECT, friendlyName: null, description: null, location: LOCATION,
    });
    expect(fake.gcs.buckets.get(BUCKET)).toMatchObject({ storageClass: 'REGIONAL', location: 'US-CENTRAL1' });
    expect(fake.bigquery.datasets.get(`${PROJECT}:${DATASET}`)).toMatchObject({ location: LOCATION });

    const again = await run('05_gcp_setup.yaml');
    expect(again.execution.state.current, failureOf(again.execution, again.logs)).toBe('SUCCESS');
    expect(outputsOf(again.execution, 'create_gcs_bucket')).toMatchObject({ created: false, updated: false });
    expect(fake.gcs.buckets.get(BUCKET)!.patches).toEqual([]);
  });

  it('06_gcp_taxi extracts a yellow month, keeps it in GCS, loads it to staging, then runs the SQL in order', async () => {
    const month: TaxiMonth = { taxi: 'yellow', year: 2019, month: 1, rows: 700 };
    files.publish(month);
    const { execution, logs: runLogs } = await run('06_gcp_taxi.yaml', { taxi: 'yellow', year: 2019, month: 1 });
    expect(execution.state.current, failureOf(execution, runLogs)).toBe('SUCCESS');
    expect(files.requests).toContain('/yellow/yellow_tripdata_2019-01.csv.gz');
    expect(execution.taskRunList.some((t) => t.taskId.startsWith('green_'))).toBe(false);

    // The raw file, byte for byte, in the data lake.
    const csv = taxiCsv(month);
    const object = fake.gcs.object(BUCKET, 'raw/yellow/2019/yellow_tripdata_2019-01.csv')!;
    expect(object.data.toString()).toBe(csv);
    expect(outputsOf(execution, 'upload_to_gcs')).toEqual({ uri: `gs://${BUCKET}/raw/yellow/2019/yellow_tripdata_2019-01.csv` });

    // One load job, streamed from the extracted file, with the flow's CSV options.
    expect(fake.bigquery.loads).toHaveLength(1);
    const [load] = fake.bigquery.loads;
    expect(load.load).toEqual({
      destinationTable: { projectId: PROJECT, datasetId: DATASET, tableId: 'yellow_tripdata_staging' },
      sourceFormat: 'CSV', fieldDelimiter: ',', skipLeadingRows: 1, allowJaggedRows: true, writeDisposition: 'WRITE_TRUNCATE',
    });
    expect(load.data.toString()).toBe(csv);
    expect(outputsOf(execution, 'yellow_load_to_staging')).toEqual({
      jobId: `kestra_${taskRunIdOf(execution, 'yellow_load_to_staging')}`, destinationTable: `${PROJECT}.${DATASET}.yellow_tripdata_staging`, rows: 700,
    });

    // The queries, in the order of the seed's pattern: staging table, md5 id, main table, merge, truncate.
    expect(fake.bigquery.queries.map(firstLine)).toEqual([
      `CREATE TABLE IF NOT EXISTS ${DATASET}.yellow_tripdata_staging (`,
      `UPDATE ${DATASET}.yellow_tripdata_staging`,
      `CREATE TABLE IF NOT EXISTS ${DATASET}.yellow_tripdata (`,
      `MERGE ${DATASET}.yellow_tripdata AS main`,
      `TRUNCATE TABLE ${DATASET}.yellow_tripdata_staging;`,
    ]);
    const [createStaging, addId, , merge] = fake.bigquery.queries;
    expect(createStaging).toContain('tpep_pickup_datetime   TIMESTAMP');
    expect(createStaging.match(/^\s+\w+\s+(INT64|FLOAT64|STRING|TIMESTAMP),?$/gm)).toHaveLength(20);
    expect(addId).toContain("filename = 'yellow_tripdata_2019-01.csv'");
    expect(addId).toMatch(/id = TO_HEX\(MD5\(\s+COALESCE\(CAST\(VendorID AS STRING\), ''\) \|\|/);
    expect(merge).toContain('ON main.id = staging.id');
    expect(merge).toMatch(/WHEN NOT MATCHED THEN\s+INSERT \(/);

    // Every job in the project and location of the KV store, named after its task run.
    const jobs = fake.bigquery.jobList();
    expect(jobs).toHaveLength(6);
    expect(jobs.every((j) => j.projectId === PROJECT && j.location === LOCATION)).toBe(true);
    expect(jobs.map((j) => j.jobId)).toEqual([
      'yellow_create_staging_table', 'yellow_load_to_staging', 'yellow_add_filename_and_id', 'yellow_create_main_table', 'yellow_merge_to_main', 'truncate_staging',
    ].map((task) => `kestra_${taskRunIdOf(execution, task)}`));

    // The execution's files are purged at the end; the key never shows in a log line.
    expect(outputsOf(execution, 'purge_files')?.uris).toEqual(expect.arrayContaining([expect.stringContaining('yellow_tripdata_2019-01.csv')]));
    expect(logs.some((l) => l.message.includes('PRIVATE KEY'))).toBe(false);
  });

  it('a BigQuery error fails its task, with the task id on the log line and the API message', async () => {
    fake.bigquery.fail(/^\s*MERGE /, { reason: 'invalidQuery', message: 'Query error: Column id in USING clause not found', location: 'query' }, 1);
    files.publish({ taxi: 'yellow', year: 2019, month: 2, rows: 50 });
    const { execution, logs: runLogs } = await run('06_gcp_taxi.yaml', { taxi: 'yellow', year: 2019, month: 2 });
    expect(execution.state.current).toBe('FAILED');
    expect(stateOf(execution, 'yellow_merge_to_main')).toBe('FAILED');
    expect(execution.taskRunList.some((t) => t.taskId === 'truncate_staging')).toBe(false);
    const error = runLogs.find((l) => l.level === 'ERROR' && l.taskId === 'yellow_merge_to_main');
    expect(error?.message).toBe(
      `BigQuery job 'kestra_${taskRunIdOf(execution, 'yellow_merge_to_main')}' failed: Query error: Column id in USING clause not found (reason: invalidQuery, location: query)`,
    );
  });

  it('06_gcp_taxi_scheduled: the green trigger renders its month from the schedule date and loads it', async () => {
    const flow = await loadFlow('06_gcp_taxi_scheduled.yaml');
    expect(flow.concurrency).toEqual({ limit: 1 });
    expect(flow.triggers?.map((t) => [t.id, (t as { cron?: string }).cron])).toEqual([['yellow_schedule', '0 9 1 * *'], ['green_schedule', '0 10 1 * *']]);
    const trigger = flow.triggers!.find((t) => t.id === 'green_schedule')!;
    const date = '2020-03-01T10:00:00Z';
    const inputs = await renderTriggerInputs((trigger as { inputs?: unknown }).inputs, { flow: { id: flow.id, namespace: flow.namespace }, trigger: { date } }, triggerTemplateServices(engine.resources, 'zoomcamp'));
    expect(inputs).toEqual({ taxi: 'green', year: '2020', month: '03' });

    const month: TaxiMonth = { taxi: 'green', year: 2020, month: 3, rows: 120 };
    files.publish(month);
    const before = { loads: fake.bigquery.loads.length, queries: fake.bigquery.queries.length };
    const { execution, logs: runLogs } = await run('06_gcp_taxi_scheduled.yaml', inputs, { id: 'green_schedule', type: trigger.type, date });
    expect(execution.state.current, failureOf(execution, runLogs)).toBe('SUCCESS');
    expect(fake.gcs.object(BUCKET, 'raw/green/2020/green_tripdata_2020-03.csv')?.data.toString()).toBe(taxiCsv(month));
    expect(fake.bigquery.loads.slice(before.loads).map((l) => [(l.load.destinationTable as { tableId: string }).tableId, l.outputRows])).toEqual([['green_tripdata_staging', 120]]);
    const queries = fake.bigquery.queries.slice(before.queries);
    expect(queries.map(firstLine)).toEqual([
      `CREATE TABLE IF NOT EXISTS ${DATASET}.green_tripdata_staging (`,
      `UPDATE ${DATASET}.green_tripdata_staging`,
      `CREATE TABLE IF NOT EXISTS ${DATASET}.green_tripdata (`,
      `MERGE ${DATASET}.green_tripdata AS main`,
      `TRUNCATE TABLE ${DATASET}.green_tripdata_staging;`,
    ]);
    expect(queries[0].match(/^\s+\w+\s+(INT64|FLOAT64|STRING|TIMESTAMP),?$/gm)).toHaveLength(22);
    expect(queries[1]).toContain("filename = 'green_tripdata_2020-03.csv'");
    expect(queries[1]).toContain('COALESCE(CAST(lpep_pickup_datetime AS STRING)');
  });

  it('every request of every run reached the fakes on loopback, authorised by the test key', () => {
    const ports = new Set([new URL(fake.url).port, new URL(files.url).port]);
    expect(guard.refused).toEqual([]);
    expect(guard.connections.length).toBeGreaterThan(0);
    expect(guard.connections.every((c) => c.startsWith('127.0.0.1:') && ports.has(c.split(':')[1]))).toBe(true);
    expect(guard.lookups.filter((host) => host.includes('google'))).toEqual([]);
    // One token for the whole file (cached until it nears expiry), issued to the test key.
    expect(fake.oauth.issued.map((t) => [t.clientEmail, t.scope])).toEqual([[account.clientEmail, 'https://www.googleapis.com/auth/cloud-platform']]);
    const api = fake.requests.filter((r) => r.path !== '/token' && !(r.method === 'PUT' && r.query.includes('upload_id=')));
    expect(api.length).toBeGreaterThan(20);
    expect(api.every((r) => r.account === account.clientEmail)).toBe(true);
    // The only refusals are the ones the setup expects: no bucket yet, then a dataset that exists.
    expect(api.filter((r) => r.status >= 400).map((r) => `${r.status} ${r.method} ${r.path}`)).toEqual([
      `404 GET /storage/v1/b/${BUCKET}`,
      `409 POST /bigquery/v2/projects/${PROJECT}/datasets`,
    ]);
  });
});

async function loadFlow(name: string): Promise<FlowDef> {
  const file = join(FLOWS, name);
  const { flow, problems } = validateFlowSource(await readFile(file, 'utf8'), file);
  const errors = problems.filter((p) => p.severity === 'error');
  if (!flow || errors.length) throw new Error(`${name} is invalid:\n${errors.map(formatProblem).join('\n')}`);
  return flow;
}

function firstLine(sql: string): string {
  return sql.trim().split('\n')[0].trim();
}

function stateOf(execution: Execution, taskId: string) {
  return execution.taskRunList.find((t) => t.taskId === taskId)?.state.current;
}

function taskRunIdOf(execution: Execution, taskId: string): string {
  return execution.taskRunList.find((t) => t.taskId === taskId)!.id;
}

function outputsOf(execution: Execution, taskId: string) {
  return execution.taskRunList.find((t) => t.taskId === taskId)?.outputs as Record<string, unknown> | undefined;
}

/** What went wrong, for the assertion message: failed tasks and ERROR lines. */
function failureOf(execution: Execution, logs: LogEntry[]): string {
  const failed = execution.taskRunList.filter((t) => t.state.current === 'FAILED').map((t) => t.taskId);
  return `failed tasks: ${failed.join(', ') || 'none'}\n${logs.filter((l) => l.level === 'ERROR').map((l) => `${l.taskId}: ${l.message}`).join('\n')}`;
}
