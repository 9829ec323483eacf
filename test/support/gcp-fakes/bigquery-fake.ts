/**
 * FAKE of the BigQuery v2 REST API, only what Baton's BigQuery tasks use: datasets insert/get/patch,
 * jobs insert/get/cancel, getQueryResults, and load jobs sent as multipart media uploads.
 *
 * It does not run SQL. It records every job's configuration and every query, in order; a query job
 * ends DONE (after one poll in RUNNING) with no rows, unless the test registered a canned result
 * (`answer`) or a failure (`fail`) for it. A load job keeps the uploaded bytes per table and counts
 * its rows the simple way (lines, minus `skipLeadingRows` for CSV).
 */
import { randomUUID } from 'node:crypto';
import { googleError, json, parseMultipartRelated, type FakeRequest, type FakeResponse } from './fake-api.ts';

export interface FakeField {
  name: string;
  type: string;
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  fields?: FakeField[];
}

export interface CannedResult {
  schema: FakeField[];
  /** Rows as objects keyed by field name; values as JS values (ISO strings for dates and times). */
  rows: Record<string, unknown>[];
}

export interface FakeJobError {
  reason: string;
  message: string;
  location?: string;
}

export interface FakeJob {
  projectId: string;
  jobId: string;
  location: string;
  configuration: Record<string, unknown>;
  /** Polls answered RUNNING before the job reports DONE. */
  pendingPolls: number;
  resource: Record<string, unknown>;
  result?: CannedResult;
  error?: FakeJobError;
  cancelled: boolean;
}

export interface FakeLoad {
  jobId: string;
  load: Record<string, unknown>;
  data: Buffer;
  outputRows: number;
}

export class BigQueryFake {
  readonly datasets = new Map<string, Record<string, unknown>>();
  readonly jobs = new Map<string, FakeJob>();
  /** Every query job's SQL, in the order the jobs were inserted. */
  readonly queries: string[] = [];
  readonly loads: FakeLoad[] = [];
  /** Bytes loaded per `project:dataset.table`. */
  readonly tables = new Map<string, Buffer>();
  private readonly answers: Array<{ match: RegExp; result: CannedResult }> = [];
  private readonly failures: Array<{ match: RegExp; error: FakeJobError; times: number }> = [];
  /** How many polls a new job answers RUNNING before DONE. */
  pollsBeforeDone = 1;
  /** Rows per getQueryResults page when the caller gives no maxResults (BigQuery pages by size). */
  pageSize = 10_000;

  /** The result of the next query jobs whose SQL matches. */
  answer(match: RegExp | string, result: CannedResult): void {
    this.answers.push({ match: toRegExp(match), result });
  }

  /** Query jobs whose SQL matches end DONE with this error (`times` of them; default every one). */
  fail(match: RegExp | string, error: FakeJobError, times = Number.POSITIVE_INFINITY): void {
    this.failures.push({ match: toRegExp(match), error, times });
  }

  putDataset(projectId: string, datasetId: string, location = 'US'): void {
    this.datasets.set(`${projectId}:${datasetId}`, this.datasetResource(projectId, datasetId, { location }));
  }

  /** Jobs in insertion order. */
  jobList(): FakeJob[] {
    return [...this.jobs.values()];
  }

  handle(request: FakeRequest): FakeResponse {
    const { method, path } = request;
    let m: RegExpExecArray | null;
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets$/.exec(path)) && method === 'POST') {
      return this.insertDataset(decodeURIComponent(m[1]), JSON.parse(request.body.toString() || '{}'));
    }
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)$/.exec(path))) {
      const key = `${decodeURIComponent(m[1])}:${decodeURIComponent(m[2])}`;
      const dataset = this.datasets.get(key);
      if (!dataset) return googleError(404, 'notFound', `Not found: Dataset ${key}`);
      if (method === 'GET') return json(dataset);
      if (method === 'PATCH' || method === 'PUT') {
        const patch = JSON.parse(request.body.toString() || '{}') as Record<string, unknown>;
        if (patch.location && patch.location !== dataset.location) return googleError(400, 'invalid', 'Cannot change dataset location.');
        Object.assign(dataset, patch, { lastModifiedTime: String(Date.now()) });
        return json(dataset);
      }
    }
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(path)) && method === 'POST') {
      return this.insertJob(decodeURIComponent(m[1]), JSON.parse(request.body.toString() || '{}'));
    }
    if ((m = /^\/upload\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(path)) && method === 'POST') {
      const [meta, media] = parseMultipartRelated(request.headers['content-type'], request.body);
      if (!meta || !media) return googleError(400, 'invalid', 'Multipart upload needs a metadata part and a media part.');
      return this.insertJob(decodeURIComponent(m[1]), JSON.parse(meta.body.toString()), media.body);
    }
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs\/([^/]+)(\/cancel)?$/.exec(path))) {
      const job = this.jobs.get(`${decodeURIComponent(m[1])}:${decodeURIComponent(m[2])}`);
      if (!job) return googleError(404, 'notFound', `Not found: Job ${m[1]}:${m[2]}`);
      if (m[3] && method === 'POST') {
        job.cancelled = true;
        job.pendingPolls = 0;
        return json({ kind: 'bigquery#jobCancelResponse', job: this.poll(job) });
      }
      if (method === 'GET') return json(this.poll(job));
    }
    if ((m = /^\/bigquery\/v2\/projects\/([^/]+)\/queries\/([^/]+)$/.exec(path)) && method === 'GET') {
      const job = this.jobs.get(`${decodeURIComponent(m[1])}:${decodeURIComponent(m[2])}`);
      if (!job) return googleError(404, 'notFound', `Not found: Job ${m[1]}:${m[2]}`);
      return this.queryResults(job, request.query);
    }
    return googleError(404, 'notFound', `The BigQuery fake does not implement ${method} ${path}`);
  }

  private datasetResource(projectId: string, datasetId: string, body: Record<string, unknown>): Record<string, unknown> {
    const now = String(Date.now());
    return {
      kind: 'bigquery#dataset',
      etag: 'fake-etag',
      id: `${projectId}:${datasetId}`,
      selfLink: `/bigquery/v2/projects/${projectId}/datasets/${datasetId}`,
      creationTime: now,
      lastModifiedTime: now,
      type: 'DEFAULT',
      ...body,
      datasetReference: { projectId, datasetId },
      location: body.location ?? 'US',
    };
  }

  private insertDataset(projectId: string, body: Record<string, unknown>): FakeResponse {
    const reference = body.datasetReference as { projectId?: string; datasetId?: string } | undefined;
    const datasetId = reference?.datasetId ?? '';
    if (!/^[A-Za-z0-9_]{1,1024}$/.test(datasetId)) {
      return googleError(400, 'invalid', `Invalid dataset ID "${datasetId}". Dataset IDs must be alphanumeric (plus underscores) and must be at most 1024 characters long.`);
    }
    const key = `${projectId}:${datasetId}`;
    if (this.datasets.has(key)) return googleError(409, 'duplicate', `Already Exists: Dataset ${key}`);
    const dataset = this.datasetResource(projectId, datasetId, body);
    this.datasets.set(key, dataset);
    return json(dataset);
  }

  private insertJob(projectId: string, body: Record<string, unknown>, media?: Buffer): FakeResponse {
    const reference = (body.jobReference ?? {}) as { jobId?: string; location?: string };
    const jobId = reference.jobId ?? randomUUID();
    const key = `${projectId}:${jobId}`;
    if (this.jobs.has(key)) return googleError(409, 'duplicate', `Already Exists: Job ${projectId}:${reference.location ?? 'US'}.${jobId}`);
    const configuration = (body.configuration ?? {}) as Record<string, unknown>;
    const location = reference.location ?? 'US';
    const job: FakeJob = {
      projectId, jobId, location, configuration, pendingPolls: this.pollsBeforeDone, cancelled: false,
      resource: {
        kind: 'bigquery#job',
        etag: 'fake-etag',
        id: `${projectId}:${location}.${jobId}`,
        selfLink: `/bigquery/v2/projects/${projectId}/jobs/${jobId}?location=${location}`,
        jobReference: { projectId, jobId, location },
        configuration: { ...configuration, jobType: configuration.load ? 'LOAD' : configuration.query ? 'QUERY' : 'UNKNOWN' },
        statistics: { creationTime: String(Date.now()), startTime: String(Date.now()) },
        status: { state: 'RUNNING' },
        user_email: 'fake@baton',
      },
    };
    const query = configuration.query as { query?: string; destinationTable?: Record<string, string> } | undefined;
    if (query?.query !== undefined) this.startQuery(job, query);
    else if (configuration.load) this.startLoad(job, configuration.load as Record<string, unknown>, media ?? Buffer.alloc(0));
    this.jobs.set(key, job);
    return json(job.resource);
  }

  private startQuery(job: FakeJob, query: { query?: string; destinationTable?: Record<string, string> }): void {
    const sql = query.query ?? '';
    this.queries.push(sql);
    const failure = this.failures.find((f) => f.times > 0 && f.match.test(sql));
    if (failure) {
      failure.times--;
      job.error = failure.error;
      return;
    }
    job.result = this.answers.find((a) => a.match.test(sql))?.result;
    const statementType = statementTypeOf(sql);
    const stats: Record<string, unknown> = { statementType, totalBytesProcessed: '0', cacheHit: false };
    if (['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(statementType)) stats.numDmlAffectedRows = '0';
    (job.resource.statistics as Record<string, unknown>).query = stats;
    if (!query.destinationTable && statementType === 'SELECT') {
      // BigQuery writes every SELECT somewhere: an anonymous table when none was asked for.
      (job.resource.configuration as { query: Record<string, unknown> }).query.destinationTable = {
        projectId: job.projectId, datasetId: '_fake_anonymous', tableId: `anon_${job.jobId.replace(/[^A-Za-z0-9_]/g, '_')}`,
      };
    }
  }

  private startLoad(job: FakeJob, load: Record<string, unknown>, data: Buffer): void {
    const table = load.destinationTable as { projectId: string; datasetId: string; tableId: string };
    const datasetKey = `${table.projectId}:${table.datasetId}`;
    if (!this.datasets.has(datasetKey)) {
      job.error = { reason: 'notFound', message: `Not found: Dataset ${datasetKey}` };
      return;
    }
    const lines = data.toString().split(/\r?\n/).filter((l) => l.length > 0);
    const skip = load.sourceFormat === 'CSV' || load.sourceFormat === undefined ? Number(load.skipLeadingRows ?? 0) : 0;
    const outputRows = Math.max(0, lines.length - skip);
    const tableKey = `${datasetKey}.${table.tableId}`;
    const existing = this.tables.get(tableKey);
    if (load.writeDisposition === 'WRITE_EMPTY' && existing?.length) {
      job.error = { reason: 'duplicate', message: `Already Exists: Table ${tableKey}` };
      return;
    }
    this.tables.set(tableKey, load.writeDisposition === 'WRITE_TRUNCATE' || !existing ? data : Buffer.concat([existing, data]));
    this.loads.push({ jobId: job.jobId, load, data, outputRows });
    (job.resource.statistics as Record<string, unknown>).load = {
      inputFiles: '1', inputFileBytes: String(data.length), outputRows: String(outputRows), outputBytes: String(data.length), badRecords: '0',
    };
  }

  /** One jobs.get: RUNNING while polls are pending, then DONE (with the error, if any). */
  private poll(job: FakeJob): Record<string, unknown> {
    if (job.pendingPolls > 0) {
      job.pendingPolls--;
      return job.resource;
    }
    if ((job.resource.status as { state: string }).state !== 'DONE') {
      const error = job.cancelled ? { reason: 'stopped', message: 'Job execution was cancelled: User requested cancellation' } : job.error;
      job.resource.status = error ? { state: 'DONE', errorResult: error, errors: [error] } : { state: 'DONE' };
      (job.resource.statistics as Record<string, unknown>).endTime = String(Date.now());
    }
    return job.resource;
  }

  private queryResults(job: FakeJob, query: URLSearchParams): FakeResponse {
    const resource = this.poll(job);
    const reference = resource.jobReference;
    if ((resource.status as { state: string }).state !== 'DONE') {
      return json({ kind: 'bigquery#getQueryResultsResponse', jobReference: reference, jobComplete: false });
    }
    if (job.error || job.cancelled) {
      const error = (resource.status as { errorResult: FakeJobError }).errorResult;
      return googleError(400, error.reason, error.message);
    }
    const result = job.result;
    if (!result) return json({ kind: 'bigquery#getQueryResultsResponse', jobReference: reference, jobComplete: true, totalRows: '0', totalBytesProcessed: '0', cacheHit: false });
    const start = Number(query.get('pageToken') ?? query.get('startIndex') ?? 0);
    const size = query.has('maxResults') ? Number(query.get('maxResults')) : this.pageSize;
    const micros = query.get('formatOptions.useInt64Timestamp') === 'true';
    const page = result.rows.slice(start, start + size);
    const response: Record<string, unknown> = {
      kind: 'bigquery#getQueryResultsResponse',
      jobReference: reference,
      jobComplete: true,
      schema: { fields: result.schema },
      totalRows: String(result.rows.length),
      rows: page.map((row) => encodeRow(result.schema, row, micros)),
      totalBytesProcessed: '0',
      cacheHit: false,
    };
    if (start + size < result.rows.length) response.pageToken = String(start + size);
    return json(response);
  }
}

function toRegExp(match: RegExp | string): RegExp {
  return typeof match === 'string' ? new RegExp(match.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : match;
}

function statementTypeOf(sql: string): string {
  const words = sql.replace(/--[^\n]*/g, '').trim().split(/\s+/).map((w) => w.toUpperCase());
  if (words[0] === 'SELECT' || words[0] === 'WITH') return 'SELECT';
  if (words[0] === 'CREATE') {
    const rest = words.slice(1).filter((w) => !['OR', 'REPLACE', 'TEMP', 'TEMPORARY', 'EXTERNAL'].includes(w));
    return `CREATE_${rest[0] ?? 'TABLE'}`;
  }
  return words[0] === 'TRUNCATE' ? 'TRUNCATE_TABLE' : words[0] ?? 'SCRIPT';
}

/** BigQuery's wire format: `{f: [{v: "…"}]}` with every scalar as a string. */
function encodeRow(fields: FakeField[], row: Record<string, unknown>, micros: boolean): { f: Array<{ v: unknown }> } {
  return { f: fields.map((field) => ({ v: encodeValue(field, row[field.name], micros) })) };
}

function encodeValue(field: FakeField, value: unknown, micros: boolean): unknown {
  if (value === null || value === undefined) return null;
  if (field.mode === 'REPEATED') {
    return (value as unknown[]).map((item) => ({ v: encodeValue({ ...field, mode: 'NULLABLE' }, item, micros) }));
  }
  const type = field.type.toUpperCase();
  if (type === 'RECORD' || type === 'STRUCT') return encodeRow(field.fields ?? [], value as Record<string, unknown>, micros);
  if (type === 'TIMESTAMP') {
    const ms = new Date(String(value)).getTime();
    const fraction = /\.(\d+)/.exec(String(value))?.[1] ?? '';
    const extraMicros = Number(fraction.padEnd(6, '0').slice(3, 6));
    return micros ? String(BigInt(ms) * 1000n + BigInt(extraMicros)) : String((ms * 1000 + extraMicros) / 1e6);
  }
  if (type === 'BYTES' && Buffer.isBuffer(value)) return value.toString('base64');
  return String(value);
}
