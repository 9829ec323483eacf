import { LimitExceededError } from '../../config/index.ts';
import { isTransientDatabaseError, retryTransient } from '../../db/index.ts';
import type { FlowDef } from '../flow/types.ts';
import { encryptSecretInputs, resolveInputs } from '../inputs/index.ts';
import type { SubflowRequest, SubflowResult } from '../plugins/types.ts';
import { canTransition, isCreated, isFailure, isTerminal, isoDuration, newState, transition, type State, type StateType } from '../state.ts';
import { childUri, executionPrefix, inputPrefix } from '../storage/index.ts';
import { renderTyped } from '../template/index.ts';
import { newId } from '../ids.ts';
import { ExecutionNotFoundError, ExecutionStateError, FlowRevisionNotFoundError } from './errors.ts';
import { ExecutionRun, type RunHooks } from './execution-run.ts';
import type { LogListener, StoredLogListener } from './log-writer.ts';
import { TaskRunDurations } from './metrics.ts';
import { labelsToList, type Execution, type TaskRun } from './model.ts';
import { planReplay, planRestart } from './rerun-plan.ts';
import type { EngineResources } from './resources.ts';
import type { EndFence } from './repository.ts';
import { readablePrefixes, templateServices } from './task-context.ts';
import { ENDED_CHANNEL, type Lease } from '../queue/index.ts';

export interface ExecuteRequest {
  flow: FlowDef;
  /** Revision number of `flow` (1 for a file run locally). */
  revision?: number;
  commitSha?: string | null;
  /** Submitted input values (strings from forms/CLI, or native JSON). */
  inputs?: Record<string, unknown>;
  labels?: Record<string, string>;
  trigger?: Record<string, unknown>;
}

/**
 * Called with a snapshot of the execution after each state change of it or of one of its task runs.
 * The snapshot is the listener's to keep; it is taken only when someone listens.
 */
export type ExecutionListener = (execution: Execution) => void;

/**
 * Called once when this process ends an execution FAILED because of a fault rather than a task: a
 * write the database refused, an error the walk could not handle, or too many interruptions of the
 * processes running it. For the process's own log: the execution's log has the reason too.
 */
export type RunFailureListener = (executionId: string, reason: string) => void;

interface ParentLink {
  run: ExecutionRun;
  taskRun: TaskRun;
  readable: readonly string[];
}

interface Tracked {
  run: ExecutionRun;
  /** Resolves when `run()` has returned: terminal, `afterExecution` done, logs stored. */
  settled: Promise<void>;
  settle: () => void;
}

/**
 * Where this process runs executions. `runsExecutions: false` (server, scheduler): executions are
 * created and stored, and workers run them. `leaseOwner` (standalone, worker): every run here holds a
 * lease on its execution, renewed by heartbeat, so a crash hands the execution to another process and
 * a process that lost its lease cannot write. Neither (tests, `baton run`): runs here, without leases.
 */
export interface EngineRole {
  runsExecutions: boolean;
  leaseOwner?: string;
}

/** Flow revisions a worker keeps parsed (see claimedFlowOf). */
const MAX_CACHED_REVISIONS = 500;

/** How often a waiter that missed the ended notification looks at the database. */
const ENDED_POLL_MS = 500;

/** How far `readablePrefixesOf` follows replays of replays; beyond is a loop or a misuse. */
const MAX_LINEAGE = 32;

/** A Flow-trigger evaluator's view of the ends of executions (see Engine.watchEndsForFlowTriggers). */
export interface FlowTriggerWatch {
  /** Whether ends must be stored as due for Flow triggers now (a Flow trigger may be live). */
  watching(): boolean;
  /** The end of this execution was stored as due: the evaluator clears it once evaluated. */
  marked(executionId: string): void;
}

/**
 * The engine facade: creates executions, runs them, restarts, replays and kills them. One instance
 * per process; the systems it drives (executor walk, logs, storage, KV) share its resources.
 */
export class Engine {
  private readonly runs = new Map<string, Tracked>();
  private readonly children = new Map<string, Set<string>>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly executionListeners = new Set<ExecutionListener>();
  private readonly failureListeners = new Set<RunFailureListener>();
  /** Executions a restart is preparing; a second restart of one of them is refused. */
  private readonly restarting = new Set<string>();
  /** Durations of the task runs this process ran (the `/metrics` histogram). */
  readonly taskRunDurations = new TaskRunDurations();
  private readonly hooks: RunHooks = {
    startSubflow: (parent, taskRun, request) => this.startSubflow(parent, taskRun, request),
    changed: (execution) => this.notify(execution),
    taskRunEnded: (run) => this.observeTaskRun(run),
    flowTriggersWatching: () => [...this.flowTriggerWatches].some((watch) => watch.watching()),
    flowTriggersMarked: (id) => {
      for (const watch of this.flowTriggerWatches) watch.marked(id);
    },
  };
  private readonly flowTriggerWatches = new Set<FlowTriggerWatch>();

  /** Waiters for executions that end in another process, by id (woken by NOTIFY or a poll). */
  private readonly endWaiters = new Map<string, Set<() => void>>();
  private endedSubscription: Promise<unknown> | undefined;

  constructor(
    readonly resources: EngineResources,
    readonly role: EngineRole = { runsExecutions: true },
  ) {}

  /** Live log lines of every execution of this engine (the CLI and SSE filter by executionId). */
  onLog(listener: LogListener): () => void {
    return this.resources.logs.subscribe(listener);
  }

  /**
   * Log lines once stored, in batches, with their row ids: what a follower that must resume exactly
   * after a line (SSE `Last-Event-ID`) listens to. `onLog` lines have no id yet.
   */
  onLogsStored(listener: StoredLogListener): () => void {
    return this.resources.logs.subscribeStored(listener);
  }

  /**
   * Registers a Flow-trigger evaluator: while `watching()` is true, executions ending here are stored
   * as due for Flow triggers until it clears them, so an end is evaluated even if this process dies
   * first (engine/scheduler/flow-triggers.ts sweeps what is left).
   */
  watchEndsForFlowTriggers(watch: FlowTriggerWatch): () => void {
    this.flowTriggerWatches.add(watch);
    return () => this.flowTriggerWatches.delete(watch);
  }

  /** Executions this process failed because of a fault, not a task (see RunFailureListener). */
  onRunFailure(listener: RunFailureListener): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** Every change of every execution of this engine (SSE follow, the dashboard), without polling. */
  onExecution(listener: ExecutionListener): () => void {
    this.executionListeners.add(listener);
    return () => this.executionListeners.delete(listener);
  }

  /**
   * Validates inputs and stores the execution as CREATED. Throws InputValidationError (naming every
   * bad input) before anything is stored.
   */
  async create(request: ExecuteRequest, parent?: ParentLink): Promise<ExecutionRun> {
    const { flow } = request;
    const id = newId();
    const revision = request.revision ?? flow.revision ?? 1;
    const execution: Execution = {
      id,
      namespace: flow.namespace,
      flowId: flow.id,
      flowRevision: revision,
      state: newState('CREATED'),
      inputs: {},
      outputs: null,
      labels: labelsToList({ ...(flow.labels ?? {}), ...(request.labels ?? {}) }),
      variables: null,
      trigger: request.trigger ?? null,
      taskRunList: [],
      originalId: null,
      parentExecutionId: parent?.run.execution.id ?? null,
      parentTaskRunId: parent?.taskRun.id ?? null,
      commitSha: request.commitSha ?? null,
      attemptNumber: 1,
    };
    const readable = [...readablePrefixes(execution, []), ...(parent?.readable ?? [])];
    const services = templateServices(this.resources, execution, readable);
    execution.inputs = await resolveInputs(flow.inputs, request.inputs ?? {}, {
      render: (template, variables) =>
        renderTyped(template, { flow: { id: flow.id, namespace: flow.namespace }, ...variables }, services),
      storeFile: (inputId, fileName, data) =>
        this.resources.storage.put(childUri(inputPrefix(flow.namespace, flow.id, id, inputId), fileName), data),
    });
    // Stored, answered and shown encrypted; decrypted only where a task reads it (engine/inputs/secret-inputs.ts).
    execution.inputs = encryptSecretInputs(flow.inputs, execution.inputs, this.resources.encryption);
    const { leaseOwner } = this.role;
    const lease = leaseOwner && this.role.runsExecutions
      ? await this.resources.repository.insertLeased(execution, leaseOwner, this.resources.queue.leaseMs)
      : (await this.resources.repository.saveExecution(execution), undefined);
    const run = this.track(flow, execution, readable);
    if (lease) run.useLease(lease, this.resources.queue);
    this.notify(execution);
    return run;
  }

  /** Runs a created (or restarted, or replayed) execution to its end. */
  async run(run: ExecutionRun): Promise<Execution> {
    const id = run.execution.id;
    const concurrency = run.flow.concurrency;
    const { queue } = this.resources;
    let heartbeat: NodeJS.Timeout | undefined;
    let ownsIt = !this.role.leaseOwner || run.lease !== undefined;
    try {
      if (!ownsIt) {
        const lease = await queue.claim(id, this.role.leaseOwner!);
        // Another process holds it (or it ended meanwhile): it is theirs to run.
        if (!lease) return run.execution;
        run.useLease(lease, queue);
        ownsIt = true;
      }
      if (run.lease) heartbeat = this.heartbeat(run, run.lease);
      if (concurrency && !run.killed) {
        const refused = await this.admit(run, concurrency);
        if (refused) return refused;
      }
      return await run.run();
    } catch (error) {
      // Not ours to end (another process claimed it, or the run was handed back), or the database is
      // away (the execution is resumed once it is back): as it is.
      if (!ownsIt || run.abandoned || isTransientDatabaseError(error)) throw error;
      // Anything else fails the same way again: end it FAILED, once, rather than release it to be
      // claimed and fail again in a loop.
      return await this.failRun(run, error);
    } finally {
      if (heartbeat) clearInterval(heartbeat);
      // An abandoned run keeps its concurrency slot: the process that resumes the execution holds it.
      if (ownsIt && concurrency && !run.abandoned) await this.resources.concurrency.release(run.execution, concurrency);
      if (run.lease && !run.abandoned) {
        // Usually the write of the end let it go in the same statement; otherwise (a refused start, a
        // failed write) it is let go here, so another worker need not wait for it to expire.
        if (!run.leaseEnded) await queue.release(run.lease).catch(() => undefined);
        // Best effort, batched: waiters elsewhere also poll.
        void queue.announceEnded(id).catch(() => undefined);
      }
      const tracked = this.runs.get(id);
      this.runs.delete(id);
      this.children.delete(id);
      tracked?.settle();
      await run.removeWorkingFiles();
    }
  }

  /**
   * Applies the flow's `concurrency` before the run starts: returns at once with a slot, waits as
   * QUEUED for one, or ends the execution CANCELLED or FAILED (returned) when the flow says so.
   */
  private async admit(run: ExecutionRun, concurrency: NonNullable<FlowDef['concurrency']>): Promise<Execution | undefined> {
    const gate = this.resources.concurrency;
    const { decision, running } = await gate.admit(run.execution, concurrency);
    const reached = `flow concurrency limit reached (${running} of ${concurrency.limit} running)`;
    switch (decision) {
      case 'RUN':
        return undefined;
      case 'CANCEL':
        return run.refuse('CANCELLED', `Execution cancelled: ${reached}, behavior CANCEL`);
      case 'FAIL':
        return run.refuse('FAILED', `Execution failed: ${reached}, behavior FAIL`);
      case 'QUEUED':
        await run.markQueued(`Execution queued: ${reached}`);
        // A kill while queued ends the wait; the run then goes straight to KILLED.
        await gate.waitForSlot(run.execution, concurrency, run.killSignal);
        return undefined;
      default:
        return assertNever(decision);
    }
  }

  /**
   * Renews the run's lease every third of its length. A lost lease abandons the run; a kill requested
   * through another process kills it here.
   */
  private heartbeat(run: ExecutionRun, lease: Lease): NodeJS.Timeout {
    const { queue } = this.resources;
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const { held, killRequested } = await queue.renew(lease);
        if (!held) run.abandon('its lease was lost');
        else if (killRequested && !run.killed) await this.kill(run.execution.id);
      } catch {
        // The database is unreachable: the lease runs out unless a later beat gets through.
      } finally {
        busy = false;
      }
    }, Math.max(50, Math.floor(queue.leaseMs / 3)));
    timer.unref();
    return timer;
  }

  /**
   * Starts a created execution: in this process when it runs executions (in the background: the
   * returned promise settles once it has started), else by telling the workers.
   */
  async start(run: ExecutionRun, onError?: (error: unknown) => void): Promise<void> {
    if (this.role.runsExecutions) {
      const done = this.run(run).catch((error: unknown) => onError?.(error));
      const tracked = done.finally(() => this.background.delete(tracked));
      this.background.add(tracked);
      return;
    }
    this.untrack(run.execution.id);
    // It is stored already; the notification only wakes workers sooner than their poll (batched).
    void this.resources.queue.announce(run.execution.id).catch(() => undefined);
  }

  /**
   * Runs an execution this process has just claimed from the queue (a worker): a new one, or one whose
   * previous runner died (the walk reuses what it finished and resubmits what it interrupted).
   * Resolves when it ends or is abandoned; releases the lease when there is nothing to run.
   */
  async runClaimed(lease: Lease): Promise<Execution | undefined> {
    const { queue, repository } = this.resources;
    const execution = lease.row ? await repository.executionFromRow(lease.row) : await repository.findExecution(lease.executionId);
    if (!execution || isTerminal(execution.state.current) || this.runs.has(execution.id)) {
      await queue.release(lease);
      return execution;
    }
    // A kill asked while nobody could act on it (its process stuck or dead, or handing it back), or
    // left half done by a process that died while KILLING: it ends KILLED here, nothing runs.
    if (lease.row?.killRequested || execution.state.current === 'KILLING') {
      return this.endClaimed(lease, execution, 'KILLED', 'Execution killed: a kill was requested while no process could act on it');
    }
    const poisoned = this.interruptedTooOften(lease);
    if (poisoned) {
      this.reportFailure(execution.id, poisoned.message);
      return this.endClaimed(lease, execution, 'FAILED', `Execution failed: ${poisoned.message}`);
    }
    let flow: FlowDef;
    try {
      flow = await this.claimedFlowOf(execution);
    } catch (error) {
      // Its flow revision is gone: it can never run; end it FAILED rather than claim it forever.
      return this.endClaimed(lease, execution, 'FAILED', (error as Error).message);
    }
    const run = this.track(flow, execution, await this.readablePrefixesOf(execution));
    run.useLease(lease, queue);
    this.notify(execution);
    return this.run(run);
  }

  /**
   * Whether a claimed execution has been interrupted more often than `limits.executionCrashes`: each
   * time, the process running it died or hung (its lease expired), and resuming it again would most
   * likely take this one down too. Undefined when it may run.
   */
  interruptedTooOften(lease: Lease): LimitExceededError | undefined {
    const times = lease.interruptions ?? lease.row?.interruptions ?? 0;
    const { limits } = this.resources;
    if (times <= limits.executionCrashes) return undefined;
    return new LimitExceededError(
      'executionCrashes',
      `interrupted ${times} times: the process running it crashed or hung (or lost its database) each time, so it is not resumed again`,
      limits,
    );
  }

  /** Ends a claimed execution without running it (killed, poisoned, its flow gone); the end lets the lease go. */
  private async endClaimed(lease: Lease, execution: Execution, state: 'KILLED' | 'FAILED', message: string): Promise<Execution> {
    const logger = this.resources.logs.logger({ executionId: execution.id, taskRunId: null, taskId: null, attemptNumber: null });
    if (state === 'FAILED') logger.error(message);
    else logger.warn(message);
    // Logs before the end: whoever sees the execution ended finds why (see ExecutionRun.run).
    await this.resources.logs.flush();
    const ended = endedState(execution, state);
    // Claimed meanwhile by another process (this lease expired): theirs now.
    if (!(await this.storeEnd(ended, state, { lease }))) return execution;
    this.notify(ended);
    return ended;
  }

  /**
   * Ends a run FAILED after an error it could not handle (a write the database refused, a bug): what
   * still runs stops, the reason is logged, and the end is stored in one statement that writes states
   * only (the execution's own data may be what was refused). An end stored already stands.
   */
  private async failRun(run: ExecutionRun, error: unknown): Promise<Execution> {
    const e = run.execution;
    run.stop('its run failed');
    const logger = this.resources.logs.logger({ executionId: e.id, taskRunId: null, taskId: null, attemptNumber: null });
    if (run.endStored) {
      // Its end stands; what failed after it (afterExecution tasks, their writes) is only said.
      logger.error(`After the end of the execution: ${describeFault(error)}`);
    } else {
      const refused = run.refusedTaskRuns;
      const what = refused.map(({ taskRun }) => `task '${taskRun.taskId}' (task run ${taskRun.id})`).join(', ');
      const reason = `Execution failed: ${what ? `the database refused to store ${what}: ` : ''}${describeFault(error)}`;
      logger.error(reason);
      this.reportFailure(e.id, reason);
      // Logs before the end: whoever sees the execution ended finds why.
      await this.resources.logs.flush().catch(() => undefined);
      // A refused task run is stored FAILED without what was refused (its outputs), so the record shows it.
      const failedRuns = new Map(refused.map(({ taskRun, seq }) => [taskRun.id, {
        taskRun: { ...taskRun, outputs: null, state: isFailure(taskRun.state.current) ? taskRun.state : endState(taskRun.state, 'FAILED', `task run ${taskRun.id}`) },
        seq,
      }]));
      const failed = endedState(e, 'FAILED');
      e.state = failed.state;
      e.taskRunList = failed.taskRunList.map((t) => failedRuns.get(t.id)?.taskRun ?? t);
      const lease = run.lease && { lease: run.lease, leaseMs: this.resources.queue.leaseMs };
      if (failedRuns.size) await this.resources.repository.saveBatch([...failedRuns.values()], undefined, lease).catch(() => undefined);
      const fence: EndFence = run.lease ? { lease: run.lease } : 'unleased';
      if (await retryTransient(() => this.storeEnd(e, 'FAILED', fence))) this.notify(e);
    }
    await this.resources.logs.flush().catch(() => undefined);
    return e;
  }

  private reportFailure(executionId: string, reason: string): void {
    for (const listener of this.failureListeners) {
      try {
        listener(executionId, reason);
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  /**
   * Resolves to the execution once it is terminal, wherever it runs: at once from this process when it
   * runs here, else when its runner announces the end (NOTIFY), with a poll as fallback. Undefined
   * when there is no such execution; `signal` stops waiting.
   */
  async awaitTerminal(id: string, signal?: AbortSignal): Promise<Execution | undefined> {
    if (this.runs.has(id)) {
      await this.settled(id);
      return this.findExecution(id);
    }
    this.endedSubscription ??= this.resources.queue
      .subscribe(ENDED_CHANNEL, (payload) => {
        // Ids of executions that ended, comma-separated (notifications are batched).
        for (const ended of payload.split(',')) for (const wake of this.endWaiters.get(ended) ?? []) wake();
      })
      .catch(() => undefined);
    await this.endedSubscription;
    while (!signal?.aborted) {
      const execution = await this.findExecution(id);
      if (!execution || isTerminal(execution.state.current)) return execution;
      if (this.runs.has(id)) {
        await this.settled(id);
        continue;
      }
      await new Promise<void>((resolve) => {
        let waiters = this.endWaiters.get(id);
        if (!waiters) this.endWaiters.set(id, (waiters = new Set()));
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          waiters.delete(done);
          if (waiters.size === 0) this.endWaiters.delete(id);
          resolve();
        };
        const timer = setTimeout(done, ENDED_POLL_MS);
        signal?.addEventListener('abort', done, { once: true });
        waiters.add(done);
      });
    }
    return this.findExecution(id);
  }

  /** Stops running an execution here without ending it (see ExecutionRun.abandon); false when it does not run here. */
  abandon(executionId: string, reason: string): boolean {
    const run = this.runs.get(executionId)?.run;
    if (!run) return false;
    run.abandon(reason);
    for (const child of this.children.get(executionId) ?? []) this.abandon(child, reason);
    return true;
  }

  /** Forgets a run this process will not run after all. */
  private untrack(id: string): void {
    const tracked = this.runs.get(id);
    this.runs.delete(id);
    tracked?.settle();
  }

  /** Creates and runs an execution; resolves when it is terminal. */
  async execute(request: ExecuteRequest): Promise<Execution> {
    return this.run(await this.create(request));
  }

  /**
   * Prepares a terminated execution to run again under the same id (Kestra's restart): attempt
   * number + 1, state RESTARTED; FAILED and KILLED task runs and their parents will run again, the
   * successful ones are kept, error branches removed (see `planRestart`). Run it with `run()`.
   * Throws ExecutionNotFoundError, ExecutionStateError (not terminated, or already restarting) or
   * FlowRevisionNotFoundError (the revision it ran with is gone).
   */
  async restart(executionId: string): Promise<ExecutionRun> {
    const live = this.runs.get(executionId)?.run;
    if (live) {
      const reason = isTerminal(live.execution.state.current) ? 'it is still finishing here (afterExecution tasks, logs); try again in a moment' : undefined;
      throw new ExecutionStateError(executionId, live.execution.state.current, 'restart', reason);
    }
    if (this.restarting.has(executionId)) {
      throw new ExecutionStateError(executionId, 'RESTARTED', 'restart', 'a restart of it is already being prepared');
    }
    this.restarting.add(executionId);
    try {
      const execution = await this.resources.repository.findExecution(executionId);
      if (!execution) throw new ExecutionNotFoundError(executionId);
      if (!isTerminal(execution.state.current)) throw new ExecutionStateError(executionId, execution.state.current, 'restart');
      const flow = await this.flowOf(execution);
      const plan = planRestart(flow, execution.taskRunList);
      execution.taskRunList = plan.taskRuns;
      execution.outputs = null;
      execution.attemptNumber += 1;
      execution.state = transition(execution.state, 'RESTARTED', `execution ${executionId}`);
      await this.resources.repository.replaceExecution(execution, plan.removedIds);
      const run = this.track(flow, execution, await this.readablePrefixesOf(execution));
      this.notify(execution);
      return run;
    } finally {
      this.restarting.delete(executionId);
    }
  }

  /**
   * A new execution of the same flow revision, inputs and labels, with `originalId` pointing back
   * (Kestra's replay). With `taskRunId`, the task runs before it are copied and it runs again from
   * there (see `planReplay`); without, everything runs again. Run it with `run()`.
   * Throws ExecutionNotFoundError, ExecutionStateError (not terminated), TaskRunNotFoundError or
   * FlowRevisionNotFoundError.
   */
  async replay(executionId: string, options: { taskRunId?: string } = {}): Promise<ExecutionRun> {
    const original = this.runningExecution(executionId) ?? (await this.resources.repository.findExecution(executionId));
    if (!original) throw new ExecutionNotFoundError(executionId);
    // Copying task runs that are still changing would copy a moment, not a result.
    if (!isTerminal(original.state.current)) throw new ExecutionStateError(executionId, original.state.current, 'replay');
    const flow = await this.flowOf(original);
    const id = newId();
    const execution: Execution = {
      id,
      namespace: original.namespace,
      flowId: original.flowId,
      flowRevision: original.flowRevision,
      state: newState(options.taskRunId ? 'RESTARTED' : 'CREATED'),
      inputs: original.inputs,
      outputs: null,
      labels: original.labels,
      variables: original.variables,
      trigger: original.trigger,
      taskRunList: options.taskRunId ? planReplay(flow, original, options.taskRunId, id) : [],
      originalId: original.id,
      parentExecutionId: null,
      parentTaskRunId: null,
      commitSha: original.commitSha,
      attemptNumber: 1,
    };
    await this.resources.repository.replaceExecution(execution);
    const run = this.track(flow, execution, await this.readablePrefixesOf(execution));
    this.notify(execution);
    return run;
  }

  /** Kills a running execution and the subflow executions it started. Resolves false when not running here. */
  async kill(executionId: string): Promise<boolean> {
    const run = this.runs.get(executionId)?.run;
    if (!run) return false;
    await run.kill();
    for (const child of this.children.get(executionId) ?? []) await this.kill(child);
    return true;
  }

  /**
   * Kills an execution that has not terminated, from any state: through `kill` when it runs here; by
   * a request its runner's heartbeat sees when another process holds it (and, should that process be
   * stuck, that whoever claims it once its lease expires honours, see runClaimed); otherwise nothing
   * runs it (CREATED and not claimed yet, or orphaned by a crash) and it is ended KILLED at once with
   * its unfinished task runs. Resolves to its state now, as findExecution reads it.
   * Throws ExecutionNotFoundError, or ExecutionStateError when it has already terminated.
   */
  async requestKill(executionId: string): Promise<Execution> {
    const running = this.runs.get(executionId)?.run;
    // A run abandoned here (its lease lost) is another process's now: asked like any other below.
    if (running && !running.abandoned) {
      if (isTerminal(running.execution.state.current)) throw new ExecutionStateError(executionId, running.execution.state.current, 'kill');
      await this.kill(executionId);
      return running.execution;
    }
    if (this.restarting.has(executionId)) {
      throw new ExecutionStateError(executionId, 'RESTARTED', 'kill', 'a restart of it is being prepared; kill it once it runs');
    }
    const execution = await this.resources.repository.findExecution(executionId);
    if (!execution) throw new ExecutionNotFoundError(executionId);
    if (isTerminal(execution.state.current)) throw new ExecutionStateError(executionId, execution.state.current, 'kill');
    const { queue } = this.resources;
    // Another process runs it under a live lease: its heartbeat sees the request and kills it there. A
    // process that is stuck never does; whoever claims it once its lease expires ends it KILLED.
    if (await queue.requestKill(executionId)) return execution;
    // Nobody runs it (CREATED and not yet claimed, or orphaned): ended here, by one statement that
    // applies only while nobody holds it and fences out whoever held it last.
    const killed = endedState(execution, 'KILLED');
    if (await this.storeEnd(killed, 'KILLED', 'orphan')) {
      this.notify(killed);
      return killed;
    }
    // Claimed in between: its new holder kills it; or it ended meanwhile.
    if (await queue.requestKill(executionId)) return execution;
    const now = await this.resources.repository.findExecution(executionId);
    if (!now) throw new ExecutionNotFoundError(executionId);
    if (isTerminal(now.state.current)) throw new ExecutionStateError(executionId, now.state.current, 'kill');
    return now;
  }

  /**
   * Stores an end reached outside a run (an orphan killed, an execution whose flow is gone), due for
   * Flow triggers: for this process's evaluator to clear once it has evaluated it, or, when none here
   * watches (a `baton server`), for the sweep of a process that runs executions.
   */
  private async storeEnd(execution: Execution, taskRunState: 'FAILED' | 'KILLED', fence: EndFence): Promise<boolean> {
    const watched = this.hooks.flowTriggersWatching();
    const ended = await this.resources.repository.endExecution(execution, taskRunState, fence, { flowTriggersDue: watched ? 'later' : 'now' });
    if (ended && watched) this.hooks.flowTriggersMarked(execution.id);
    return ended;
  }

  /**
   * Resolves once every execution started in the background (subflows without `wait`) has ended and
   * every log line written so far is stored (a server's and `baton run`'s last step before closing the
   * database: lines of runs handed back, or of a task still stopping, would otherwise be lost with it).
   */
  async idle(): Promise<void> {
    while (this.background.size) await Promise.allSettled([...this.background]);
    // Failures are reported by the writer itself; idle() only waits.
    await this.resources.logs.flush().catch(() => undefined);
  }

  /**
   * Resolves when the execution's run in this process has completely ended (terminal, `afterExecution`
   * done, every log line stored); at once when it does not run here.
   */
  settled(executionId: string): Promise<void> {
    return this.runs.get(executionId)?.settled ?? Promise.resolve();
  }

  /** True while the execution is being run (or about to be) by this process. */
  isRunningHere(executionId: string): boolean {
    return this.runs.has(executionId);
  }

  /** The in-memory run of an execution, while it runs in this process. */
  runningExecution(id: string): Execution | undefined {
    const run = this.runs.get(id)?.run;
    return run && !isTerminal(run.execution.state.current) ? run.execution : undefined;
  }

  /**
   * The execution as it is now: from memory while its run is here (until that run is over, so what
   * this returns and what a kill here answers agree), else from the database.
   */
  async findExecution(id: string): Promise<Execution | undefined> {
    const run = this.runs.get(id)?.run;
    if (run && !run.abandoned) return run.execution;
    return this.resources.repository.findExecution(id);
  }

  /**
   * kestra:// prefixes an execution may read: its own, its parent's (Subflow inputs), and those of
   * the executions it replays, whose inputs and copied outputs point into their own storage.
   */
  async readablePrefixesOf(execution: Pick<Execution, 'id' | 'namespace' | 'flowId' | 'originalId' | 'parentExecutionId'>): Promise<string[]> {
    const prefixes = [executionPrefix(execution.namespace, execution.flowId, execution.id)];
    const addParent = async (parentId: string | null) => {
      if (!parentId) return;
      const parent = await this.resources.repository.findLineage(parentId);
      if (parent) prefixes.push(executionPrefix(parent.namespace, parent.flowId, parentId));
    };
    await addParent(execution.parentExecutionId);
    let originalId = execution.originalId;
    for (let depth = 0; originalId && depth < MAX_LINEAGE; depth++) {
      const original = await this.resources.repository.findLineage(originalId);
      if (!original) break;
      prefixes.push(executionPrefix(original.namespace, original.flowId, originalId));
      await addParent(original.parentExecutionId);
      originalId = original.originalId;
    }
    return [...new Set(prefixes)];
  }

  private track(flow: FlowDef, execution: Execution, readable: readonly string[]): ExecutionRun {
    const run = new ExecutionRun(this.resources, flow, execution, this.hooks, readable);
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    this.runs.set(execution.id, { run, settled, settle });
    return run;
  }

  /** Flow revisions a worker ran, by `namespace/id/revision`: a stored revision never changes. */
  private readonly revisions = new Map<string, FlowDef>();

  private async claimedFlowOf(execution: Execution): Promise<FlowDef> {
    const key = `${execution.namespace}/${execution.flowId}/${execution.flowRevision}`;
    let flow = this.revisions.get(key);
    if (!flow) {
      flow = await this.flowOf(execution);
      if (this.revisions.size >= MAX_CACHED_REVISIONS) this.revisions.delete(this.revisions.keys().next().value!);
      this.revisions.set(key, flow);
    }
    return flow;
  }

  /** The flow definition of the revision an execution ran with. */
  private async flowOf(execution: Execution): Promise<FlowDef> {
    const resolved = await this.resources.flows.find(execution.namespace, execution.flowId, execution.flowRevision);
    if (!resolved) throw new FlowRevisionNotFoundError(execution.id, execution.namespace, execution.flowId, execution.flowRevision);
    return resolved.flow;
  }

  private notify(execution: Execution): void {
    if (this.executionListeners.size === 0) return;
    const snapshot = snapshotExecution(execution);
    for (const listener of this.executionListeners) {
      try {
        listener(snapshot);
      } catch {
        // A listener's failure is its own; the execution goes on.
      }
    }
  }

  private observeTaskRun(run: TaskRun): void {
    const histories = run.state.histories;
    // From the last time it was created or restarted: a restarted task run's wait is not its duration.
    let from = run.state.startDate;
    for (let i = histories.length - 1; i >= 0; i--) {
      if (isCreated(histories[i].state)) {
        from = histories[i].date;
        break;
      }
    }
    const end = run.state.endDate ?? new Date().toISOString();
    this.taskRunDurations.observe(run.state.current, (Date.parse(end) - Date.parse(from)) / 1000);
  }

  private async startSubflow(parent: ExecutionRun, taskRun: TaskRun, request: SubflowRequest): Promise<SubflowResult> {
    // A resumed parent whose Subflow task was interrupted: the child it started goes on (another worker
    // resumes it if its runner died too); wait for it instead of starting a second one.
    const adopted = parent.interruptedSubflow(taskRun);
    if (adopted && (await this.resources.repository.findState(adopted))) {
      if (!request.wait) return { executionId: adopted };
      const child = await this.awaitTerminal(adopted, parent.killSignal);
      return { executionId: adopted, state: child?.state.current, outputs: child?.outputs ?? {} };
    }
    const resolved = await this.resources.flows.find(request.namespace, request.flowId, request.revision);
    if (!resolved) {
      const rev = request.revision ? ` revision ${request.revision}` : '';
      throw new Error(`Subflow '${request.namespace}.${request.flowId}'${rev} not found`);
    }
    const p = parent.execution;
    const child = await this.create(
      {
        flow: resolved.flow,
        revision: resolved.revision,
        commitSha: resolved.commitSha ?? null,
        inputs: request.inputs,
        labels: request.labels,
        trigger: { executionId: p.id, namespace: p.namespace, flowId: p.flowId, flowRevision: p.flowRevision },
      },
      { run: parent, taskRun, readable: readablePrefixes(p, []) },
    );
    await parent.recordSubflow(taskRun, child.execution.id);
    let siblings = this.children.get(p.id);
    if (!siblings) this.children.set(p.id, (siblings = new Set()));
    siblings.add(child.execution.id);
    if (parent.killed) await child.kill();
    const done = this.run(child);
    if (!request.wait) {
      const tracked = done.finally(() => this.background.delete(tracked));
      this.background.add(tracked);
      return { executionId: child.execution.id };
    }
    const execution = await done;
    return { executionId: execution.id, state: execution.state.current, outputs: execution.outputs ?? {} };
  }
}

/**
 * A copy of the execution ended in `state` with every task run that had not ended, for an end stored
 * outside a walk (ExecutionRepository.endExecution writes the same to the stored rows).
 */
function endedState(execution: Execution, state: 'FAILED' | 'KILLED'): Execution {
  return {
    ...execution,
    state: endState(execution.state, state, `execution ${execution.id}`),
    taskRunList: execution.taskRunList.map((run) => (isTerminal(run.state.current) ? run : { ...run, state: endState(run.state, state, `task run ${run.id}`) })),
  };
}

/**
 * `state` moved to a terminal `to`. From a state that does not lead there — an end reached in memory
 * whose write failed, so the stored execution never ended — the history says so as it happened.
 */
function endState(state: State, to: StateType, subject: string): State {
  if (canTransition(state.current, to)) return transition(state, to, subject);
  const date = new Date().toISOString();
  return {
    current: to,
    histories: [...state.histories, { state: to, date }],
    startDate: state.startDate,
    endDate: date,
    duration: isoDuration(Date.parse(date) - Date.parse(state.startDate)),
  };
}

/**
 * An error as a reason in a log line: its message and its causes', with the database's detail. A
 * statement (drizzle's "Failed query: …" with every parameter) is left out: it can be megabytes, and
 * holds the very data that was refused; its cause says what was wrong.
 */
function describeFault(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message.startsWith('Failed query:')) continue;
    const detail = (e as { detail?: unknown }).detail;
    const text = typeof detail === 'string' && detail ? `${message} (${detail})` : message;
    if (text && !parts.includes(text)) parts.push(text.length > 500 ? `${text.slice(0, 500)}…` : text);
  }
  return parts.join(': ') || 'the database refused a statement';
}

/**
 * A copy listeners may keep: states are replaced, never mutated (see state.ts); attempts lists grow in
 * place. The task runs are copied when first read, not at every change: a listener that only looks at
 * the execution's state (Flow triggers, on every change of every execution) would otherwise copy the
 * whole list per change of a task run, n² over a ForEach of n values.
 */
function snapshotExecution(execution: Execution): Execution {
  const { taskRunList, ...fields } = execution;
  let copied: TaskRun[] | undefined;
  return Object.defineProperty({ ...fields } as Execution, 'taskRunList', {
    enumerable: true,
    configurable: true,
    get: () => (copied ??= taskRunList.map((run) => ({ ...run, attempts: run.attempts.map((a) => ({ ...a })) }))),
    set: (list: TaskRun[]) => {
      copied = list;
    },
  });
}

function assertNever(value: never): never {
  throw new Error(`unexpected admission decision: ${String(value)}`);
}
