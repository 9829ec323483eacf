/**
 * Flow triggers: when an execution changes state, every live flow whose Flow trigger listens to that
 * change gets an execution. Runs in each process that runs executions, on the changes of its own
 * executions, so each change is evaluated once however many processes share the database.
 *
 * Preconditions collect the upstream executions they need in a time window stored in
 * `flow_trigger_windows`, changed under the row's lock: two upstream executions ending at the same
 * moment in two processes cannot both see "all met" and start the downstream flow twice.
 */
import { and, eq, sql } from 'drizzle-orm';
import { flowTriggerWindows, toIsoTimestamp, type Db } from '../../db/index.ts';
import type { Engine, Execution } from '../executor/index.ts';
import { labelsToMap } from '../executor/model.ts';
import {
  ConditionEvaluationError, flowTriggerListens, flowTriggerStart, isFlowTrigger, preconditionsMet, preconditionsOf, recordInWindow,
  triggerTemplateServices, type UpstreamExecution, type WindowState,
} from '../triggers/index.ts';
import { LiveTriggers, type LiveFlowSource, type LiveTrigger } from './live-triggers.ts';
import type { SchedulerLog } from './scheduler.ts';

export interface FlowTriggerOptions {
  db: Db;
  engine: Engine;
  flows: LiveFlowSource;
  log?: SchedulerLog;
  now?: () => Date;
  /** How long the list of live Flow triggers is reused before it is read again (default 1 s). */
  flowsMaxAgeMs?: number;
}

/**
 * A push that adds or changes a Flow trigger takes effect within this long. Reading the list on every
 * state change would cost a query per change at hundreds of executions per second.
 */
const DEFAULT_FLOWS_MAX_AGE_MS = 1000;

/** How many state changes are remembered as handled (a change is announced more than once). */
const HANDLED_MEMORY = 10_000;

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export class FlowTriggerDispatcher {
  private readonly live: LiveTriggers;
  private readonly handled = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private unsubscribe: (() => void) | undefined;
  private readonly now: () => Date;

  constructor(private readonly options: FlowTriggerOptions) {
    this.live = new LiveTriggers(options.flows, isFlowTrigger, options.flowsMaxAgeMs ?? DEFAULT_FLOWS_MAX_AGE_MS);
    this.now = options.now ?? (() => new Date());
  }

  /** Listens to the engine's executions. */
  start(): void {
    this.unsubscribe ??= this.options.engine.onExecution((execution) => this.observe(execution));
  }

  /** Stops listening and waits for the evaluations and the executions they started. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.idle();
  }

  /** Resolves once every evaluation so far, and every execution it started, has ended. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private observe(execution: Execution): void {
    const key = `${execution.id}:${execution.attemptNumber}:${execution.state.current}`;
    // Kestra: a Flow trigger cannot react to CREATED, which is not a transition.
    if (execution.state.current === 'CREATED' || this.handled.has(key)) return;
    this.handled.add(key);
    if (this.handled.size > HANDLED_MEMORY) this.handled.delete(this.handled.values().next().value!);
    this.track(this.evaluate(execution));
  }

  private track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => this.options.log?.('error', `flow triggers: ${(error as Error).message}`))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** Evaluates every Flow trigger of every live flow against one state change. */
  async evaluate(execution: Execution): Promise<void> {
    const triggers = await this.live.load();
    if (triggers.length === 0) return;
    const upstream: UpstreamExecution = {
      id: execution.id,
      namespace: execution.namespace,
      flowId: execution.flowId,
      flowRevision: execution.flowRevision,
      state: execution.state.current,
      labels: labelsToMap(execution.labels),
      outputs: execution.outputs,
    };
    for (const live of triggers) {
      if (live.flow.disabled === true || live.trigger.disabled === true) continue;
      try {
        await this.evaluateOne(live, upstream);
      } catch (error) {
        const reason = error instanceof ConditionEvaluationError ? error.message : (error as Error).message;
        this.options.log?.('warn', `flow trigger ${live.key.namespace}.${live.key.flowId}.${live.key.triggerId} on execution ${upstream.id}: ${reason}`);
      }
    }
  }

  private async evaluateOne(live: LiveTrigger, upstream: UpstreamExecution): Promise<void> {
    const { engine } = this.options;
    const now = this.now();
    const context = { flow: live.flow, revision: live.revision, services: triggerTemplateServices(engine.resources, live.flow.namespace), now };
    if (!(await flowTriggerListens(live.trigger, upstream, context))) return;
    const preconditions = preconditionsOf(live.trigger);
    if (preconditions) {
      const met = await preconditionsMet(live.trigger, upstream, context);
      if (met.length === 0) return;
      const fire = await this.recordWindow(live, met, upstream, now);
      if (!fire) return;
    }
    const start = await flowTriggerStart(live.trigger, upstream, context);
    const run = await engine.create({
      flow: live.flow,
      revision: live.revision,
      commitSha: live.commitSha,
      inputs: start.inputs,
      labels: start.labels,
      trigger: start.variables,
    });
    this.options.log?.('info', `flow trigger ${live.key.flowId}.${live.key.triggerId} started execution ${run.execution.id} after ${upstream.namespace}.${upstream.flowId} ${upstream.id} (${upstream.state})`);
    this.track(engine.role.runsExecutions ? engine.run(run) : engine.start(run));
  }

  /** Adds the met preconditions to the trigger's window, under its row lock; true when all are met now. */
  private async recordWindow(live: LiveTrigger, met: string[], upstream: UpstreamExecution, now: Date): Promise<boolean> {
    const preconditions = preconditionsOf(live.trigger)!;
    const { db } = this.options;
    const where = and(
      eq(flowTriggerWindows.namespace, live.key.namespace),
      eq(flowTriggerWindows.flowId, live.key.flowId),
      eq(flowTriggerWindows.triggerId, live.key.triggerId),
    );
    return db.transaction(async (tx: Tx) => {
      const epoch = new Date(0).toISOString();
      // The row exists before it is locked, so two first executions serialize on it too.
      await tx
        .insert(flowTriggerWindows)
        .values({ ...live.key, windowStart: epoch, windowEnd: epoch, met: {} })
        .onConflictDoNothing();
      const [row] = await tx.select().from(flowTriggerWindows).where(where).for('update');
      const stored: WindowState | undefined = row
        ? { start: Date.parse(toIsoTimestamp(row.windowStart)), end: Date.parse(toIsoTimestamp(row.windowEnd)), met: row.met as WindowState['met'] }
        : undefined;
      const { fire, state } = recordInWindow(preconditions, stored, met, { id: upstream.id, date: now.toISOString() }, now.getTime());
      if (state) {
        await tx
          .update(flowTriggerWindows)
          .set({ windowStart: new Date(state.start).toISOString(), windowEnd: new Date(state.end).toISOString(), met: state.met, updatedAt: sql`now()` })
          .where(where);
      }
      return fire;
    });
  }
}
