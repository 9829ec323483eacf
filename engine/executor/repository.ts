import { and, asc, count, desc, eq, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { inNamespaceOrBelow, pageWindow, type Db } from '../../db/index.ts';
import { executions, taskRuns } from '../../db/schema.ts';
import type { LogEntry, LogLevel } from '../logs/types.ts';
import { STATES, isTerminal, type State, type StateType } from '../state.ts';
import type { Execution, TaskRun } from './model.ts';
import { LeaseLostError, type Lease } from '../queue/index.ts';
import { laterTurn } from '../event-loop-turns.ts';
import { LogReadModel } from '../read-model/index.ts';

type ExecutionRow = typeof executions.$inferSelect;
type TaskRunRow = typeof taskRuns.$inferSelect;

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

/**
 * Rows per statement. PostgreSQL (and PGlite) count a statement's parameters in 16 bits: past 65,535
 * the server refuses the bind message ("bind message has N parameter formats but 0 parameters"). A
 * task run is 13 parameters, a log line 7, an id 1: every list is written in statements this size,
 * whatever its length (a ForEach over ten thousand values is ten statements, never one).
 */
const TASK_RUNS_PER_STATEMENT = 200;
/**
 * Log lines travel as one JSON parameter per statement (see insertLogs), so this bounds the time a
 * statement holds the event loop (building it, and on the embedded database running it), not its
 * parameter count.
 */
const LOGS_PER_STATEMENT = 1_000;
const IDS_PER_STATEMENT = 10_000;

/** `items` in consecutive slices of at most `size`. */
function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Task-run states that are not terminal: what an execution's end leaves to end with it. */
const UNFINISHED_STATES = STATES.filter((s) => !isTerminal(s));

/**
 * Who may end an execution with `endExecution`: the holder of `lease` (its token still current);
 * `orphan`: anyone, only while no live lease holds it (an execution nobody runs, killed through the
 * API); `unleased`: the run of a process without leases (`baton run`, tests).
 */
export type EndFence = { lease: Lease } | 'orphan' | 'unleased';

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
    // A batch too large for one statement (thousands of task runs created at once): the task runs go
    // first, a statement per slice, each fenced by the lease and renewing it; the last slice carries
    // the execution row, as a batch of usual size does in its one statement.
    const slices = chunked(batch, TASK_RUNS_PER_STATEMENT);
    for (const slice of slices.slice(0, -1)) {
      await this.saveFenced(slice, undefined, { ...lease, endLease: false }, {});
      await laterTurn();
    }
    await this.saveFenced(slices.at(-1) ?? [], execution, lease, options);
  }

  /** One statement of `saveBatch`: a slice of task runs and maybe the execution row, under the lease. */
  private async saveFenced(
    batch: readonly { taskRun: TaskRun; seq: number }[],
    execution: Execution | undefined,
    lease: { lease: Lease; leaseMs: number; endLease?: boolean },
    options: { flowTriggersDue?: boolean },
  ): Promise<void> {
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
      for (const ids of chunked(removedTaskRunIds, IDS_PER_STATEMENT)) {
        await tx.delete(taskRuns).where(and(eq(taskRuns.executionId, execution.id), inArray(taskRuns.id, ids)));
      }
      await upsertExecution(tx, { ...execution, taskRunList: [] }, options.flowTriggersDue);
      await upsertTaskRuns(tx, execution.taskRunList.map((taskRun, seq) => ({ taskRun, seq })));
    });
  }

  /**
   * Ends an execution in one statement, however many task runs it has: its row takes
   * `execution.state` (terminal) and lets its lease go; its stored task runs that have not ended take
   * `taskRunState`, their history extended. Nothing but states and dates is written, so an end can be
   * stored even when the execution's own data cannot (outputs the database refuses). Resolves false
   * when `fence` refused (the lease was lost; an orphan was claimed meanwhile, or has ended).
   */
  async endExecution(
    execution: Execution,
    taskRunState: 'FAILED' | 'KILLED',
    fence: EndFence,
    options: { flowTriggersDue?: FlowTriggersDue } = {},
  ): Promise<boolean> {
    const state = execution.state;
    const endDate = state.endDate ?? new Date().toISOString();
    const sets = [
      sql`state = ${state.current}`,
      sql`state_detail = ${JSON.stringify(state)}::jsonb`,
      sql`end_date = ${endDate}::timestamptz`,
      sql`lease_owner = null`,
      sql`lease_expires_at = null`,
      sql`kill_requested = false`,
    ];
    if (options.flowTriggersDue) sets.push(sql`flow_triggers_due_at = ${options.flowTriggersDue === 'now' ? sql`now()` : FLOW_TRIGGERS_DUE}`);
    const unfinished = sql`state in (${sql.join(UNFINISHED_STATES.map((s) => sql`${s}`), sql`, `)})`;
    let where = sql`id = ${execution.id}`;
    if (fence === 'orphan') {
      // Whoever held it last is fenced out: a process that comes back cannot write over the end.
      sets.push(sql`lease_token = lease_token + 1`);
      where = sql`${where} and ${unfinished} and (lease_expires_at is null or lease_expires_at < now())`;
    } else if (fence !== 'unleased') {
      where = sql`${where} and lease_token = ${fence.lease.token}`;
    }
    const history = sql`jsonb_build_array(jsonb_build_object('state', ${taskRunState}::text, 'date', ${endDate}::text))`;
    const result = await this.db.execute(sql`
      with e as (update executions set ${sql.join(sets, sql`, `)} where ${where} returning id),
      runs as (
        update task_runs set state = ${taskRunState}, end_date = ${endDate}::timestamptz,
          state_detail = state_detail || jsonb_build_object('current', ${taskRunState}::text, 'endDate', ${endDate}::text,
            'histories', coalesce(state_detail->'histories', '[]'::jsonb) || ${history})
        where execution_id = ${execution.id} and ${unfinished} and exists (select 1 from e)
        returning 1)
      select (select count(*) from e)::int as ended`);
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ ended: number }>;
    return Number(rows[0]?.ended ?? 0) > 0;
  }

  /** Appends log lines, all or none (a statement per LOGS_PER_STATEMENT); resolves to them with their ids, in id order. */
  async appendLogs(entries: readonly LogEntry[]): Promise<StoredLogEntry[]> {
    if (entries.length === 0) return [];
    if (entries.length > LOGS_PER_STATEMENT) {
      // All or nothing, as one statement would be: a caller that retries the batch stores no line twice.
      return this.db.transaction(async (tx) => {
        const stored: StoredLogEntry[] = [];
        for (const slice of chunked(entries, LOGS_PER_STATEMENT)) {
          // A flooding task's batch is many statements: timers and requests (/healthz) run between them.
          if (stored.length) await laterTurn();
          stored.push(...(await insertLogs(tx, slice)));
        }
        return stored;
      });
    }
    return insertLogs(this.db, entries);
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
      conditions.push(inNamespaceOrBelow(executions.namespace, filter.namespace));
    }
    if (filter.flowId) conditions.push(eq(executions.flowId, filter.flowId));
    if (filter.state?.length) conditions.push(inArray(executions.state, [...filter.state]));
    if (filter.startDate) conditions.push(gte(executions.startDate, filter.startDate));
    if (filter.endDate) conditions.push(lte(executions.endDate, filter.endDate));
    for (const [key, value] of Object.entries(filter.labels ?? {})) {
      conditions.push(sql`${executions.labels} @> ${JSON.stringify([{ key, value }])}::jsonb`);
    }
    const where = conditions.length ? and(...conditions) : undefined;
    const window = pageWindow(filter);
    const [{ total }] = await this.db.select({ total: count() }).from(executions).where(where);
    const rows = await this.db
      .select()
      .from(executions)
      .where(where)
      .orderBy(desc(executions.startDate), desc(executions.id))
      .limit(window.limit)
      .offset(window.offset);
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

  /** Logs of an execution in write order; `afterId` resumes a follow. Read through the read model, which the server uses too. */
  async findLogs(
    executionId: string,
    filter: { minLevel?: LogLevel; taskId?: string; taskRunId?: string; attemptNumber?: number; afterId?: number; limit?: number } = {},
  ): Promise<StoredLogEntry[]> {
    return new LogReadModel(this.db).entries(executionId, filter);
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
        // Stored whole again (a restart, a replay): a kill asked of its earlier run does not apply to this one.
        killRequested: false,
        ...due,
      },
    });
}

/**
 * Inserts log lines with one JSON parameter: drizzle's per-row statement building (thousands of
 * parameters, each checked and bound) was the longest hold of the event loop under a flooding task.
 * Ids come from the table's sequence in `ord` order, so the sorted ids returned match the entries in order.
 */
async function insertLogs(db: Db, entries: readonly LogEntry[]): Promise<StoredLogEntry[]> {
  const rows = JSON.stringify(entries.map((e) => [e.executionId, e.taskRunId, e.taskId, e.attemptNumber, e.timestamp, e.level, e.message]));
  const result = await db.execute(sql`
    insert into logs (execution_id, task_run_id, task_id, attempt_number, "timestamp", level, message)
    select r->>0, r->>1, r->>2, (r->>3)::int, (r->>4)::timestamptz, r->>5, r->>6
    from json_array_elements(${rows}::json) with ordinality as x(r, ord)
    order by ord
    returning id`);
  const ids = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ id: number | string }>;
  const sorted = ids.map((row) => Number(row.id)).sort((a, b) => a - b);
  if (sorted.length !== entries.length) throw new Error(`stored ${sorted.length} of ${entries.length} log lines`);
  return entries.map((entry, i) => ({ ...entry, id: sorted[i] }));
}

/** Upserts task runs, a statement per TASK_RUNS_PER_STATEMENT (see there), letting the event loop turn between them. */
async function upsertTaskRuns(db: Db, batch: readonly { taskRun: TaskRun; seq: number }[]): Promise<void> {
  const slices = chunked(batch, TASK_RUNS_PER_STATEMENT);
  for (const [index, slice] of slices.entries()) {
    if (index > 0) await laterTurn();
    await db
      .insert(taskRuns)
      .values(slice.map(({ taskRun, seq }) => taskRunRow(taskRun, seq)))
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

