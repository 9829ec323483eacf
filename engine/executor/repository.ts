import { and, asc, count, desc, eq, gt, gte, inArray, like, lte, or, sql, type SQL } from 'drizzle-orm';
import { toIsoTimestamp, type Db } from '../../db/index.ts';
import { executions, logs, taskRuns } from '../../db/schema.ts';
import { LOG_LEVELS, type LogEntry, type LogLevel } from '../logs/types.ts';
import type { State, StateType } from '../state.ts';
import type { Execution, TaskRun } from './model.ts';
import { escapeLike } from '../../db/index.ts';
import { LeaseLostError, type Lease } from '../queue/index.ts';

type ExecutionRow = typeof executions.$inferSelect;
type TaskRunRow = typeof taskRuns.$inferSelect;
type LogRow = typeof logs.$inferSelect;

/** A log line as stored: `id` orders the lines of an execution and lets a follower resume after one. */
export type StoredLogEntry = LogEntry & { id: number };

/** Filters of `search`, as Kestra's `/executions/search` takes them. */
export interface ExecutionSearch {
  /** This namespace and the ones below it (`company` matches `company.team`). */
  namespace?: string;
  flowId?: string;
  /** Any of these states. */
  state?: readonly StateType[];
  /** Started at or after this ISO-8601 instant. */
  startDate?: string;
  /** Ended at or before this ISO-8601 instant (running executions have no end: they never match). */
  endDate?: string;
  /** Every one of these labels. */
  labels?: Record<string, string>;
  /** From 1. */
  page?: number;
  size?: number;
  /**
   * Load each result's task runs (one more query for the page). Kestra's search returns them, so
   * the API asks for them; listings that only show states and dates should not pay for them.
   */
  withTaskRuns?: boolean;
}

/**
 * When an end written as due for Flow triggers may be swept (engine/scheduler/flow-triggers.ts): the
 * process that ran it evaluates it within milliseconds and clears the mark; only one that died or
 * lost its database meanwhile leaves it for the sweep.
 */
export const FLOW_TRIGGERS_SWEEP_AFTER_S = 30;
const FLOW_TRIGGERS_DUE = sql`now() + ${`${FLOW_TRIGGERS_SWEEP_AFTER_S} seconds`}::interval`;

/** When an end is due for Flow triggers: after the local evaluator's grace (`later`), or at once (`now`). */
export type FlowTriggersDue = 'later' | 'now';

/** Executions, task runs and logs in the database: the executor's only persistence. */
export class ExecutionRepository {
  constructor(private readonly db: Db) {}

  async saveExecution(execution: Execution): Promise<void> {
    await upsertExecution(this.db, execution);
  }

  /**
   * Stores a new execution already leased by `owner` (fencing token 1): the process that creates it
   * runs it, and no worker can claim it in between.
   */
  async insertLeased(execution: Execution, owner: string, leaseMs: number): Promise<Lease> {
    await this.db.insert(executions).values({
      ...executionRow(execution),
      leaseOwner: owner,
      leaseToken: 1,
      leaseExpiresAt: sql`now() + ${`${leaseMs} milliseconds`}::interval`,
    });
    return { executionId: execution.id, owner, token: 1 };
  }

  async saveTaskRun(taskRun: TaskRun, seq: number): Promise<void> {
    await this.saveTaskRuns([{ taskRun, seq }]);
  }

  /** Upserts many task runs in one statement (the executor's write-behind batches). */
  async saveTaskRuns(batch: readonly { taskRun: TaskRun; seq: number }[]): Promise<void> {
    await upsertTaskRuns(this.db, batch);
  }

  /**
   * One write-behind batch: task runs first, then the execution row. With a `lease` (a run under a
   * lease), one statement does it all only if the lease's token still holds (renewing it): a run that
   * lost its lease writes nothing at all (LeaseLostError), and the batch costs one round trip.
   * `endLease`: the execution is terminal, so the same statement lets the lease go (owner and expiry
   * cleared, the token kept: writes after the end, such as `afterExecution` tasks, stay fenced) and
   * the run needs no release of its own. `flowTriggersDue`: the execution ends here and Flow triggers
   * may react to it: its row is marked so, in the same statement (see FLOW_TRIGGERS_SWEEP_AFTER_S).
   */
  async saveBatch(
    batch: readonly { taskRun: TaskRun; seq: number }[],
    execution: Execution | undefined,
    lease?: { lease: Lease; leaseMs: number; endLease?: boolean },
    options: { flowTriggersDue?: boolean } = {},
  ): Promise<void> {
    if (!lease) {
      await upsertTaskRuns(this.db, batch);
      if (execution) await upsertExecution(this.db, execution, options.flowTriggersDue ? 'later' : undefined);
      return;
    }
    const { executionId, token } = lease.lease;
    const sets = lease.endLease
      ? [sql`lease_owner = null`, sql`lease_expires_at = null`]
      : [sql`lease_expires_at = now() + ${`${lease.leaseMs} milliseconds`}::interval`];
    if (execution) {
      const row = executionRow(execution);
      sets.push(
        sql`state = ${row.state}`,
        sql`state_detail = ${JSON.stringify(row.stateDetail)}::jsonb`,
        sql`end_date = ${row.endDate ?? null}::timestamptz`,
        sql`inputs = ${JSON.stringify(row.inputs ?? {})}::jsonb`,
        sql`outputs = ${row.outputs === null || row.outputs === undefined ? null : JSON.stringify(row.outputs)}::jsonb`,
        sql`labels = ${JSON.stringify(row.labels ?? [])}::jsonb`,
        sql`attempt_number = ${row.attemptNumber ?? 1}::int`,
      );
      if (options.flowTriggersDue) sets.push(sql`flow_triggers_due_at = ${FLOW_TRIGGERS_DUE}`);
    }
    const runs = batch.length
      ? sql`, runs as (
          insert into task_runs (id, execution_id, task_id, parent_task_run_id, value, iteration, state, state_detail, attempts, outputs, seq, start_date, end_date)
          select v.* from (values ${sql.join(batch.map(({ taskRun, seq }) => taskRunValues(taskRunRow(taskRun, seq))), sql`, `)})
            as v(id, execution_id, task_id, parent_task_run_id, value, iteration, state, state_detail, attempts, outputs, seq, start_date, end_date)
          where exists (select 1 from e)
          on conflict (id) do update set state = excluded.state, state_detail = excluded.state_detail, attempts = excluded.attempts,
            outputs = excluded.outputs, end_date = excluded.end_date, seq = excluded.seq
          returning 1)`
      : sql``;
    const result = await this.db.execute(sql`
      with e as (update executions set ${sql.join(sets, sql`, `)} where id = ${executionId} and lease_token = ${token} returning id)${runs}
      select (select count(*) from e)::int as held`);
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ held: number }>;
    if (!rows[0] || Number(rows[0].held) === 0) throw new LeaseLostError(lease.lease);
  }

  /**
   * Claims up to `limit` ends still due for Flow triggers past their time, oldest first, skipping rows
   * another process is claiming: each is pushed `leaseSeconds` ahead, so nobody else evaluates it
   * meanwhile and a claimer that dies leaves it to the next sweep. Task runs are not loaded.
   */
  async claimFlowTriggersDue(limit: number, leaseSeconds: number): Promise<Execution[]> {
    const due = this.db
      .select({ id: executions.id })
      .from(executions)
      .where(lte(executions.flowTriggersDueAt, sql`now()`))
      .orderBy(asc(executions.flowTriggersDueAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    const rows = await this.db
      .update(executions)
      .set({ flowTriggersDueAt: sql`now() + ${`${leaseSeconds} seconds`}::interval` })
      .where(inArray(executions.id, due))
      .returning();
    return rows.map((row) => fromRows(row, []));
  }

  /** These ends were evaluated for Flow triggers. */
  async clearFlowTriggersDue(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.update(executions).set({ flowTriggersDueAt: null }).where(inArray(executions.id, [...ids]));
  }

  /** Whether the Flow trigger `triggerId` of a flow has already started an execution after `upstreamId`. */
  async flowTriggered(namespace: string, flowId: string, triggerId: string, upstreamId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ id: executions.id })
      .from(executions)
      .where(and(
        eq(executions.namespace, namespace),
        eq(executions.flowId, flowId),
        sql`${executions.trigger}->>'executionId' = ${upstreamId}`,
        sql`${executions.trigger}->>'id' = ${triggerId}`,
      ))
      .limit(1);
    return row !== undefined;
  }

  /**
   * Stores a whole execution in one transaction: its row, its task runs numbered in list order, and
   * the removal of task runs it no longer has (a restart drops error branches). Used when an
   * execution is (re)built outside a walk: restart, replay, killing an orphan. `flowTriggersDue`:
   * an end stored this way is marked due for Flow triggers, for this process to clear (`later`) or
   * for the next sweep anywhere (`now`).
   */
  async replaceExecution(execution: Execution, removedTaskRunIds: readonly string[] = [], options: { flowTriggersDue?: FlowTriggersDue } = {}): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (removedTaskRunIds.length) {
        await tx.delete(taskRuns).where(and(eq(taskRuns.executionId, execution.id), inArray(taskRuns.id, [...removedTaskRunIds])));
      }
      await upsertExecution(tx, { ...execution, taskRunList: [] }, options.flowTriggersDue);
      await upsertTaskRuns(tx, execution.taskRunList.map((taskRun, seq) => ({ taskRun, seq })));
    });
  }

  /** Appends log lines in one statement; resolves to them with their ids, in id order. */
  async appendLogs(entries: readonly LogEntry[]): Promise<StoredLogEntry[]> {
    if (entries.length === 0) return [];
    const rows = await this.db
      .insert(logs)
      .values(
        entries.map((e) => ({
          executionId: e.executionId,
          taskRunId: e.taskRunId,
          taskId: e.taskId,
          attemptNumber: e.attemptNumber,
          timestamp: e.timestamp,
          level: e.level,
          message: e.message,
        })),
      )
      .returning();
    return rows.map(fromLogRow).sort((a, b) => a.id - b.id);
  }

  async findExecution(id: string): Promise<Execution | undefined> {
    const [row] = await this.db.select().from(executions).where(eq(executions.id, id));
    if (!row) return undefined;
    const runs = await this.db
      .select()
      .from(taskRuns)
      .where(eq(taskRuns.executionId, id))
      .orderBy(asc(taskRuns.seq));
    return fromRows(row, runs);
  }

  /**
   * An execution from a row already read (a claim returns it): its task runs are read only when it can
   * have some (a CREATED execution has none), so starting a new execution costs no read at all.
   */
  async executionFromRow(row: ExecutionRow): Promise<Execution> {
    if (row.state === 'CREATED') return fromRows(row, []);
    const runs = await this.db.select().from(taskRuns).where(eq(taskRuns.executionId, row.id)).orderBy(asc(taskRuns.seq));
    return fromRows(row, runs);
  }

  /** The current state of an execution, without loading it. */
  async findState(id: string): Promise<StateType | undefined> {
    const [row] = await this.db.select({ state: executions.state }).from(executions).where(eq(executions.id, id));
    return row?.state as StateType | undefined;
  }

  /** Where an execution's files live and which executions it came from, without its task runs. */
  async findLineage(id: string): Promise<{ namespace: string; flowId: string; originalId: string | null; parentExecutionId: string | null } | undefined> {
    const [row] = await this.db
      .select({ namespace: executions.namespace, flowId: executions.flowId, originalId: executions.originalId, parentExecutionId: executions.parentExecutionId })
      .from(executions)
      .where(eq(executions.id, id));
    return row;
  }

  /**
   * One page of executions, newest start first, and how many match in all. The common filters
   * (state, flow, start date) are served by the indexes on `executions`; the page is fetched with
   * LIMIT/OFFSET and its task runs, when asked for, in one query.
   */
  async search(filter: ExecutionSearch = {}): Promise<{ results: Execution[]; total: number }> {
    const conditions: SQL[] = [];
    if (filter.namespace) {
      conditions.push(or(eq(executions.namespace, filter.namespace), like(executions.namespace, `${escapeLike(filter.namespace)}.%`))!);
    }
    if (filter.flowId) conditions.push(eq(executions.flowId, filter.flowId));
    if (filter.state?.length) conditions.push(inArray(executions.state, [...filter.state]));
    if (filter.startDate) conditions.push(gte(executions.startDate, filter.startDate));
    if (filter.endDate) conditions.push(lte(executions.endDate, filter.endDate));
    for (const [key, value] of Object.entries(filter.labels ?? {})) {
      conditions.push(sql`${executions.labels} @> ${JSON.stringify([{ key, value }])}::jsonb`);
    }
    const where = conditions.length ? and(...conditions) : undefined;
    const size = Math.min(Math.max(filter.size ?? 25, 1), 1000);
    const page = Math.max(filter.page ?? 1, 1);
    const [{ total }] = await this.db.select({ total: count() }).from(executions).where(where);
    const rows = await this.db
      .select()
      .from(executions)
      .where(where)
      .orderBy(desc(executions.startDate), desc(executions.id))
      .limit(size)
      .offset((page - 1) * size);
    const runsByExecution = new Map<string, TaskRunRow[]>();
    if (filter.withTaskRuns && rows.length) {
      const runs = await this.db
        .select()
        .from(taskRuns)
        .where(inArray(taskRuns.executionId, rows.map((r) => r.id)))
        .orderBy(asc(taskRuns.executionId), asc(taskRuns.seq));
      for (const run of runs) {
        const list = runsByExecution.get(run.executionId);
        if (list) list.push(run);
        else runsByExecution.set(run.executionId, [run]);
      }
    }
    return { total: Number(total), results: rows.map((row) => fromRows(row, runsByExecution.get(row.id) ?? [])) };
  }

  /** How many executions are in each state (states without any are absent). */
  async countByState(): Promise<Partial<Record<StateType, number>>> {
    const rows = await this.db.select({ state: executions.state, n: count() }).from(executions).groupBy(executions.state);
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Logs of an execution in write order; `afterId` resumes a follow. */
  async findLogs(
    executionId: string,
    filter: { minLevel?: LogLevel; taskId?: string; taskRunId?: string; attemptNumber?: number; afterId?: number; limit?: number } = {},
  ): Promise<StoredLogEntry[]> {
    const conditions = [eq(logs.executionId, executionId)];
    if (filter.minLevel) conditions.push(inArray(logs.level, LOG_LEVELS.slice(LOG_LEVELS.indexOf(filter.minLevel))));
    if (filter.taskId) conditions.push(eq(logs.taskId, filter.taskId));
    if (filter.taskRunId) conditions.push(eq(logs.taskRunId, filter.taskRunId));
    if (filter.attemptNumber !== undefined) conditions.push(eq(logs.attemptNumber, filter.attemptNumber));
    if (filter.afterId !== undefined) conditions.push(gt(logs.id, filter.afterId));
    const query = this.db.select().from(logs).where(and(...conditions)).orderBy(asc(logs.id));
    const rows = filter.limit ? await query.limit(filter.limit) : await query;
    return rows.map(fromLogRow);
  }
}

async function upsertExecution(db: Db, execution: Execution, flowTriggersDue?: FlowTriggersDue): Promise<void> {
  const row = executionRow(execution);
  const due = flowTriggersDue ? { flowTriggersDueAt: flowTriggersDue === 'now' ? sql`now()` : FLOW_TRIGGERS_DUE } : {};
  await db
    .insert(executions)
    .values({ ...row, ...due })
    .onConflictDoUpdate({
      target: executions.id,
      set: {
        state: row.state,
        stateDetail: row.stateDetail,
        endDate: row.endDate,
        inputs: row.inputs,
        outputs: row.outputs,
        labels: row.labels,
        attemptNumber: row.attemptNumber,
        ...due,
      },
    });
}

async function upsertTaskRuns(db: Db, batch: readonly { taskRun: TaskRun; seq: number }[]): Promise<void> {
  if (batch.length === 0) return;
  await db
    .insert(taskRuns)
    .values(batch.map(({ taskRun, seq }) => taskRunRow(taskRun, seq)))
    .onConflictDoUpdate({
      target: taskRuns.id,
      set: {
        state: sql`excluded.state`,
        stateDetail: sql`excluded.state_detail`,
        attempts: sql`excluded.attempts`,
        outputs: sql`excluded.outputs`,
        endDate: sql`excluded.end_date`,
        // A restart renumbers the kept task runs after removing others.
        seq: sql`excluded.seq`,
      },
    });
}

function executionRow(e: Execution): typeof executions.$inferInsert {
  return {
    id: e.id,
    namespace: e.namespace,
    flowId: e.flowId,
    flowRevision: e.flowRevision,
    state: e.state.current,
    stateDetail: e.state,
    startDate: e.state.startDate,
    endDate: e.state.endDate ?? null,
    inputs: e.inputs,
    outputs: e.outputs,
    labels: e.labels,
    variables: e.variables,
    trigger: e.trigger,
    originalId: e.originalId,
    parentExecutionId: e.parentExecutionId,
    parentTaskRunId: e.parentTaskRunId,
    commitSha: e.commitSha,
    attemptNumber: e.attemptNumber,
  };
}

/** A task run as one typed row of a VALUES list (see saveBatch). */
function taskRunValues(r: typeof taskRuns.$inferInsert) {
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
  return sql`(${r.id}::text, ${r.executionId}::text, ${r.taskId}::text, ${r.parentTaskRunId ?? null}::text, ${r.value ?? null}::text,
    ${r.iteration ?? null}::int, ${r.state}::text, ${json(r.stateDetail)}::jsonb, ${json(r.attempts ?? [])}::jsonb, ${json(r.outputs)}::jsonb,
    ${r.seq}::int, ${r.startDate}::timestamptz, ${r.endDate ?? null}::timestamptz)`;
}

function taskRunRow(t: TaskRun, seq: number): typeof taskRuns.$inferInsert {
  return {
    id: t.id,
    executionId: t.executionId,
    taskId: t.taskId,
    parentTaskRunId: t.parentTaskRunId,
    value: t.value,
    iteration: t.iteration,
    state: t.state.current,
    stateDetail: t.state,
    attempts: t.attempts,
    outputs: t.outputs,
    seq,
    startDate: t.state.startDate,
    endDate: t.state.endDate ?? null,
  };
}

function fromRows(row: ExecutionRow, runs: TaskRunRow[]): Execution {
  return {
    id: row.id,
    namespace: row.namespace,
    flowId: row.flowId,
    flowRevision: row.flowRevision,
    state: row.stateDetail as State,
    inputs: (row.inputs ?? {}) as Record<string, unknown>,
    outputs: (row.outputs ?? null) as Record<string, unknown> | null,
    labels: (row.labels ?? []) as Execution['labels'],
    variables: (row.variables ?? null) as Record<string, unknown> | null,
    trigger: (row.trigger ?? null) as Record<string, unknown> | null,
    originalId: row.originalId,
    parentExecutionId: row.parentExecutionId,
    parentTaskRunId: row.parentTaskRunId,
    commitSha: row.commitSha,
    attemptNumber: row.attemptNumber,
    taskRunList: runs.map((r) => ({
      id: r.id,
      executionId: r.executionId,
      namespace: row.namespace,
      flowId: row.flowId,
      taskId: r.taskId,
      parentTaskRunId: r.parentTaskRunId,
      value: r.value,
      iteration: r.iteration,
      state: r.stateDetail as State,
      attempts: r.attempts as TaskRun['attempts'],
      outputs: (r.outputs ?? null) as Record<string, unknown> | null,
    })),
  };
}

function fromLogRow(r: LogRow): StoredLogEntry {
  return {
    id: r.id,
    executionId: r.executionId,
    taskRunId: r.taskRunId,
    taskId: r.taskId,
    attemptNumber: r.attemptNumber,
    timestamp: toIsoTimestamp(r.timestamp),
    level: r.level as LogLevel,
    message: r.message,
  };
}
