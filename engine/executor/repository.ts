import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/index.ts';
import { executions, logs, taskRuns } from '../../db/schema.ts';
import { LOG_LEVELS, type LogEntry, type LogLevel } from '../logs/types.ts';
import type { State, StateType } from '../state.ts';
import type { Execution, TaskRun } from './model.ts';

type ExecutionRow = typeof executions.$inferSelect;
type TaskRunRow = typeof taskRuns.$inferSelect;

/** Executions, task runs and logs in the database: the executor's only persistence. */
export class ExecutionRepository {
  constructor(private readonly db: Db) {}

  async saveExecution(execution: Execution): Promise<void> {
    const row = executionRow(execution);
    await this.db
      .insert(executions)
      .values(row)
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
        },
      });
  }

  async saveTaskRun(taskRun: TaskRun, seq: number): Promise<void> {
    await this.saveTaskRuns([{ taskRun, seq }]);
  }

  /** Upserts many task runs in one statement (the executor's write-behind batches). */
  async saveTaskRuns(batch: readonly { taskRun: TaskRun; seq: number }[]): Promise<void> {
    if (batch.length === 0) return;
    await this.db
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
        },
      });
  }

  async appendLogs(entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.insert(logs).values(
      entries.map((e) => ({
        executionId: e.executionId,
        taskRunId: e.taskRunId,
        taskId: e.taskId,
        attemptNumber: e.attemptNumber,
        timestamp: e.timestamp,
        level: e.level,
        message: e.message,
      })),
    );
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

  /** Logs of an execution in write order; `afterId` resumes a follow. */
  async findLogs(
    executionId: string,
    filter: { minLevel?: LogLevel; taskId?: string; afterId?: number; limit?: number } = {},
  ): Promise<(LogEntry & { id: number })[]> {
    const conditions = [eq(logs.executionId, executionId)];
    if (filter.minLevel) conditions.push(inArray(logs.level, LOG_LEVELS.slice(LOG_LEVELS.indexOf(filter.minLevel))));
    if (filter.taskId) conditions.push(eq(logs.taskId, filter.taskId));
    if (filter.afterId !== undefined) conditions.push(gt(logs.id, filter.afterId));
    const query = this.db.select().from(logs).where(and(...conditions)).orderBy(asc(logs.id));
    const rows = filter.limit ? await query.limit(filter.limit) : await query;
    return rows.map((r) => ({
      id: r.id,
      executionId: r.executionId,
      taskRunId: r.taskRunId,
      taskId: r.taskId,
      attemptNumber: r.attemptNumber,
      timestamp: toIso(r.timestamp),
      level: r.level as LogLevel,
      message: r.message,
    }));
  }
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

function toIso(value: string): string {
  // Postgres returns "2024-01-01 10:00:00.123+00"; PGlite may too: normalise to ISO-8601.
  const d = new Date(value.includes('T') ? value : value.replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}

export type { StateType };
