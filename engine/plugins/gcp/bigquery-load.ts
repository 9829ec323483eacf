import { Enum, Type, type Static } from '../../contract/index.ts';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Job } from '@google-cloud/bigquery';
import { TaskFailure, defineTask } from '../types.ts';
import {
  BIGQUERY_PROPERTIES, jobIdOf, parseTableId, waitForJob, withAutoRetry, type BigQueryRetryProps,
} from './bigquery-jobs.ts';
import { CREATE_DISPOSITIONS, SCHEMA_UPDATE_OPTIONS, TIME_PARTITIONING_TYPES, WRITE_DISPOSITIONS } from './bigquery-query.ts';
import { apiFailure, bigQueryClient, GCP_PROPERTIES, type GcpProps } from './clients.ts';

const FORMATS = { CSV: 'CSV', JSON: 'NEWLINE_DELIMITED_JSON', AVRO: 'AVRO', PARQUET: 'PARQUET', ORC: 'ORC' } as const;

interface CsvOptions {
  allowJaggedRows?: boolean;
  allowQuotedNewLines?: boolean;
  encoding?: string;
  fieldDelimiter?: string;
  quote?: string;
  skipLeadingRows?: number | string;
}

interface SchemaField {
  name: string;
  type: string;
  mode?: string;
  description?: string;
  fields?: SchemaField[];
}

const fieldSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    type: { type: 'string' },
    mode: { enum: ['NULLABLE', 'REQUIRED', 'REPEATED'] },
    description: { type: 'string' },
    fields: { type: 'array' },
  },
  required: ['name', 'type'],
};

const LoadProperties = Type.Object({
  ...GCP_PROPERTIES,
  ...BIGQUERY_PROPERTIES,
  from: Type.String(),
  destinationTable: Type.String(),
  format: Type.Optional(Enum(['CSV', 'JSON', 'AVRO', 'PARQUET', 'ORC'])),
  csvOptions: Type.Optional(Type.Object({ allowJaggedRows: Type.Optional(Type.Boolean()), allowQuotedNewLines: Type.Optional(Type.Boolean()), encoding: Type.Optional(Type.String()), fieldDelimiter: Type.Optional(Type.String()), quote: Type.Optional(Type.String()), skipLeadingRows: Type.Optional(Type.Union([Type.Integer(), Type.String()])) }, {additionalProperties: false})),
  avroOptions: Type.Optional(Type.Object({ useAvroLogicalTypes: Type.Optional(Type.Boolean()) }, {additionalProperties: false})),
  writeDisposition: Type.Optional(Enum(['WRITE_TRUNCATE', 'WRITE_APPEND', 'WRITE_EMPTY'])),
  createDisposition: Type.Optional(Enum(['CREATE_IF_NEEDED', 'CREATE_NEVER'])),
  autodetect: Type.Optional(Type.Boolean()),
  ignoreUnknownValues: Type.Optional(Type.Boolean()),
  maxBadRecords: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  schema: Type.Optional(Type.Object({ fields: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), mode: Type.Optional(Enum(['NULLABLE', 'REQUIRED', 'REPEATED'])), description: Type.Optional(Type.String()), fields: Type.Optional(Type.Array(Type.Unknown())) })) })),
  clusteringFields: Type.Optional(Type.Array(Type.String())),
  schemaUpdateOptions: Type.Optional(Type.Array(Enum(['ALLOW_FIELD_ADDITION', 'ALLOW_FIELD_RELAXATION']))),
  timePartitioningField: Type.Optional(Type.String()),
  timePartitioningType: Type.Optional(Enum(['DAY', 'HOUR', 'MONTH', 'YEAR'])),
  failedOnEmpty: Type.Optional(Type.Boolean()),
});
type LoadProps = Static<typeof LoadProperties>;

/**
 * io.kestra.plugin.gcp.bigquery.Load: streams a kestra:// file to a BigQuery load job (a media upload,
 * never read whole into memory) into `destinationTable`, then waits for it. Outputs `jobId`,
 * `destinationTable` (project.dataset.table) and `rows` (rows written). An empty file fails unless
 * `failedOnEmpty: false`.
 */
export const bigqueryLoad = defineTask({
  type: 'io.kestra.plugin.gcp.bigquery.Load',
  kind: 'runnable',
  title: 'Load a file from internal storage into BigQuery',
  properties: LoadProperties,
  description: 'Streams a file of internal storage (`from`) to a BigQuery load job into `destinationTable` (project.dataset.table), in CSV, JSON, Avro, Parquet or ORC, with an explicit `schema` or `autodetect`, and waits for it. An empty file fails unless `failedOnEmpty: false`.',
  outputs: Type.Object({
    jobId: Type.Optional(Type.String()),
    destinationTable: Type.Optional(Type.String()),
    rows: Type.Optional(Type.Integer({ description: 'Rows written.' })),
  }),
  examples: [{ title: 'Example', code: 'id: load\ntype: io.kestra.plugin.gcp.bigquery.Load\nfrom: "{{ outputs.download.uri }}"\ndestinationTable: my-project.shop.orders\nformat: CSV\ncsvOptions:\n  skipLeadingRows: 1\nautodetect: true' }],
  async run(ctx) {
    const { from } = ctx.props;
    const { bigquery, projectId } = await bigQueryClient(ctx);
    const table = parseTableId(ctx.props.destinationTable, projectId, 'destinationTable');
    const destinationTable = `${table.projectId}.${table.datasetId}.${table.tableId}`;
    let size: number;
    try {
      // stream() checks the URI belongs to this execution before size() is asked.
      ((await ctx.storage.stream(from)) as Readable).destroy();
      size = await ctx.storage.backend.size(from);
    } catch (error) {
      throw new TaskFailure(`from: cannot read '${from}': ${(error as Error).message}`, { cause: error });
    }
    if (size === 0) {
      if (ctx.props.failedOnEmpty !== false) throw new TaskFailure("Can't load an empty file and this one don't contain any data");
      ctx.logger.warn(`'${from}' is empty: nothing loaded into ${destinationTable}`);
      return { outputs: { rows: 0 } };
    }
    const configuration = loadConfiguration(ctx.props);
    ctx.logger.debug(`Starting load into ${destinationTable}: ${JSON.stringify(configuration)}`);

    const metadata = await withAutoRetry(ctx, async (retry) => {
      const jobId = jobIdOf(ctx, retry);
      // The job runs in the task's project (as Kestra's does), whichever project holds the table.
      const handle = bigquery.dataset(table.datasetId, { projectId, location: ctx.props.location || undefined })
        .table(table.tableId, { location: ctx.props.location || undefined });
      const job = await uploadToJob(ctx, handle, { ...configuration, destinationTable: table, jobId }, from, destinationTable);
      return waitForJob(ctx, job);
    });
    const rows = Number(metadata.statistics?.load?.outputRows ?? 0);
    ctx.logger.info(`Loaded ${rows} row(s) into ${destinationTable}`);
    return { outputs: { jobId: metadata.jobReference?.jobId, destinationTable, rows } };
  },
});

type TableHandle = ReturnType<ReturnType<Awaited<ReturnType<typeof bigQueryClient>>['bigquery']['dataset']>['table']>;

/** Streams the file as the media of a load job insert; resolves to the job once BigQuery accepted it. */
async function uploadToJob(ctx: Parameters<typeof bigqueryLoad.run>[0], table: TableHandle, metadata: Record<string, unknown>, from: string, destination: string): Promise<Job> {
  const upload = table.createWriteStream_(metadata as never);
  const accepted = new Promise<Job>((resolve, reject) => {
    upload.once('job', (job: Job) => resolve(job));
    upload.once('error', reject);
  });
  try {
    await Promise.all([pipeline(await ctx.storage.stream(from), upload, { signal: ctx.signal }), accepted]);
  } catch (error) {
    throw apiFailure(`Uploading '${from}' to a load job into ${destination} failed`, error);
  }
  return accepted;
}

/** Kestra's Load properties as a JobConfigurationLoad (without the destination, which the table handle adds). */
function loadConfiguration(props: LoadProps): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const format = props.format ?? 'CSV';
  config.sourceFormat = FORMATS[format];
  if (format === 'CSV') {
    const csv = props.csvOptions ?? {};
    if (csv.allowJaggedRows !== undefined) config.allowJaggedRows = csv.allowJaggedRows;
    if (csv.allowQuotedNewLines !== undefined) config.allowQuotedNewlines = csv.allowQuotedNewLines;
    if (csv.encoding) config.encoding = csv.encoding;
    if (csv.fieldDelimiter !== undefined) config.fieldDelimiter = csv.fieldDelimiter;
    if (csv.quote !== undefined) config.quote = csv.quote;
    if (csv.skipLeadingRows !== undefined) config.skipLeadingRows = Number(csv.skipLeadingRows);
  }
  if (format === 'AVRO' && props.avroOptions?.useAvroLogicalTypes !== undefined) config.useAvroLogicalTypes = props.avroOptions.useAvroLogicalTypes;
  if (props.writeDisposition) config.writeDisposition = props.writeDisposition;
  if (props.createDisposition) config.createDisposition = props.createDisposition;
  if (props.autodetect !== undefined) config.autodetect = props.autodetect;
  if (props.ignoreUnknownValues !== undefined) config.ignoreUnknownValues = props.ignoreUnknownValues;
  if (props.maxBadRecords !== undefined) config.maxBadRecords = Number(props.maxBadRecords);
  if (props.schema) config.schema = { fields: props.schema.fields };
  if (props.clusteringFields) config.clustering = { fields: props.clusteringFields };
  if (props.schemaUpdateOptions) config.schemaUpdateOptions = props.schemaUpdateOptions;
  if (props.timePartitioningField) config.timePartitioning = { type: props.timePartitioningType ?? 'DAY', field: props.timePartitioningField };
  return config;
}

