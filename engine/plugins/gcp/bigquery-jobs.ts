import { setTimeout as sleep } from 'node:timers/promises';
import type { BigQuery, Job, JobMetadata } from '@google-cloud/bigquery';
import { nextRetryDelay } from '../../executor/retry.ts';
import type { RetryDef } from '../../flow/types.ts';
import { Type, type Static } from '../../contract/index.ts';
import { TaskFailure, type TaskContext } from '../types.ts';
import { apiFailure } from './clients.ts';

/** Kestra's retry settings of every BigQuery task (AbstractBigquery). */
export const BIGQUERY_PROPERTIES = {
  location: Type.Optional(Type.String({ description: 'Where the job runs.' })),
  retryAuto: Type.Optional(Type.Unsafe<RetryDef>({ type: 'object', description: 'How to retry a job failing for a transient reason.' })),
  retryReasons: Type.Optional(Type.Array(Type.String())),
  retryMessages: Type.Optional(Type.Array(Type.String())),
};

const BigQueryRetry = Type.Object(BIGQUERY_PROPERTIES);
export type BigQueryRetryProps = Static<typeof BigQueryRetry>;

const DEFAULT_RETRY_REASONS = ['rateLimitExceeded', 'jobBackendError', 'backendError', 'internalError', 'jobInternalError'];
const DEFAULT_RETRY_MESSAGES = ['due to concurrent update', 'Retrying the job may solve the problem', 'Retrying may solve the problem'];
const DEFAULT_RETRY: RetryDef = { type: 'exponential', interval: 'PT5S', maxInterval: 'PT60M', maxDuration: 'PT15M', maxAttempt: 10 };

export interface TableRef {
  projectId: string;
  datasetId: string;
  tableId: string;
}

/** `project.dataset.table` or `dataset.table` (in the task's project), as Kestra's BigQueryService.tableId. */
export function parseTableId(value: string, defaultProject: string, property: string): TableRef {
  const parts = value.replace(/`/g, '').split('.');
  if (parts.length === 2 && parts.every(Boolean)) return { projectId: defaultProject, datasetId: parts[0], tableId: parts[1] };
  if (parts.length === 3 && parts.every(Boolean)) return { projectId: parts[0], datasetId: parts[1], tableId: parts[2] };
  throw new TaskFailure(`${property}: invalid table name '${value}', expected project.dataset.table or dataset.table`);
}

/** Kestra names a task's job after its task run (`kestra_<taskRunId>`); later attempts and automatic retries add a suffix. */
export function jobIdOf(ctx: TaskContext<unknown>, retry: number): string {
  const attempt = ctx.taskRun.attemptNumber > 1 ? `_${ctx.taskRun.attemptNumber}` : '';
  return `kestra_${ctx.taskRun.id}${attempt}${retry > 0 ? `_retry${retry}` : ''}`;
}

interface JobError {
  reason?: string;
  message?: string;
  location?: string;
}

/** A job that ended in error; `errors` decide whether it is retried. */
export class BigQueryJobError extends TaskFailure {
  constructor(
    readonly jobId: string,
    readonly errors: JobError[],
  ) {
    super(`BigQuery job '${jobId}' failed: ${describeErrors(errors)}`);
    this.name = 'BigQueryJobError';
  }
}

function describeErrors(errors: JobError[]): string {
  const lines = errors.map((e) => `${e.message ?? 'unknown error'}${e.reason ? ` (reason: ${e.reason}${e.location ? `, location: ${e.location}` : ''})` : ''}`);
  return [...new Set(lines)].join('; ');
}

/** Polls the job until DONE; a kill or timeout cancels it in BigQuery too. Throws BigQueryJobError when it failed. */
export async function waitForJob(ctx: TaskContext<unknown>, job: Job): Promise<JobMetadata> {
  let delay = 100;
  for (;;) {
    let metadata: JobMetadata;
    try {
      [metadata] = await job.getMetadata();
    } catch (error) {
      throw apiFailure(`Reading BigQuery job '${job.id}' failed`, error);
    }
    if (metadata.status?.state === 'DONE') {
      const error = metadata.status.errorResult;
      if (error) throw new BigQueryJobError(job.id!, [error, ...(metadata.status.errors ?? [])]);
      return metadata;
    }
    try {
      await pause(delay, ctx.signal);
    } catch (aborted) {
      await job.cancel().catch(() => undefined);
      throw aborted;
    }
    delay = Math.min(delay * 1.5, 2_000);
  }
}

/** Runs `attempt` (create a job and wait for it), retrying BigQuery's transient failures as Kestra's `retryAuto` does. */
export async function withAutoRetry<T>(ctx: TaskContext<BigQueryRetryProps>, attempt: (retry: number) => Promise<T>): Promise<T> {
  const reasons = ctx.props.retryReasons ?? DEFAULT_RETRY_REASONS;
  const messages = (ctx.props.retryMessages ?? DEFAULT_RETRY_MESSAGES).map((m) => m.toLowerCase());
  const policy = ctx.props.retryAuto ?? DEFAULT_RETRY;
  const started = Date.now();
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(retry);
    } catch (error) {
      const errors = error instanceof BigQueryJobError ? error.errors : apiErrors(error);
      const transient = errors.some((e) => reasons.includes(e.reason ?? '') || messages.some((m) => (e.message ?? '').toLowerCase().includes(m)));
      const delay = transient ? nextRetryDelay(policy, retry + 1, Date.now() - started) : null;
      if (delay === null) throw error instanceof TaskFailure ? error : apiFailure('BigQuery request failed', error);
      ctx.logger.warn(`Retrying after ${describeErrors(errors)} (retry ${retry + 1}, in ${delay} ms)`);
      await pause(delay, ctx.signal);
    }
  }
}

function apiErrors(error: unknown): JobError[] {
  const api = error as { errors?: JobError[]; cause?: { errors?: JobError[] } };
  return api.errors ?? api.cause?.errors ?? [];
}

/** Creates the job named after the task run; on a 409 the job already exists (a retried request): adopt it. */
export async function createJob(bigquery: BigQuery, options: Parameters<BigQuery['createJob']>[0]): Promise<Job> {
  try {
    const [job] = await bigquery.createJob(options);
    return job;
  } catch (error) {
    if ((error as { code?: number }).code === 409 && options.jobId) return bigquery.job(options.jobId, { location: options.location });
    throw error;
  }
}

/** Waits `ms`; a kill or timeout ends the wait at once with its reason (what the task's failure says). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch((error: unknown) => {
    signal.throwIfAborted();
    throw error;
  });
}
