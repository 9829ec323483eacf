import { and, count, desc, eq, gte, inArray, lte, type SQL } from 'drizzle-orm';
import { executions, inNamespaceOrBelow, pageWindow, toIsoTimestamp, type Db } from '../../db/index.ts';
import { isState, type StateType } from '../state.ts';

/** Filters of the executions list. */
export interface ExecutionListFilter {
  /** The namespace and the ones below it (Kestra's namespace filter). */
  namespace?: string;
  flowId?: string;
  state?: StateType;
  /** ISO instants bounding the start date. */
  from?: string;
  to?: string;
  /** From 1. */
  page?: number;
  size?: number;
}

/** An execution as lists show it: its row's columns, without inputs, outputs or task runs. */
export interface ExecutionSummary {
  id: string;
  namespace: string;
  flowId: string;
  flowRevision: number;
  state: StateType;
  /** ISO instants. */
  startDate: string;
  endDate: string | null;
  labels: { key: string; value: string }[];
}

/** One execution of a flow's history: the summary, the commit it ran and whether a trigger started it. */
export interface FlowExecutionSummary extends ExecutionSummary {
  commitSha: string | null;
  triggered: boolean;
}

/** The newest execution of a flow: what a flow row's badge shows. */
export interface LatestExecution {
  id: string;
  state: StateType;
  startDate: string;
}

/** Lists go up to this many rows a page. */
const MAX_PAGE_SIZE = 1000;

const SUMMARY_COLUMNS = {
  id: executions.id,
  namespace: executions.namespace,
  flowId: executions.flowId,
  flowRevision: executions.flowRevision,
  state: executions.state,
  startDate: executions.startDate,
  endDate: executions.endDate,
  labels: executions.labels,
};

/**
 * The executions as readers (the dashboard and /metrics) see them: pages of
 * summaries, counts and states, each read with only the columns it shows.
 */
export class ExecutionReadModel {
  constructor(private readonly db: Db) {}

  /**
   * One page of executions, newest first. Reads `size + 1` rows instead of counting, so a page costs
   * the same with 10 or 10 million executions (the start-date and flow indexes serve the order and filters).
   */
  async list(filter: ExecutionListFilter): Promise<{ rows: ExecutionSummary[]; hasNext: boolean }> {
    const where: SQL[] = [];
    if (filter.namespace) where.push(inNamespaceOrBelow(executions.namespace, filter.namespace));
    if (filter.flowId) where.push(eq(executions.flowId, filter.flowId));
    if (filter.state) where.push(eq(executions.state, filter.state));
    if (filter.from) where.push(gte(executions.startDate, filter.from));
    if (filter.to) where.push(lte(executions.startDate, filter.to));
    const window = pageWindow(filter, { maxSize: MAX_PAGE_SIZE });
    const rows = await this.db
      .select(SUMMARY_COLUMNS)
      .from(executions)
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(executions.startDate), desc(executions.id))
      .limit(window.limit + 1)
      .offset(window.offset);
    return { hasNext: rows.length > window.size, rows: rows.slice(0, window.size).map(summaryOf) };
  }

  /** One flow's executions (exactly this namespace), newest first, and how many it has in all. */
  async ofFlow(namespace: string, flowId: string, paging: { page?: number; size?: number }): Promise<{ rows: FlowExecutionSummary[]; total: number }> {
    const where = and(eq(executions.namespace, namespace), eq(executions.flowId, flowId));
    const window = pageWindow(paging, { maxSize: MAX_PAGE_SIZE });
    const [{ total }] = await this.db.select({ total: count() }).from(executions).where(where);
    const rows = await this.db
      .select({ ...SUMMARY_COLUMNS, commitSha: executions.commitSha, trigger: executions.trigger })
      .from(executions)
      .where(where)
      .orderBy(desc(executions.startDate), desc(executions.createdAt))
      .limit(window.limit)
      .offset(window.offset);
    return {
      total: Number(total),
      rows: rows.map((r) => ({ ...summaryOf(r), commitSha: r.commitSha, triggered: Boolean(r.trigger) })),
    };
  }

  /** The newest execution of every flow of these namespaces, keyed `namespace/flowId`, in one DISTINCT ON query. */
  async latestOfFlows(namespaces: readonly string[]): Promise<Map<string, LatestExecution>> {
    const unique = [...new Set(namespaces)];
    if (unique.length === 0) return new Map();
    const rows = await this.db
      .selectDistinctOn([executions.namespace, executions.flowId], {
        namespace: executions.namespace,
        flowId: executions.flowId,
        id: executions.id,
        state: executions.state,
        startDate: executions.startDate,
      })
      .from(executions)
      .where(inArray(executions.namespace, unique))
      .orderBy(executions.namespace, executions.flowId, desc(executions.startDate), desc(executions.createdAt));
    return new Map(rows.map((r) => [`${r.namespace}/${r.flowId}`, { id: r.id, state: stateOf(r.state), startDate: toIsoTimestamp(r.startDate) }]));
  }

  /** The stored state of an execution (its row's, which a run here writes behind), or undefined when there is none. */
  async state(id: string): Promise<StateType | undefined> {
    const [row] = await this.db.select({ state: executions.state }).from(executions).where(eq(executions.id, id));
    return row && isState(row.state) ? row.state : undefined;
  }

  /** How many executions are in each state (states without any are absent). */
  async countByState(): Promise<Partial<Record<StateType, number>>> {
    const rows = await this.db.select({ state: executions.state, n: count() }).from(executions).groupBy(executions.state);
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }
}

/** A state column outside the state model (a row written by a newer version) reads as CREATED. */
function stateOf(value: string): StateType {
  return isState(value) ? value : 'CREATED';
}

function summaryOf(r: { [K in keyof typeof SUMMARY_COLUMNS]: (typeof executions.$inferSelect)[K] }): ExecutionSummary {
  return {
    id: r.id,
    namespace: r.namespace,
    flowId: r.flowId,
    flowRevision: r.flowRevision,
    state: stateOf(r.state),
    startDate: toIsoTimestamp(r.startDate),
    endDate: r.endDate ? toIsoTimestamp(r.endDate) : null,
    labels: Array.isArray(r.labels) ? (r.labels as { key: string; value: string }[]) : [],
  };
}
