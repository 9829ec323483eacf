/**
 * Flow triggers: when an execution changes state, every live flow whose Flow trigger listens to that
 * change gets an execution. Runs in each process that runs executions, on the changes of its own
 * executions, so each change is evaluated once however many processes share the database.
 *
 * Preconditions collect the upstream executions they need in a time window stored in
 * `flow_trigger_windows`, changed under the row's lock: two upstream executions ending at the same
 * moment in two processes cannot both see "all met" and start the downstream flow twice.
 *
 * Ends are not lost with the process that ran them: while a Flow trigger is live, an execution's end
 * is written marked as due for Flow triggers (in the statement that stores the end), and the mark is
 * cleared once it was evaluated here. Marks left by a process that died, or by an evaluation the
 * database interrupted, are claimed by a sweep in any process running executions and evaluated again,
 * skipping the triggers that had already started their execution for that end.
 */
import { and, eq, sql } from 'drizzle-orm';
import { flowTriggerWindows, toIsoTimestamp, type Db } from '../../db/index.ts';
import type { Engine, Execution } from '../executor/index.ts';
import { labelsToMap } from '../executor/model.ts';
import { isTerminal } from '../state.ts';
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
  /** How often ends left due are looked for (default 10 s; 0: never, tests sweep by hand). */
  sweepMs?: number;
}

/** How long a sweep's claim on an end lasts before another sweep may evaluate it again. */
const SWEEP_CLAIM_SECONDS = 300;
/** Ends claimed per sweep round. */
const SWEEP_BATCH = 20;
const DEFAULT_SWEEP_MS = 10_000;
/** Cleared marks of a few milliseconds go out in one statement. */
const CLEAR_BATCH_MS = 5;

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
  private unwatch: (() => void) | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  private readonly toClear = new Set<string>();
  /** Ends of this engine's executions stored as due or evaluated, waiting for the other (see endMet). */
  private readonly endsHalfway = new Map<string, 'evaluated' | 'marked'>();
  private clearing: Promise<void> | undefined;
  private readonly now: () => Date;

  constructor(private readonly options: FlowTriggerOptions) {
    this.live = new LiveTriggers(options.flows, isFlowTrigger, options.flowsMaxAgeMs ?? DEFAULT_FLOWS_MAX_AGE_MS);
    this.now = options.now ?? (() => new Date());
  }

  /** Listens to the engine's executions; marks their ends due while a Flow trigger is live; sweeps. */
  start(): void {
    const { engine } = this.options;
    this.unsubscribe ??= engine.onExecution((execution) => this.observe(execution));
    this.unwatch ??= engine.watchEndsForFlowTriggers({
      watching: () => this.live.mayHaveAny(),
      marked: (id) => this.endMet(id, 'marked'),
    });
    const sweepMs = this.options.sweepMs ?? DEFAULT_SWEEP_MS;
    if (sweepMs > 0 && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => void this.sweep().catch((error: unknown) => this.options.log?.('warn', `flow triggers: sweep failed: ${(error as Error).message}`)), sweepMs);
      this.sweepTimer.unref();
    }
  }

  /** Stops listening and waits for the evaluations and the executions they started. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.sweeping?.catch(() => undefined);
    await this.idle();
    await this.flushClears();
  }

  /**
   * Evaluates ends left due (their process died before evaluating them, or the database failed it):
   * claims a batch at a time, evaluates each, clears what was evaluated. Resolves to how many it
   * evaluated. One sweep at a time per process; claims keep processes apart.
   */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    const { repository } = this.options.engine.resources;
    let evaluated = 0;
    for (;;) {
      const due = await repository.claimFlowTriggersDue(SWEEP_BATCH, SWEEP_CLAIM_SECONDS);
      if (due.length === 0) return evaluated;
      const done: string[] = [];
      for (const execution of due) {
        this.options.log?.('info', `flow triggers: evaluating the end of execution ${execution.id} (${execution.state.current}) left unevaluated`);
        if (await this.evaluate(execution, { recovering: true })) done.push(execution.id);
      }
      await repository.clearFlowTriggersDue(done);
      evaluated += done.length;
      if (due.length < SWEEP_BATCH) return evaluated;
    }
  }

  /** Resolves once every evaluation so far, and every execution it started, has ended and its end is cleared. */
  async idle(): Promise<void> {
    while (this.pending.size || this.clearing) {
      await Promise.allSettled([...this.pending]);
      await this.clearing;
    }
  }

  private observe(execution: Execution): void {
    const key = `${execution.id}:${execution.attemptNumber}:${execution.state.current}`;
    // Kestra: a Flow trigger cannot react to CREATED, which is not a transition.
    if (execution.state.current === 'CREATED' || this.handled.has(key)) return;
    this.handled.add(key);
    if (this.handled.size > HANDLED_MEMORY) this.handled.delete(this.handled.values().next().value!);
    if (!isTerminal(execution.state.current)) {
      this.track(this.evaluate(execution));
      return;
    }
    this.track(
      this.evaluate(execution).then((complete) => {
        if (complete) this.endMet(execution.id, 'evaluated');
        else this.endsHalfway.delete(execution.id);
      }),
    );
  }

  /**
   * An end is cleared once it was both stored as due and evaluated, whichever comes first: the
   * evaluation starts at the state change, before the write-behind stores it.
   */
  private endMet(id: string, event: 'evaluated' | 'marked'): void {
    const other = this.endsHalfway.get(id);
    if (other !== undefined && other !== event) {
      this.endsHalfway.delete(id);
      this.clearLater(id);
      return;
    }
    // Evaluated with no Flow trigger live: its end was not marked either (or, in a race, the sweep clears it).
    if (event === 'evaluated' && !this.live.mayHaveAny()) return;
    this.endsHalfway.set(id, event);
    if (this.endsHalfway.size > HANDLED_MEMORY) this.endsHalfway.delete(this.endsHalfway.keys().next().value!);
  }

  /** Clears the due marks of evaluated ends, a few milliseconds' worth in one statement. */
  private clearLater(id: string): void {
    this.toClear.add(id);
    this.clearing ??= new Promise((resolve) => setTimeout(resolve, CLEAR_BATCH_MS)).then(() => this.flushClears());
  }

  private async flushClears(): Promise<void> {
    const ids = [...this.toClear];
    this.toClear.clear();
    this.clearing = undefined;
    // A failure leaves the marks: the sweep evaluates those ends again, skipping what already fired.
    await this.options.engine.resources.repository.clearFlowTriggersDue(ids).catch((error: unknown) =>
      this.options.log?.('warn', `flow triggers: could not clear ${ids.length} evaluated end(s): ${(error as Error).message}`),
    );
  }

  private track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => this.options.log?.('error', `flow triggers: ${(error as Error).message}`))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /**
   * Evaluates every Flow trigger of every live flow against one state change. Resolves to whether the
   * evaluation is complete: false when something other than the trigger's own definition failed (the
   * database), so the end stays due. `recovering`: the end may have been evaluated before (a sweep),
   * so a trigger that already started its execution for it, or already recorded it in its window, is
   * skipped.
   */
  async evaluate(execution: Execution, options: { recovering?: boolean } = {}): Promise<boolean> {
    let triggers: LiveTrigger[];
    try {
      triggers = await this.live.load();
    } catch (error) {
      this.options.log?.('warn', `flow triggers: cannot read the live flows for execution ${execution.id}: ${(error as Error).message}`);
      return false;
    }
    if (triggers.length === 0) return true;
    const upstream: UpstreamExecution = {
      id: execution.id,
      namespace: execution.namespace,
      flowId: execution.flowId,
      flowRevision: execution.flowRevision,
      state: execution.state.current,
      labels: labelsToMap(execution.labels),
      outputs: execution.outputs,
    };
    let complete = true;
    for (const live of triggers) {
      if (live.flow.disabled === true || live.trigger.disabled === true) continue;
      try {
        await this.evaluateOne(live, upstream, options.recovering ?? false);
      } catch (error) {
        const reason = error instanceof ConditionEvaluationError ? error.message : (error as Error).message;
        // A condition that cannot be evaluated is the flow's problem and will not change on retry.
        if (!(error instanceof ConditionEvaluationError)) complete = false;
        this.options.log?.('warn', `flow trigger ${live.key.namespace}.${live.key.flowId}.${live.key.triggerId} on execution ${upstream.id}: ${reason}`);
      }
    }
    return complete;
  }

  private async evaluateOne(live: LiveTrigger, upstream: UpstreamExecution, recovering: boolean): Promise<void> {
    const { engine } = this.options;
    const now = this.now();
    const context = { flow: live.flow, revision: live.revision, services: triggerTemplateServices(engine.resources, live.flow.namespace), now };
    if (!(await flowTriggerListens(live.trigger, upstream, context))) return;
    const { key } = live;
    if (recovering && (await engine.resources.repository.flowTriggered(key.namespace, key.flowId, key.triggerId, upstream.id))) return;
    const preconditions = preconditionsOf(live.trigger);
    if (preconditions) {
      const met = await preconditionsMet(live.trigger, upstream, context);
      if (met.length === 0) return;
      const fire = await this.recordWindow(live, met, upstream, now, recovering);
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
  private async recordWindow(live: LiveTrigger, metNow: string[], upstream: UpstreamExecution, now: Date, recovering: boolean): Promise<boolean> {
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
      // Evaluated again after a crash: what this end met is in the window already, unless it was used up.
      const met = recovering ? metNow.filter((id) => stored?.met[id]?.executionId !== upstream.id) : metNow;
      if (met.length === 0) return false;
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
