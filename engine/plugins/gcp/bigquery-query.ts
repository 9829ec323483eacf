import { Enum, Type, type Static } from '../../contract/index.ts';
import type { Job } from '@google-cloud/bigquery';
import { parseIsoDuration } from '../../duration.ts';
import { FETCH_TYPES, fetchTypeOf, storeRows, type FetchType } from '../jdbc/fetch.ts';
import { defineTask } from '../types.ts';
import {
  BIGQUERY_PROPERTIES, createJob, jobIdOf, parseTableId, waitForJob, withAutoRetry, type BigQueryRetryProps,
} from './bigquery-jobs.ts';
import { apiFailure, bigQueryClient, GCP_PROPERTIES, type GcpProps } from './clients.ts';

export const WRITE_DISPOSITIONS = ['WRITE_TRUNCATE', 'WRITE_APPEND', 'WRITE_EMPTY'];
export const CREATE_DISPOSITIONS = ['CREATE_IF_NEEDED', 'CREATE_NEVER'];
export const SCHEMA_UPDATE_OPTIONS = ['ALLOW_FIELD_ADDITION', 'ALLOW_FIELD_RELAXATION'];
export const TIME_PARTITIONING_TYPES = ['DAY', 'HOUR', 'MONTH', 'YEAR'];

const QueryProperties = Type.Object({
  ...GCP_PROPERTIES,
  ...BIGQUERY_PROPERTIES,
  sql: Type.String(),
  legacySql: Type.Optional(Type.Boolean()),
  useLegacySql: Type.Optional(Type.Boolean()),
  fetchType: Type.Optional(Enum(['NONE', 'FETCH', 'FETCH_ONE', 'STORE'])),
  fetch: Type.Optional(Type.Boolean()),
  fetchOne: Type.Optional(Type.Boolean()),
  store: Type.Optional(Type.Boolean()),
  destinationTable: Type.Optional(Type.String()),
  writeDisposition: Type.Optional(Enum(['WRITE_TRUNCATE', 'WRITE_APPEND', 'WRITE_EMPTY'])),
  createDisposition: Type.Optional(Enum(['CREATE_IF_NEEDED', 'CREATE_NEVER'])),
  clusteringFields: Type.Optional(Type.Array(Type.String())),
  schemaUpdateOptions: Type.Optional(Type.Array(Enum(['ALLOW_FIELD_ADDITION', 'ALLOW_FIELD_RELAXATION']))),
  timePartitioningField: Type.Optional(Type.String()),
  timePartitioningType: Type.Optional(Enum(['DAY', 'HOUR', 'MONTH', 'YEAR'])),
  rangePartitioningField: Type.Optional(Type.String()),
  rangePartitioningStart: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  rangePartitioningEnd: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  rangePartitioningInterval: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  jobTimeout: Type.Optional(Type.String()),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  defaultDataset: Type.Optional(Type.String()),
  priority: Type.Optional(Enum(['INTERACTIVE', 'BATCH'])),
  allowLargeResults: Type.Optional(Type.Boolean()),
  useQueryCache: Type.Optional(Type.Boolean()),
  flattenResults: Type.Optional(Type.Boolean()),
  maximumBillingTier: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  maximumBytesBilled: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  maxResults: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  dryRun: Type.Optional(Type.Boolean()),
});
type QueryProps = Static<typeof QueryProperties>;

/**
 * io.kestra.plugin.gcp.bigquery.Query: runs SQL as a query job named after the task run, waits for it,
 * then by `fetchType` (or the older `fetch`/`fetchOne`/`store`) outputs `rows`, `row` or `uri`, and
 * `size`; always `jobId`, and `destinationTable` {project, dataset, table} when the job wrote one.
 */
export const bigqueryQuery = defineTask({
  type: 'io.kestra.plugin.gcp.bigquery.Query',
  kind: 'runnable',
  title: 'Run a BigQuery SQL query',
  properties: QueryProperties,
  description: 'Runs `sql` as a BigQuery query job named after the task run and waits for it; by `fetchType` the result becomes `rows`, `row` or a stored file `uri`, with `size`. The job can write a `destinationTable` (with dispositions, partitioning and clustering); transient failures are retried as `retryAuto` says.',
  outputs: Type.Object({
    jobId: Type.String({ description: 'The query job.' }),
    destinationTable: Type.Optional(Type.Object({ project: Type.String(), dataset: Type.String(), table: Type.String() })),
    row: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    rows: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
    uri: Type.Optional(Type.String()),
    size: Type.Optional(Type.Integer()),
  }),
  examples: [{ title: 'Example', code: 'id: top\ntype: io.kestra.plugin.gcp.bigquery.Query\nprojectId: my-project\nsql: SELECT name, count(*) AS n FROM `my-project.shop.orders` GROUP BY name\nfetchType: FETCH' }],
  async run(ctx) {
    const { bigquery, projectId } = await bigQueryClient(ctx);
    const query = queryConfiguration(ctx.props, projectId);
    const fetchType = fetchTypeOf(ctx.props);
    const dryRun = ctx.props.dryRun === true;
    ctx.logger.debug(`Starting query: ${ctx.props.sql}`);

    const { job, metadata } = await withAutoRetry(ctx, async (retry) => {
      const jobId = jobIdOf(ctx, retry);
      let job: Job;
      try {
        job = await createJob(bigquery, { jobId, location: ctx.props.location || undefined, configuration: { query, dryRun } });
      } catch (error) {
        throw apiFailure(`Starting BigQuery query job '${jobId}' failed`, error);
      }
      // A dry run is validated, never run: its job is returned as it was created.
      const metadata = dryRun ? job.metadata : await waitForJob(ctx, job);
      return { job, metadata };
    });

    const outputs: Record<string, unknown> = { jobId: job.id };
    if (fetchType !== 'NONE' && !dryRun) {
      const rows = await fetchRows(job, fetchType === 'FETCH_ONE' ? 1 : undefined);
      if (fetchType === 'FETCH') outputs.rows = rows;
      if (fetchType === 'FETCH_ONE') outputs.row = rows[0] ?? {};
      if (fetchType === 'STORE') outputs.uri = await storeRows(ctx, rows);
      outputs.size = rows.length;
    }
    const destination = metadata?.configuration?.query?.destinationTable;
    if (destination) {
      outputs.destinationTable = { project: destination.projectId, dataset: destination.datasetId, table: destination.tableId };
      ctx.logger.debug(`Query loaded in: ${destination.datasetId}.${destination.tableId}`);
    }
    const affected = metadata?.statistics?.query?.numDmlAffectedRows;
    ctx.logger.info(`Query job '${job.id}' done${affected !== undefined && affected !== null ? `, ${affected} row(s) affected` : ''}`);
    return { outputs };
  },
});

/** Kestra's Query properties as a JobConfigurationQuery. */
function queryConfiguration(props: QueryProps, projectId: string): Record<string, unknown> {
  const config: Record<string, unknown> = {
    query: props.sql,
    useLegacySql: props.legacySql === true || props.useLegacySql === true,
    priority: props.priority ?? 'INTERACTIVE',
  };
  if (props.destinationTable) config.destinationTable = parseTableId(props.destinationTable, projectId, 'destinationTable');
  if (props.writeDisposition) config.writeDisposition = props.writeDisposition;
  if (props.createDisposition) config.createDisposition = props.createDisposition;
  if (props.clusteringFields) config.clustering = { fields: props.clusteringFields };
  if (props.schemaUpdateOptions) config.schemaUpdateOptions = props.schemaUpdateOptions;
  if (props.timePartitioningField) config.timePartitioning = { type: props.timePartitioningType ?? 'DAY', field: props.timePartitioningField };
  if (props.rangePartitioningField) {
    config.rangePartitioning = {
      field: props.rangePartitioningField,
      range: { start: String(props.rangePartitioningStart ?? ''), end: String(props.rangePartitioningEnd ?? ''), interval: String(props.rangePartitioningInterval ?? '') },
    };
  }
  if (props.allowLargeResults !== undefined) config.allowLargeResults = props.allowLargeResults;
  if (props.useQueryCache !== undefined) config.useQueryCache = props.useQueryCache;
  config.flattenResults = props.flattenResults ?? true;
  if (props.maximumBillingTier !== undefined) config.maximumBillingTier = Number(props.maximumBillingTier);
  if (props.maximumBytesBilled !== undefined) config.maximumBytesBilled = String(props.maximumBytesBilled);
  if (props.defaultDataset) {
    const parts = props.defaultDataset.split('.');
    config.defaultDataset = parts.length === 2 ? { projectId: parts[0], datasetId: parts[1] } : { projectId, datasetId: parts[0] };
  }
  if (props.labels) config.labels = props.labels;
  if (props.jobTimeout) config.jobTimeoutMs = String(parseIsoDuration(props.jobTimeout));
  return config;
}

interface Field {
  name: string;
  type: string;
  mode?: string;
  fields?: Field[];
}

/** Every result row (paging through), converted as Kestra converts BigQuery cells. */
async function fetchRows(job: Job, limit?: number): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  let pageToken: string | undefined;
  do {
    let page: unknown[];
    let response: { schema?: { fields?: Field[] }; pageToken?: string } | undefined;
    try {
      [page, , response] = (await job.getQueryResults({ autoPaginate: false, skipParsing: true, pageToken, ...(limit ? { maxResults: limit } : {}) } as never)) as unknown as [unknown[], unknown, typeof response];
    } catch (error) {
      throw apiFailure(`Reading the results of BigQuery job '${job.id}' failed`, error);
    }
    const fields = response?.schema?.fields ?? [];
    for (const raw of page ?? []) rows.push(rowOf(fields, raw as { f: Array<{ v: unknown }> }));
    pageToken = limit && rows.length >= limit ? undefined : response?.pageToken;
  } while (pageToken);
  return rows;
}

function rowOf(fields: Field[], raw: { f: Array<{ v: unknown }> }): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  fields.forEach((field, i) => {
    row[field.name] = cellOf(field, raw.f[i]?.v, false);
  });
  return row;
}

function cellOf(field: Field, value: unknown, inRepeated: boolean): unknown {
  if (field.mode === 'REPEATED' && !inRepeated) return ((value as Array<{ v: unknown }>) ?? []).map((item) => cellOf(field, item.v, true));
  if (value === null || value === undefined) return null;
  const text = String(value);
  switch (field.type.toUpperCase()) {
    case 'BOOLEAN':
    case 'BOOL':
      return text === 'true';
    case 'INTEGER':
    case 'INT64': {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case 'FLOAT':
    case 'FLOAT64':
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return Number(text);
    case 'DATETIME':
      return `${text}Z`;
    case 'TIMESTAMP':
      return timestampOf(text);
    case 'GEOGRAPHY': {
      const point = /^POINT\(([-0-9.]+) ([-0-9.]+)\)$/.exec(text);
      return point ? [Number(point[1]), Number(point[2])] : text;
    }
    case 'RECORD':
    case 'STRUCT':
      return rowOf(field.fields ?? [], value as { f: Array<{ v: unknown }> });
    default:
      // STRING, BYTES (base64), DATE, TIME, JSON, INTERVAL stay as BigQuery writes them.
      return text;
  }
}

/** A TIMESTAMP cell (int64 microseconds, or float seconds in the older format) as an ISO instant, like Java's Instant. */
function timestampOf(text: string): string {
  const micros = /^-?\d+$/.test(text) ? BigInt(text) : BigInt(Math.round(Number(text) * 1e6));
  const seconds = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
  const fraction = Number(micros - seconds * 1_000_000n);
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (fraction === 0) return `${base}Z`;
  const digits = String(fraction).padStart(6, '0');
  return `${base}.${digits.endsWith('000') ? digits.slice(0, 3) : digits}Z`;
}
