import type { FlowDef } from '../flow/types.ts';
import { resolveInputs } from '../inputs/index.ts';
import type { SubflowRequest, SubflowResult } from '../plugins/types.ts';
import { newState, isTerminal } from '../state.ts';
import { childUri, inputPrefix } from '../storage/index.ts';
import { renderTyped } from '../template/index.ts';
import { newId } from '../ids.ts';
import { ExecutionRun } from './execution-run.ts';
import type { LogListener } from './log-writer.ts';
import { labelsToList, type Execution, type TaskRun } from './model.ts';
import type { EngineResources } from './resources.ts';
import { readablePrefixes, templateServices } from './task-context.ts';

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

interface ParentLink {
  run: ExecutionRun;
  taskRun: TaskRun;
  readable: readonly string[];
}

/**
 * The engine facade: creates executions, runs them, kills them. One instance per process;
 * the systems it drives (executor walk, logs, storage, KV) share its resources.
 */
export class Engine {
  private readonly running = new Map<string, ExecutionRun>();
  private readonly children = new Map<string, Set<string>>();
  private readonly background = new Set<Promise<unknown>>();

  constructor(readonly resources: EngineResources) {}

  /** Live log lines of every execution of this engine (the CLI and SSE filter by executionId). */
  onLog(listener: LogListener): () => void {
    return this.resources.logs.subscribe(listener);
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
    // SECRET inputs never show in logs or outputs.
    for (const def of flow.inputs ?? []) {
      const value = execution.inputs[def.id];
      if (def.type === 'SECRET' && typeof value === 'string') this.resources.masker.add(value);
    }
    await this.resources.repository.saveExecution(execution);
    const run = new ExecutionRun(this.resources, flow, execution, (p, t, r) => this.startSubflow(p, t, r), readable);
    this.running.set(id, run);
    return run;
  }

  /** Runs a created execution to its end. */
  async run(run: ExecutionRun): Promise<Execution> {
    try {
      return await run.run();
    } finally {
      this.running.delete(run.execution.id);
      this.children.delete(run.execution.id);
    }
  }

  /** Creates and runs an execution; resolves when it is terminal. */
  async execute(request: ExecuteRequest): Promise<Execution> {
    return this.run(await this.create(request));
  }

  /** Kills a running execution and the subflow executions it started. Resolves false when not running here. */
  async kill(executionId: string): Promise<boolean> {
    const run = this.running.get(executionId);
    if (!run) return false;
    await run.kill();
    for (const child of this.children.get(executionId) ?? []) await this.kill(child);
    return true;
  }

  /** Resolves once every execution started in the background (subflows without `wait`) has ended. */
  async idle(): Promise<void> {
    while (this.background.size) await Promise.allSettled([...this.background]);
  }

  private async startSubflow(parent: ExecutionRun, taskRun: TaskRun, request: SubflowRequest): Promise<SubflowResult> {
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

  /** The in-memory run of an execution, while it runs in this process. */
  runningExecution(id: string): Execution | undefined {
    const run = this.running.get(id);
    return run && !isTerminal(run.execution.state.current) ? run.execution : undefined;
  }
}
