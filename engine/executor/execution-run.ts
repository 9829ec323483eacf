import { setMaxListeners } from 'node:events';
import { rm } from 'node:fs/promises';
import { LimitExceededError } from '../../config/index.ts';
import { parseIsoDuration } from '../duration.ts';
import { coerceProps } from '../contract/index.ts';
import { applyPluginDefaults } from '../flow/index.ts';
import type { FlowDef, TaskDef } from '../flow/types.ts';
import { decryptingInputs, parseTyped } from '../inputs/index.ts';
import { findPlugin } from '../plugins/registry.ts';
import type { TaskPlugin, TaskResult, RunTasksOptions } from '../plugins/types.ts';
import {
  isCreated, isFailure, isTerminal, mergeChildStates, newState, transition, type StateType,
} from '../state.ts';
import { renderTyped, renderValue } from '../template/index.ts';
import type { Execution, TaskRun } from './model.ts';
import { labelsToMap } from './model.ts';
import { nextTurn } from '../event-loop-turns.ts';
import { LiveOutputs } from './outputs.ts';
import { StateWriter, type TaskRunWrite } from './state-writer.ts';
import type { EngineResources } from './resources.ts';
import { nextRetryDelay } from './retry.ts';
import { createTaskContext, executionWorkDir, templateServices, type TaskContextInput } from './task-context.ts';
import { newId } from '../ids.ts';
import type { Lease, WorkQueue } from '../queue/index.ts';
import { isTruthy } from '../truthy.ts';

/** Where children run: their parent task run, the iteration value they inherit, extra variables. */
export interface Scope {
  parent: TaskRun | null;
  value: string | null;
  iteration: number | null;
  variables: Record<string, unknown>;
  workingDirectory?: string;
}

const ROOT_SCOPE: Scope = { parent: null, value: null, iteration: null, variables: {} };

/** Properties the executor handles itself; never passed to plugins as rendered props. */
const EXECUTOR_PROPERTIES = new Set([
  'id', 'type', 'description', 'disabled', 'allowFailure', 'allowWarning', 'runIf', 'timeout', 'retry',
  'logLevel', 'logToFile', 'workerGroup', 'errors', 'finally',
]);

/**
 * How long a killed or timed-out task may take to stop before its attempt ends anyway: the runners'
 * SIGTERM→SIGKILL grace (5 s by default) and reading the output left in the pipes. A plugin that ignores
 * its signal must not hold the execution hostage longer than this.
 */
const STOPPING_TASK_WAIT_MS = 7_000;

/** Raised inside an attempt when the task's `timeout` elapses. */
class TaskTimeout extends Error {
  constructor(readonly timeout: string) {
    super(`Task timed out after ${timeout}`);
    this.name = 'TaskTimeout';
  }
}

/** What an ExecutionRun asks of the engine that drives it. */
export interface RunHooks {
  startSubflow: SubflowStarter;
  /** After every state change of the execution or one of its task runs, once its write is queued. */
  changed(execution: Execution): void;
  /** A task run this run ran has reached a terminal state (not called for reused task runs). */
  taskRunEnded(run: TaskRun): void;
  /** Whether Flow triggers may react to the end of an execution (its end is then stored as due for them). */
  flowTriggersWatching(): boolean;
  /** The end of this execution was stored as due for Flow triggers. */
  flowTriggersMarked(executionId: string): void;
}

/**
 * One execution of one flow, walked task by task. Every state change is written through to the
 * repository so the API sees progress live and a restart can tell what already ran.
 *
 * The walk may start with task runs already in the execution's list (a restart, a replay, and — the
 * reason this lives in the walker rather than in restart — a server resuming its executions after a
 * crash). When the walker meets a task whose task run (same task id, parent task run and value) is
 * already there, it does not create another: a terminated one is reused as it is (its state counts,
 * its outputs stay visible, nothing runs), an unterminated one (RESTARTED, or RUNNING when a crash
 * stopped it) runs again under its own id. Everything the walk decides is derived from the flow and
 * these task runs, so walking the same list twice gives the same result.
 */
export class ExecutionRun {
  private seq = 0;
  private readonly seqOf = new Map<string, number>();
  /** Task runs found in the list at the start, by `priorKey`, in list order; each is taken once. */
  private readonly prior = new Map<string, TaskRun[]>();
  private readonly killController = new AbortController();
  private readonly writer: StateWriter;
  /** Every task run of the list by id, and the last one of each task id in list order (see variables()). */
  private readonly runsById = new Map<string, TaskRun>();
  private readonly lastRunOfTask = new Map<string, TaskRun>();
  /** The write of the execution's state that failed for good, if one did (see halt). */
  private writeFailure: unknown;
  private refused: readonly TaskRunWrite[] = [];
  /** `outputs.*` of the walk; task runs' outputs are set through setOutputs so it stays current. */
  private readonly liveOutputs: LiveOutputs;

  constructor(
    private readonly resources: EngineResources,
    readonly flow: FlowDef,
    readonly execution: Execution,
    private readonly hooks: RunHooks,
    /** kestra:// prefixes the execution may read: its own and its parent executions'. */
    private readonly readable: readonly string[],
  ) {
    this.writer = new StateWriter(resources.repository, execution, (run) => this.seqOf.get(run.id) ?? 0, {
      watching: () => hooks.flowTriggersWatching(),
      marked: () => hooks.flowTriggersMarked(execution.id),
    });
    this.writer.onFailure((error, refused) => this.halt(error, refused));
    // Every attempt running at once listens to it: a ForEach with `concurrencyLimit: 0` has thousands.
    setMaxListeners(0, this.killController.signal);
    execution.taskRunList.forEach((run, index) => {
      this.seqOf.set(run.id, index);
      this.runsById.set(run.id, run);
      this.lastRunOfTask.set(run.taskId, run);
      const key = priorKey(run.taskId, run.parentTaskRunId, run.value);
      const same = this.prior.get(key);
      if (same) same.push(run);
      else this.prior.set(key, [run]);
    });
    this.seq = execution.taskRunList.length;
    this.liveOutputs = new LiveOutputs(this.runsById, (run) => this.seqOf.get(run.id) ?? 0);
    for (const run of execution.taskRunList) this.liveOutputs.update(run);
  }

  private setOutputs(run: TaskRun, outputs: Record<string, unknown>): void {
    run.outputs = outputs;
    this.liveOutputs.update(run);
  }

  get killed(): boolean {
    return this.killController.signal.aborted;
  }

  /** Asks the execution to stop: running tasks are aborted, nothing new starts. */
  async kill(): Promise<void> {
    if (this.killed || isTerminal(this.execution.state.current)) return;
    this.execution.state = transition(this.execution.state, 'KILLING', `execution ${this.execution.id}`);
    this.markExecution();
    // A write that failed is the run's to report (it ends FAILED, see halt); the kill goes on.
    await this.writer.flush().catch(() => undefined);
    this.killController.abort(new Error('killed'));
  }

  /**
   * A write of the execution's state failed for good (the database refused it, or stayed unreachable):
   * what runs stops, nothing more is written, and run() rejects with the error once the walk has
   * unwound, for the engine to end the execution FAILED with the reason (Engine.run).
   */
  private halt(error: unknown, refused: readonly TaskRunWrite[]): void {
    if (this.writeFailure !== undefined) return;
    this.writeFailure = error;
    this.refused = refused;
    this.killController.abort(new Error('its state could not be stored', { cause: error }));
  }

  /** Task runs whose state the database refused to store (as last written: copies, with their place in the list). */
  get refusedTaskRuns(): readonly TaskRunWrite[] {
    return this.refused;
  }

  /** Whether the execution's end is stored: what fails after it (afterExecution tasks) cannot change it. */
  get endStored(): boolean {
    return this.writer.endStored;
  }

  /**
   * Stops what runs and writes nothing more, without ending the execution: the engine ends it itself
   * (FAILED, after a failure the walk could not handle) in one statement.
   */
  stop(reason: string): void {
    this.writer.fenceOff();
    if (!this.killController.signal.aborted) this.killController.abort(new Error(`stopped: ${reason}`));
  }

  /** Task runs this walk found interrupted by the death of their previous runner (see resubmitInterrupted). */
  private readonly resubmitted = new Set<string>();

  /**
   * The subflow execution an interrupted Subflow task run had started, if any: a resumed parent
   * adopts it rather than starting the child a second time.
   */
  interruptedSubflow(taskRun: TaskRun): string | undefined {
    if (!this.resubmitted.has(taskRun.id)) return undefined;
    const id = taskRun.outputs?.executionId;
    return typeof id === 'string' ? id : undefined;
  }

  /** Records the subflow execution a task run started, at once, so a resumed parent can find it. */
  async recordSubflow(taskRun: TaskRun, executionId: string): Promise<void> {
    this.setOutputs(taskRun, { ...(taskRun.outputs ?? {}), executionId });
    this.save(taskRun);
    // Stored before the child runs: a crash from here on finds it.
    await this.writer.flush();
  }

  /** The lease this process holds on the execution, when it runs under one (engine/queue). */
  lease: Lease | undefined;
  private abandonedReason: string | undefined;
  /** `inputs` as templates read them (see inputsVariable). */
  private inputsView: Record<string, unknown> | undefined;

  /**
   * Runs under a lease: every write is fenced by its token, and a refused write abandons the run
   * (another process owns the execution now).
   */
  useLease(lease: Lease, queue: WorkQueue): void {
    this.lease = lease;
    this.writer.useFence({ lease, leaseMs: queue.leaseMs }, () => this.abandon('its lease was lost'));
  }

  /**
   * Stops running here without writing anything more: the lease is lost, or the worker hands the
   * execution back on shutdown. Running tasks are aborted (their processes and containers stop); the
   * next owner resubmits the interrupted task runs.
   */
  abandon(reason: string): void {
    if (this.abandonedReason) return;
    this.abandonedReason = reason;
    this.writer.fenceOff();
    this.killController.abort(new Error(`abandoned: ${reason}`));
  }

  /** Whether the write of the end let the lease go already (see StateWriter.leaseEnded). */
  get leaseEnded(): boolean {
    return this.writer.leaseEnded;
  }

  /** Why this process stopped running the execution without ending it, if it did. */
  get abandoned(): string | undefined {
    return this.abandonedReason;
  }

  /** Aborted when the execution is killed (a queued execution stops waiting for its slot). */
  get killSignal(): AbortSignal {
    return this.killController.signal;
  }

  /** The flow's concurrency limit is reached and it queues: the execution waits as QUEUED, stored so. */
  async markQueued(reason: string): Promise<void> {
    const e = this.execution;
    e.state = transition(e.state, 'QUEUED', `execution ${e.id}`);
    this.executionLogger().info(reason);
    this.markExecution();
    await this.writer.flush();
  }

  /**
   * The flow's concurrency limit is reached and its behavior is CANCEL or FAIL: the execution ends at
   * once, without running a task, and its log says why.
   */
  async refuse(state: 'CANCELLED' | 'FAILED', reason: string): Promise<Execution> {
    const e = this.execution;
    const log = this.executionLogger();
    if (state === 'FAILED') log.error(reason);
    else log.warn(reason);
    await this.resources.logs.flush().catch(() => undefined);
    e.state = transition(e.state, state, `execution ${e.id}`);
    this.markExecution();
    await this.writer.flush();
    await this.resources.logs.flush();
    return e;
  }

  private executionLogger() {
    return this.resources.logs.logger({ executionId: this.execution.id, taskRunId: null, taskId: null, attemptNumber: null });
  }

  /** Runs the flow to a terminal state. */
  async run(): Promise<Execution> {
    const e = this.execution;
    const log = this.resources.logs.logger({ executionId: e.id, taskRunId: null, taskId: null, attemptNumber: null });
    // Killed before it started (a subflow whose parent was being killed): it goes straight to KILLED.
    if (!this.killed) {
      e.state = transition(e.state, 'RUNNING', `execution ${e.id}`);
      this.markExecution();
    }

    let state = await this.runList(this.flow.tasks, ROOT_SCOPE);
    // Abandoned: another process resumes the execution; nothing more happens here (no errors, finally…).
    if (this.abandonedReason) return e;
    // Its state cannot be stored: nothing more runs (no errors, finally…); the engine fails it.
    if (this.writeFailure !== undefined) throw this.writeFailure;
    if (isFailure(state) && !this.killed && this.flow.errors?.length) {
      await this.runList(this.flow.errors, ROOT_SCOPE);
    }
    if (this.flow.finally?.length) {
      const fin = await this.runList(this.flow.finally, ROOT_SCOPE, { evenIfKilled: true });
      state = mergeChildStates([state, fin]);
    }
    if (this.abandonedReason) return e;
    if (this.killed) state = 'KILLED';
    if (!isFailure(state) && this.flow.outputs?.length) {
      try {
        e.outputs = this.resources.masker.maskDeep(await this.renderFlowOutputs());
      } catch (err) {
        log.error(`Failed to render flow outputs: ${messageOf(err)}`);
        state = 'FAILED';
      }
    }
    // Logs before the end: whoever sees the execution ended (the API answers from this run) finds every
    // line its tasks printed. A flush that loses lines reports it; the execution still ends.
    await this.resources.logs.flush().catch(() => undefined);
    const from = e.state.current;
    e.state = transition(e.state, from === 'KILLING' ? 'KILLED' : (state as StateType), `execution ${e.id}`);
    this.markExecution();
    await this.writer.flush();
    if (this.flow.afterExecution?.length) {
      // Runs after the end; its failures are logged but never change the final state (Kestra 0.21).
      await this.runList(this.flow.afterExecution, { ...ROOT_SCOPE, variables: { execution: this.executionVariable() } });
      await this.writer.flush();
    }
    await this.resources.logs.flush();
    return e;
  }

  /** Runs tasks in order; stops at the first failure. Resolves to their merged state. */
  private async runList(tasks: readonly TaskDef[], scope: Scope, opts: { evenIfKilled?: boolean } = {}): Promise<StateType> {
    const states: StateType[] = [];
    for (const task of tasks) {
      if (this.abandonedReason) break;
      if (this.killed && !opts.evenIfKilled) {
        states.push('KILLED');
        break;
      }
      const state = await this.runTask(task, scope);
      if (state === null) continue;
      states.push(state);
      if (isFailure(state)) break;
    }
    return mergeChildStates(states);
  }

  /** One task: plugin defaults, runIf, then its attempts (runnable) or its children (flowable). */
  private async runTask(rawTask: TaskDef, scope: Scope): Promise<StateType | null> {
    const task = applyPluginDefaults(rawTask, [...(this.flow.pluginDefaults ?? []), ...(this.resources.pluginDefaults ?? [])]);
    // Disabled tasks are removed from the flow, as Kestra does: no task run at all.
    if (task.disabled === true) return null;
    // Tasks that never wait on I/O (or a resumed walk passing thousands of ended ones) would otherwise
    // hold the event loop from start to end.
    const turn = nextTurn();
    if (turn) await turn;
    const earlier = this.takePrior(task.id, scope);
    // Ended in an earlier walk: its state stands and its outputs stay in the list; nothing runs.
    if (earlier && isTerminal(earlier.state.current)) return earlier.state.current;
    if (!earlier && this.execution.taskRunList.length >= this.resources.limits.executionTaskRuns) {
      // No task run for it: the list is full. Its parent (or the execution) fails, saying why.
      const error = new LimitExceededError(
        'executionTaskRuns', `task '${task.id}' cannot start: execution ${this.execution.id} holds ${this.execution.taskRunList.length} task runs`, this.resources.limits,
      );
      const parent = scope.parent;
      const logger = parent
        ? this.resources.logs.logger({ executionId: parent.executionId, taskRunId: parent.id, taskId: parent.taskId, attemptNumber: null })
        : this.executionLogger();
      logger.error(error.message);
      return 'FAILED';
    }
    const run = earlier ?? this.newTaskRun(task, scope);
    if (earlier) this.resubmitInterrupted(earlier);
    this.save(run);
    const plugin = findPlugin(task.type);
    const logger = this.resources.logs.logger({ executionId: run.executionId, taskRunId: run.id, taskId: run.taskId, attemptNumber: null });
    if (!plugin) {
      logger.error(`Unknown task type '${task.type}'`);
      return this.finish(run, 'FAILED');
    }
    if (task.runIf !== undefined) {
      let condition: unknown;
      try {
        condition = await this.render(task.runIf, run, task, scope);
      } catch (err) {
        logger.error(`runIf: ${messageOf(err)}`);
        return this.finish(run, 'FAILED');
      }
      if (!isTruthy(condition)) return this.finish(run, 'SKIPPED');
    }
    if (this.killed) return this.finish(run, 'KILLED');
    run.state = transition(run.state, 'RUNNING', `task run ${run.id}`);
    this.save(run);

    let state = plugin.kind === 'flowable'
      ? await this.runFlowable(plugin, task, run, scope)
      : await this.runAttempts(plugin, task, run, scope);
    if (isFailure(state) && state !== 'KILLED' && task.errors?.length && plugin.kind === 'flowable') {
      await this.runList(task.errors, this.childScope(run, scope, {}));
    }
    if (this.killed && state !== 'SUCCESS' && state !== 'WARNING') state = 'KILLED';
    if (state === 'FAILED' && task.allowFailure === true) state = 'WARNING';
    if (state === 'WARNING' && task.allowWarning === true) state = 'SUCCESS';
    return this.finish(run, state);
  }

  /**
   * A task run found unfinished when the walk resumes an execution another process was running: its
   * last attempt was interrupted when that process died or lost its lease. The attempt is recorded as
   * RESUBMITTED and the task runs again.
   */
  private resubmitInterrupted(run: TaskRun): void {
    const last = run.attempts.at(-1);
    if (!last || isTerminal(last.state.current)) return;
    this.resubmitted.add(run.id);
    last.state = transition(last.state, 'RESUBMITTED', `attempt ${run.attempts.length} of ${run.id}`);
    this.resources.logs
      .logger({ executionId: run.executionId, taskRunId: run.id, taskId: run.taskId, attemptNumber: run.attempts.length })
      .warn(`Attempt ${run.attempts.length} was interrupted (its worker stopped or lost its lease); the task run is resubmitted`);
  }

  /** Runnable tasks: attempts with timeout, and retries by the task's `retry` policy. */
  private async runAttempts(plugin: TaskPlugin, task: TaskDef, run: TaskRun, scope: Scope): Promise<StateType> {
    const firstStart = Date.now();
    // A task run that runs again keeps its earlier attempts; the retry policy counts this walk's tries only.
    const earlierAttempts = run.attempts.length;
    for (let tries = 1; ; tries++) {
      const attemptNumber = earlierAttempts + tries;
      const attempt = { state: newState('RUNNING') };
      run.attempts.push(attempt);
      // The location lets a line cut at the log line limit be stored whole under the task run (BATON_LOG_FULL_LINES).
      const logger = this.resources.logs.logger({ executionId: run.executionId, taskRunId: run.id, taskId: run.taskId, attemptNumber }, { namespace: this.execution.namespace, flowId: this.execution.flowId });
      const controller = new AbortController();
      const onKill = () => controller.abort(new Error('killed'));
      this.killController.signal.addEventListener('abort', onKill, { once: true });
      let timer: NodeJS.Timeout | undefined;
      let state: StateType;
      let outputs: Record<string, unknown> | undefined;
      let cleanup: (() => Promise<void>) | undefined;
      let running: Promise<unknown> | undefined;
      try {
        const timeout = task.timeout === undefined ? undefined : String(await this.render(task.timeout, run, task, scope));
        const variables = this.variables(task, run, scope);
        const props = await this.renderProps(plugin, task, variables);
        const built = this.taskContext(task, run, scope, { attemptNumber, props, variables, logger, signal: controller.signal });
        cleanup = built.cleanup;
        const work = plugin.run(built.context);
        running = work;
        const aborted = new Promise<never>((_, reject) => {
          if (timeout) {
            timer = setTimeout(() => {
              const error = new TaskTimeout(timeout);
              controller.abort(error);
              reject(error);
            }, parseIsoDuration(timeout));
          }
          controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
        });
        // A plugin that ignores the signal must not hold the execution hostage.
        const result = (await Promise.race([work, aborted])) as TaskResult | void;
        work.catch(() => undefined);
        state = result?.state ?? 'SUCCESS';
        outputs = result?.outputs;
      } catch (err) {
        // Killed or timed out: the command is still being stopped. What it prints until it ends (its last
        // line without a newline included) belongs to this attempt, logged before the attempt's end and
        // the execution's last log flush, not after them (or never, once the process has exited).
        if (running && controller.signal.aborted) await settledWithin(running, STOPPING_TASK_WAIT_MS);
        if (this.killed) {
          state = 'KILLED';
        } else {
          state = 'FAILED';
          logger.error(messageOf(err));
          outputs = (err as { outputs?: Record<string, unknown> }).outputs;
        }
      } finally {
        if (timer) clearTimeout(timer);
        this.killController.signal.removeEventListener('abort', onKill);
      }
      if (cleanup) this.cleanUpLater(cleanup);
      const unstorable = outputs && this.unstorableOutputs(outputs, task, run);
      if (unstorable) {
        logger.error(unstorable.message);
        outputs = undefined;
        if (!this.killed) state = 'FAILED';
      }
      attempt.state = transition(attempt.state, state, `attempt ${attemptNumber} of ${run.id}`);
      if (outputs) this.setOutputs(run, this.resources.masker.maskDeep(outputs));
      if (state !== 'FAILED' || this.killed) {
        if (state === 'SUCCESS' && tries > 1 && task.retry?.warningOnRetry) state = 'WARNING';
        return state;
      }
      const delay = nextRetryDelay(task.retry, tries, Date.now() - firstStart);
      if (delay === null) return state;
      logger.warn(`Attempt ${attemptNumber} failed; retrying in ${delay} ms`);
      run.state = transition(run.state, 'RETRYING', `task run ${run.id}`);
      this.save(run);
      await sleep(delay, this.killController.signal);
      if (this.killed) return 'KILLED';
      run.state = transition(run.state, 'RUNNING', `task run ${run.id}`);
      this.save(run);
    }
  }

  /** Flowable tasks: the plugin orchestrates children through `runTasks`; their states merge. */
  private async runFlowable(plugin: TaskPlugin, task: TaskDef, run: TaskRun, scope: Scope): Promise<StateType> {
    const logger = this.resources.logs.logger({ executionId: run.executionId, taskRunId: run.id, taskId: run.taskId, attemptNumber: null });
    const childStates: StateType[] = [];
    let cleanup: (() => Promise<void>) | undefined;
    try {
      const variables = this.variables(task, run, scope);
      const props = await this.renderProps(plugin, task, variables);
      const built = this.taskContext(task, run, scope, {
        attemptNumber: 1,
        props,
        variables,
        logger,
        signal: this.killController.signal,
        runTasks: async (tasks: TaskDef[], options: RunTasksOptions = {}) => {
          const state = await this.runList(tasks, this.childScope(run, scope, options));
          childStates.push(state);
          return state;
        },
      });
      cleanup = built.cleanup;
      const result = await plugin.run(built.context);
      const unstorable = result?.outputs && this.unstorableOutputs(result.outputs, task, run);
      if (unstorable) throw unstorable;
      if (result?.outputs) this.setOutputs(run, this.resources.masker.maskDeep(result.outputs));
      if (result?.state) childStates.push(result.state);
      return mergeChildStates(childStates);
    } catch (err) {
      if (this.killed) return 'KILLED';
      logger.error(messageOf(err));
      const outputs = (err as { outputs?: Record<string, unknown> }).outputs;
      if (outputs) this.setOutputs(run, outputs);
      return 'FAILED';
    } finally {
      if (cleanup) this.cleanUpLater(cleanup);
    }
  }

  /**
   * Why a task run's outputs cannot be kept, if they cannot: larger than `taskOutputBytes` as JSON, or
   * not JSON at all (a BigInt, a cycle). Stored as they are, they would be refused by the database
   * (and fail the whole execution) or fill it.
   */
  private unstorableOutputs(outputs: Record<string, unknown>, task: TaskDef, run: TaskRun): Error | undefined {
    const limits = this.resources.limits;
    let json: string;
    try {
      json = JSON.stringify(outputs) ?? '';
    } catch (error) {
      return new Error(`the outputs of task '${task.id}' cannot be stored: ${messageOf(error)}`, { cause: error });
    }
    // A UTF-16 unit is at most 3 bytes of UTF-8: most outputs need no byte count at all.
    if (json.length * 3 <= limits.taskOutputBytes) return undefined;
    const bytes = Buffer.byteLength(json);
    if (bytes <= limits.taskOutputBytes) return undefined;
    return new LimitExceededError('taskOutputBytes', `the outputs of task '${task.id}' (task run ${run.id}) are ${bytes} bytes as JSON`, limits);
  }

  /** Working directories of ended tasks being removed (see cleanUpLater). */
  private readonly cleanups = new Set<Promise<void>>();

  /**
   * Removes an ended task's working directory without making the next task wait for it: no task reads
   * another's directory (a WorkingDirectory's children share its own, removed when it ends), and the
   * removal costs several file-system round trips.
   */
  private cleanUpLater(cleanup: () => Promise<void>): void {
    const pending: Promise<void> = cleanup()
      .catch(() => undefined)
      .finally(() => this.cleanups.delete(pending));
    this.cleanups.add(pending);
  }

  /**
   * Once the run is over here (ended, or abandoned to another process): waits for task directories
   * being removed, then removes the execution's own directory under the work root, so a busy worker
   * does not collect one empty directory per execution.
   */
  async removeWorkingFiles(): Promise<void> {
    await Promise.allSettled([...this.cleanups]);
    await rm(executionWorkDir(this.resources.workRoot, this.execution.id), { recursive: true, force: true }).catch(() => undefined);
  }

  /** The TaskContext of one attempt; only flowables get a `runTasks` that runs children. */
  private taskContext(
    task: TaskDef,
    run: TaskRun,
    scope: Scope,
    own: Pick<TaskContextInput, 'attemptNumber' | 'props' | 'variables' | 'logger' | 'signal'> & { runTasks?: TaskContextInput['runTasks'] },
  ) {
    return createTaskContext({
      resources: this.resources,
      flow: this.flow,
      execution: this.execution,
      task,
      taskRun: run,
      sharedWorkingDirectory: scope.workingDirectory,
      readable: this.readable,
      runSubflow: (request) => this.hooks.startSubflow(this, run, request),
      outputs: () => this.outputs(),
      ...own,
      runTasks:
        own.runTasks ??
        (async () => {
          throw new Error(`runnable task ${task.id} cannot run child tasks`);
        }),
    });
  }

  private childScope(run: TaskRun, scope: Scope, options: RunTasksOptions): Scope {
    return {
      parent: run,
      value: options.value ?? run.value,
      iteration: options.iteration ?? run.iteration,
      variables: { ...scope.variables, ...(options.variables ?? {}) },
      workingDirectory: options.workingDirectory ?? scope.workingDirectory,
    };
  }

  private newTaskRun(task: TaskDef, scope: Scope): TaskRun {
    const run: TaskRun = {
      id: newId(),
      executionId: this.execution.id,
      namespace: this.execution.namespace,
      flowId: this.execution.flowId,
      taskId: task.id,
      parentTaskRunId: scope.parent?.id ?? null,
      value: scope.value,
      iteration: scope.iteration,
      state: newState('CREATED'),
      attempts: [],
      outputs: null,
    };
    this.seqOf.set(run.id, this.seq++);
    this.execution.taskRunList.push(run);
    this.runsById.set(run.id, run);
    this.lastRunOfTask.set(run.taskId, run);
    return run;
  }

  private async finish(run: TaskRun, state: StateType): Promise<StateType> {
    if (isCreated(run.state.current) && state !== 'SKIPPED' && state !== 'KILLED') {
      run.state = transition(run.state, 'RUNNING', `task run ${run.id}`);
    }
    run.state = transition(run.state, state, `task run ${run.id}`);
    this.save(run);
    this.hooks.taskRunEnded(run);
    return state;
  }

  /** The task run of an earlier walk for this task at this place, if any (each is taken once). */
  private takePrior(taskId: string, scope: Scope): TaskRun | undefined {
    if (this.prior.size === 0) return undefined;
    const key = priorKey(taskId, scope.parent?.id ?? null, scope.value);
    const same = this.prior.get(key);
    const run = same?.shift();
    if (same && same.length === 0) this.prior.delete(key);
    return run;
  }

  private save(run: TaskRun): void {
    if (this.abandonedReason) return;
    this.writer.markTaskRun(run);
    this.hooks.changed(this.execution);
  }

  private markExecution(): void {
    // An abandoned run's states are this process's view only; nobody may see or react to them.
    if (this.abandonedReason) return;
    this.writer.markExecution();
    this.hooks.changed(this.execution);
  }

  private outputs(): Record<string, unknown> {
    return this.liveOutputs.tree;
  }

  private executionVariable(): Record<string, unknown> {
    const e = this.execution;
    return { id: e.id, startDate: e.state.startDate, originalId: e.originalId ?? e.id, state: e.state.current };
  }

  /** `inputs` for templates: a SECRET input decrypts when first read, and its value joins the masker then. */
  private inputsVariable(): Record<string, unknown> {
    return (this.inputsView ??= decryptingInputs(this.flow.inputs, this.execution.inputs, this.resources.encryption, (value) => this.resources.masker.add(value)));
  }

  /** The template context of a task run (Kestra's RunContext variables). */
  variables(task: TaskDef, run: TaskRun, scope: Scope): Record<string, unknown> {
    const e = this.execution;
    const parents: Record<string, unknown>[] = [];
    for (let p = scope.parent; p; p = p.parentTaskRunId ? this.runsById.get(p.parentTaskRunId) ?? null : null) {
      parents.push({ taskrun: { value: p.value, id: p.id }, outputs: p.outputs ?? {} });
    }
    // The state of the last task run of each task id in list order, read from the index the walk keeps
    // (not the list: a ForEach of thousands would make each task's variables cost the whole list).
    const tasks: Record<string, { state: StateType }> = {};
    for (const [taskId, t] of this.lastRunOfTask) tasks[taskId] = { state: t.state.current };
    const vars: Record<string, unknown> = {
      flow: { id: this.flow.id, namespace: this.flow.namespace, revision: e.flowRevision, tenantId: 'main' },
      execution: this.executionVariable(),
      task: { id: task.id, type: task.type },
      taskrun: {
        id: run.id,
        startDate: run.state.startDate,
        attemptsCount: run.attempts.length,
        parentId: run.parentTaskRunId,
        value: run.value,
        iteration: run.iteration,
      },
      inputs: this.inputsVariable(),
      vars: this.flow.variables ?? {},
      outputs: this.outputs(),
      labels: labelsToMap(e.labels),
      envs: kestraEnvs(this.resources.env),
      tasks,
      ...(e.trigger ? { trigger: e.trigger } : {}),
      ...(parents.length ? { parent: parents[0], parents } : {}),
      ...scope.variables,
    };
    return vars;
  }

  private async render(value: unknown, run: TaskRun, task: TaskDef, scope: Scope): Promise<unknown> {
    if (typeof value !== 'string') return value;
    return renderTyped(value, this.variables(task, run, scope), templateServices(this.resources, this.execution, this.readable));
  }

  /** Renders every plugin property except child task lists and the ones the plugin renders itself. */
  private async renderProps(plugin: TaskPlugin, task: TaskDef, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
    const raw = new Set([...(plugin.taskLists ?? []).map((t) => t.property), ...(plugin.unrendered ?? [])]);
    const services = templateServices(this.resources, this.execution, this.readable);
    const props: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(task)) {
      if (EXECUTOR_PROPERTIES.has(key)) continue;
      props[key] = raw.has(key) ? value : await renderValue(value, variables, services);
    }
    // The one place rendered text ("true", "3", a JSON list) becomes the type the plugin's schema declares.
    return coerceProps(plugin.properties, props, raw);
  }

  private async renderFlowOutputs(): Promise<Record<string, unknown>> {
    const variables = {
      ...this.variables({ id: '__flow_outputs', type: 'flow' }, this.execution.taskRunList[0] ?? this.phantomRun(), ROOT_SCOPE),
    };
    const services = templateServices(this.resources, this.execution, this.readable);
    const result: Record<string, unknown> = {};
    for (const output of this.flow.outputs ?? []) {
      const value = typeof output.value === 'string'
        ? await renderTyped(output.value, variables, services)
        : await renderValue(output.value, variables, services);
      try {
        result[output.id] = parseTyped(output.type, value, output);
      } catch (err) {
        throw new Error(`output '${output.id}': ${messageOf(err)}`, { cause: err });
      }
    }
    return result;
  }

  private phantomRun(): TaskRun {
    return {
      id: '', executionId: this.execution.id, namespace: this.execution.namespace, flowId: this.execution.flowId, taskId: '',
      parentTaskRunId: null, value: null, iteration: null, state: newState(), attempts: [], outputs: null,
    };
  }
}

export type SubflowStarter = (
  parent: ExecutionRun,
  taskRun: TaskRun,
  request: import('../plugins/types.ts').SubflowRequest,
) => Promise<import('../plugins/types.ts').SubflowResult>;

/** Where a task run sits: a task, under a parent task run, for an iteration value. */
function priorKey(taskId: string, parentTaskRunId: string | null, value: string | null): string {
  return JSON.stringify([taskId, parentTaskRunId, value]);
}

/**
 * `envs.*` by environment object. Reading `process.env` goes through a native getter per variable, a
 * measurable cost per execution at a hundred a second; the environment of a running engine is fixed.
 */
const envsByEnvironment = new WeakMap<object, Record<string, string>>();

function kestraEnvs(env: Record<string, string | undefined>): Record<string, string> {
  const known = envsByEnvironment.get(env);
  if (known) return known;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('KESTRA_') && v !== undefined) out[k.slice('KESTRA_'.length).toLowerCase()] = v;
  }
  envsByEnvironment.set(env, out);
  return out;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves when `work` settles or after `ms`, whichever comes first; never rejects. */
function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([work.then(() => undefined, () => undefined), waited]).finally(() => clearTimeout(timer));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
