import { sql } from 'drizzle-orm';
import {
  bigint, bigserial, boolean, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex,
} from 'drizzle-orm/pg-core';

/** Raw bytes (namespace files are not always text). */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

/**
 * The single source of row types (`$inferSelect` / `$inferInsert`).
 * Timestamps are timestamptz with millisecond precision, returned as strings (ISO-8601-like).
 */
const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'string' });

/** The live flows: one row per (namespace, id); `deleted` keeps history after removal from Git. */
export const flows = pgTable('flows', {
  namespace: text('namespace').notNull(),
  id: text('id').notNull(),
  revision: integer('revision').notNull(),
  source: text('source').notNull(),
  /** Parsed definition (FlowDef) as JSON, so the executor never re-parses. */
  definition: jsonb('definition').notNull(),
  deleted: boolean('deleted').notNull().default(false),
  disabled: boolean('disabled').notNull().default(false),
  /** File in the Git repository that defines the flow (what to edit to change it). */
  gitPath: text('git_path'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.namespace, t.id] })]);

/** Every revision of every flow, with the Git commit it came from (when synced from Git). */
export const flowRevisions = pgTable('flow_revisions', {
  namespace: text('namespace').notNull(),
  flowId: text('flow_id').notNull(),
  revision: integer('revision').notNull(),
  source: text('source').notNull(),
  definition: jsonb('definition').notNull(),
  /** `{sha, author, email, message, date}` or null for flows not from Git. */
  commit: jsonb('commit'),
  /** The revision that records a deletion (source is the last source). */
  deleted: boolean('deleted').notNull().default(false),
  gitPath: text('git_path'),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.namespace, t.flowId, t.revision] })]);

export const executions = pgTable('executions', {
  id: text('id').primaryKey(),
  namespace: text('namespace').notNull(),
  flowId: text('flow_id').notNull(),
  flowRevision: integer('flow_revision').notNull(),
  /** Current state (see engine/state.ts). */
  state: text('state').notNull(),
  /** Kestra's `state` object: {current, histories, startDate, endDate, duration}. */
  stateDetail: jsonb('state_detail').notNull(),
  startDate: ts('start_date').notNull(),
  endDate: ts('end_date'),
  inputs: jsonb('inputs').notNull().default({}),
  outputs: jsonb('outputs'),
  labels: jsonb('labels').notNull().default({}),
  variables: jsonb('variables'),
  trigger: jsonb('trigger'),
  originalId: text('original_id'),
  parentExecutionId: text('parent_execution_id'),
  parentTaskRunId: text('parent_task_run_id'),
  /** Git commit sha the flow revision came from, when it came from Git. */
  commitSha: text('commit_sha'),
  /** Restart counter (Kestra's metadata.attemptNumber). */
  attemptNumber: integer('attempt_number').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  /**
   * The lease of the process running the execution (engine/queue): who, until when, and the fencing
   * token that every write of that process must still match. A claim increments the token, so a
   * worker whose lease expired and was taken over can no longer write.
   */
  leaseOwner: text('lease_owner'),
  leaseToken: bigint('lease_token', { mode: 'number' }).notNull().default(0),
  leaseExpiresAt: ts('lease_expires_at'),
  /** Set by a kill request for an execution another process runs; its heartbeat sees it and kills. */
  killRequested: boolean('kill_requested').notNull().default(false),
  /**
   * Times a claim found the execution's lease expired rather than let go: the process running it
   * crashed or hung (or lost the database for longer than the lease). Past `limits.executionCrashes`
   * the execution is failed instead of resumed, so a poison execution cannot crash-loop its workers.
   */
  interruptions: integer('interruptions').notNull().default(0),
  /**
   * Set with the terminal state when Flow triggers may react to it: until then the end has not been
   * evaluated for them. Cleared once it was; a row still due at this time (its process died before
   * evaluating, or the evaluation is taking long) is claimed and evaluated by any process running
   * executions, which pushes the time forward as its lease (engine/scheduler/flow-triggers.ts).
   */
  flowTriggersDueAt: ts('flow_triggers_due_at'),
}, (t) => [
  // The work queue: unfinished executions, oldest first (a partial index stays as small as the backlog).
  index('executions_unfinished_idx').on(t.createdAt).where(sql`state in ('CREATED', 'QUEUED', 'RUNNING', 'PAUSED', 'RESTARTED', 'KILLING', 'RETRYING')`),
  // text_pattern_ops: search matches a namespace and the ones below it (`namespace LIKE 'a.b.%'`),
  // which a plain btree can only serve under the C collation.
  index('executions_flow_idx').on(t.namespace.op('text_pattern_ops'), t.flowId, t.startDate),
  // Search by state, newest first (and the per-state counts of /metrics, from its leading column).
  index('executions_state_start_idx').on(t.state, t.startDate),
  index('executions_start_idx').on(t.startDate),
  // The Flow-trigger sweep: only ends not yet evaluated (a partial index stays as small as they are few).
  index('executions_flow_triggers_due_idx').on(t.flowTriggersDueAt).where(sql`flow_triggers_due_at is not null`),
]);

export const taskRuns = pgTable('task_runs', {
  id: text('id').primaryKey(),
  executionId: text('execution_id').notNull().references(() => executions.id, { onDelete: 'cascade' }),
  taskId: text('task_id').notNull(),
  parentTaskRunId: text('parent_task_run_id'),
  value: text('value'),
  iteration: integer('iteration'),
  state: text('state').notNull(),
  stateDetail: jsonb('state_detail').notNull(),
  /** `[{state:{current,histories,startDate,endDate}}]`, one per attempt. */
  attempts: jsonb('attempts').notNull().default([]),
  outputs: jsonb('outputs'),
  /** Order of creation within the execution, for stable listing. */
  seq: integer('seq').notNull(),
  startDate: ts('start_date').notNull(),
  endDate: ts('end_date'),
}, (t) => [index('task_runs_execution_idx').on(t.executionId, t.seq)]);

export const logs = pgTable('logs', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  executionId: text('execution_id').notNull(),
  taskRunId: text('task_run_id'),
  taskId: text('task_id'),
  attemptNumber: integer('attempt_number'),
  timestamp: ts('timestamp').notNull(),
  level: text('level').notNull(),
  message: text('message').notNull(),
}, (t) => [index('logs_execution_idx').on(t.executionId, t.id)]);

export const kv = pgTable('kv', {
  namespace: text('namespace').notNull(),
  key: text('key').notNull(),
  type: text('type').notNull(),
  value: jsonb('value'),
  description: text('description'),
  expiresAt: ts('expires_at'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.namespace, t.key] })]);

/**
 * Per-trigger scheduler state (Kestra's trigger context), one row per Schedule trigger of a live flow.
 * The scheduler claims a row (`FOR UPDATE SKIP LOCKED`) before evaluating it, so one process fires each date.
 */
export const triggers = pgTable('triggers', {
  namespace: text('namespace').notNull(),
  flowId: text('flow_id').notNull(),
  triggerId: text('trigger_id').notNull(),
  /** Last schedule date evaluated (fired, or skipped by conditions or lateMaximumDelay): Kestra's `date`. */
  lastDate: ts('last_date'),
  /** First schedule date not evaluated yet: Kestra's `nextExecutionDate`. */
  nextDate: ts('next_date'),
  /** Disabled through the API (`PUT /api/v1/triggers`), as opposed to `disabled: true` in the flow. */
  disabled: boolean('disabled').notNull().default(false),
  /** `{start, end, currentDate, paused, inputs, labels, done, total, executionId, ended}` (see engine/scheduler). */
  backfill: jsonb('backfill'),
  /** The cron, seconds flag and time zone `nextDate` was computed with; a change recomputes it. */
  schedule: text('schedule'),
  /** True while the trigger is not evaluated (it, its flow or the API disabled it): enabling it again recovers missed dates. */
  suspended: boolean('suspended').notNull().default(false),
  /** The last execution the trigger created (schedule or backfill). */
  executionId: text('execution_id'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.namespace, t.flowId, t.triggerId] })]);

/** Namespace files from Git (`files/<namespace>/<path>`), as of the last applied commit. */
export const namespaceFiles = pgTable('namespace_files', {
  namespace: text('namespace').notNull(),
  /** Starts with '/', e.g. `/sql/query.sql`. */
  path: text('path').notNull(),
  content: bytea('content').notNull(),
  /** Git blob sha: unchanged files are not rewritten. */
  blobSha: text('blob_sha').notNull(),
  commitSha: text('commit_sha').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.namespace, t.path] })]);

/** One row per synced source (`git`): what is live and how the last attempt went. */
export const syncState = pgTable('sync_state', {
  id: text('id').primaryKey(),
  /** Repository URL with credentials stripped. */
  repository: text('repository').notNull(),
  branch: text('branch').notNull(),
  /** `{sha, author, email, message, date}` of the commit whose flows are live. */
  appliedCommit: jsonb('applied_commit'),
  /** IDLE, SYNCING, SYNCED, REFUSED (a commit with invalid flows), ERROR (fetch failed). */
  state: text('state').notNull(),
  lastAttemptAt: ts('last_attempt_at'),
  lastAttemptSha: text('last_attempt_sha'),
  lastSuccessAt: ts('last_success_at'),
  /** `[{path, line, column, message}]` of the last refused commit, or the fetch error. */
  errors: jsonb('errors').notNull().default([]),
  /** `[{path, line, column, message}]`: what the last commit read holds that is not synced (symbolic links, submodules). */
  warnings: jsonb('warnings').notNull().default([]),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** Every sync attempt, newest last. */
export const syncHistory = pgTable('sync_history', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  startedAt: ts('started_at').notNull(),
  finishedAt: ts('finished_at').notNull(),
  /** webhook, poll, manual, startup, cli */
  reason: text('reason').notNull(),
  commitSha: text('commit_sha'),
  /** APPLIED, UNCHANGED, REFUSED, ERROR */
  result: text('result').notNull(),
  /** `{added: [..], updated: [..], deleted: [..], files: {added, updated, deleted}}` (namespace.id). */
  changes: jsonb('changes').notNull().default({}),
  errors: jsonb('errors').notNull().default([]),
  durationMs: integer('duration_ms').notNull(),
}, (t) => [index('sync_history_started_idx').on(t.startedAt)]);

/** Verified push deliveries waiting for the syncer: stored before the webhook answers 202. */
export const syncRequests = pgTable('sync_requests', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  provider: text('provider').notNull(),
  /** Provider's delivery id; a replayed delivery is recorded once. */
  deliveryId: text('delivery_id'),
  ref: text('ref'),
  /** Head commit the push announced (informative: the syncer fetches the branch itself). */
  afterSha: text('after_sha'),
  receivedAt: ts('received_at').notNull().defaultNow(),
  processedAt: ts('processed_at'),
}, (t) => [
  uniqueIndex('sync_requests_delivery_idx').on(t.provider, t.deliveryId),
  index('sync_requests_pending_idx').on(t.processedAt),
]);

/**
 * Concurrency admission (`concurrency: {limit, behavior}`): one row per execution of a limited flow that
 * holds a slot (`RUNNING`) or waits for one (`QUEUED`). Rows are changed only under the flow's advisory
 * lock, so the count of `RUNNING` rows never exceeds the limit whichever process admits; `seq` keeps
 * the queue first-come, first-served.
 */
export const concurrencySlots = pgTable('concurrency_slots', {
  executionId: text('execution_id').primaryKey(),
  namespace: text('namespace').notNull(),
  flowId: text('flow_id').notNull(),
  /** `RUNNING` (holds a slot) or `QUEUED`. */
  status: text('status').notNull(),
  seq: bigserial('seq', { mode: 'number' }).notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [index('concurrency_slots_flow_idx').on(t.namespace, t.flowId, t.status, t.seq)]);

/**
 * The window of a Flow trigger's `preconditions`: which upstream conditions were met in the current time
 * window. One row per (flow, trigger); changed under its row lock, so two executions ending at once
 * cannot both see the last condition met and fire twice.
 */
export const flowTriggerWindows = pgTable('flow_trigger_windows', {
  namespace: text('namespace').notNull(),
  flowId: text('flow_id').notNull(),
  triggerId: text('trigger_id').notNull(),
  windowStart: ts('window_start').notNull(),
  windowEnd: ts('window_end').notNull(),
  /** Condition id → the execution that met it: `{executionId, namespace, flowId, state, date}`. */
  met: jsonb('met').notNull().default({}),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.namespace, t.flowId, t.triggerId] })]);

/**
 * Logged-in dashboard sessions. The signed cookie names its row; logout deletes it, so a cookie
 * copied before a logout stays dead after a restart (the cookie key survives restarts when
 * BATON_SESSION_SECRET is set). Anonymous sessions (CSRF tokens before login) have no row.
 */
export const dashboardSessions = pgTable('dashboard_sessions', {
  /** SHA-256 (hex) of the session's nonce: the table never holds what a cookie carries. */
  id: text('id').primaryKey(),
  userName: text('user_name').notNull(),
  expiresAt: ts('expires_at').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [index('dashboard_sessions_expires_idx').on(t.expiresAt)]);
