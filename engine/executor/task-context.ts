import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FlowDef, TaskDef } from '../flow/types.ts';
import type {
  RunTasksOptions, SubflowRequest, SubflowResult, TaskContext, TaskLogger, TaskStorage,
} from '../plugins/types.ts';
import type { StateType } from '../state.ts';
import { executionPrefix, isKestraUri, taskRunPrefix } from '../storage/index.ts';
import { renderTemplate, renderValue, type TemplateServices } from '../template/index.ts';
import type { Execution, TaskRun } from './model.ts';
import type { EngineResources } from './resources.ts';
import { lookupServices } from '../template-lookups.ts';

export interface TaskContextInput {
  resources: EngineResources;
  flow: FlowDef;
  execution: Execution;
  task: TaskDef;
  taskRun: TaskRun;
  attemptNumber: number;
  props: Record<string, unknown>;
  variables: Record<string, unknown>;
  logger: TaskLogger;
  signal: AbortSignal;
  sharedWorkingDirectory?: string;
  /** kestra:// prefixes this execution may read (its own and its parents'). */
  readable: readonly string[];
  runTasks(tasks: TaskDef[], options?: RunTasksOptions): Promise<StateType>;
  runSubflow(request: SubflowRequest): Promise<SubflowResult>;
  outputs(): Record<string, unknown>;
}

/** Where an execution's tasks get their working directories on this host (removed when its run ends here). */
export function executionWorkDir(workRoot: string, executionId: string): string {
  return join(workRoot, executionId);
}

/** Builds the TaskContext a plugin sees; `cleanup` removes the task's own working directory. */
export function createTaskContext(input: TaskContextInput): { context: TaskContext; cleanup: () => Promise<void> } {
  const { resources, execution, taskRun } = input;
  const services = templateServices(resources, execution, input.readable);
  let ownDir: string | undefined;
  const context: TaskContext = {
    props: input.props,
    task: input.task,
    flow: input.flow,
    execution: { id: execution.id, namespace: execution.namespace, flowId: execution.flowId, flowRevision: execution.flowRevision },
    taskRun: {
      id: taskRun.id,
      taskId: taskRun.taskId,
      value: taskRun.value ?? undefined,
      parentTaskRunId: taskRun.parentTaskRunId ?? undefined,
      attemptNumber: input.attemptNumber,
    },
    logger: input.logger,
    signal: input.signal,
    variables: input.variables,
    render: (value, extra) => renderValue(value, extra ? { ...input.variables, ...extra } : input.variables, services),
    renderString: (template, extra) => renderTemplate(template, extra ? { ...input.variables, ...extra } : input.variables, services),
    storage: taskStorage(resources, execution, input.readable, input.task.id, taskRun.id),
    kv: resources.kv,
    namespaceFiles: resources.namespaceFiles,
    env: resources.env,
    async workingDirectory() {
      if (input.sharedWorkingDirectory) return input.sharedWorkingDirectory;
      if (!ownDir) {
        ownDir = join(executionWorkDir(resources.workRoot, execution.id), `${taskRun.id}-${input.attemptNumber}`);
        await mkdir(ownDir, { recursive: true });
      }
      return ownDir;
    },
    maskSecret: (value) => resources.masker.add(value),
    maskLines: (emit) => resources.masker.lines(emit),
    limits: resources.limits,
    runTasks: input.runTasks,
    runSubflow: input.runSubflow,
    outputs: input.outputs,
  };
  return {
    context,
    cleanup: async () => {
      if (ownDir) await rm(ownDir, { recursive: true, force: true });
    },
  };
}

/** Files of one execution: writes go under the task run's prefix, reads stay inside the execution. */
function taskStorage(
  resources: EngineResources, execution: Execution, readable: readonly string[], taskId: string, taskRunId: string,
): TaskStorage {
  const storage = resources.storage;
  const prefix = taskRunPrefix(execution.namespace, execution.flowId, execution.id, taskId, taskRunId);
  const checkReadable = (uri: string) => {
    if (!isKestraUri(uri)) throw new Error(`not a kestra:// URI: '${uri}'`);
    if (!readable.some((p) => uri.startsWith(p + '/'))) {
      throw new Error(`'${uri}' does not belong to execution ${execution.id}; only its own files can be read`);
    }
  };
  return {
    backend: storage,
    async putFile(name, data) {
      const clean = name.replace(/^\/+/, '');
      const body = isNodeStream(data) ? Readable.from(data as AsyncIterable<Buffer>) : (data as Buffer | string | { file: string });
      return storage.put(`${prefix}/${clean}`, body);
    },
    async read(uri) {
      checkReadable(uri);
      return storage.readBuffer(uri);
    },
    async stream(uri) {
      checkReadable(uri);
      return storage.get(uri);
    },
    async download(uri, destination) {
      checkReadable(uri);
      await mkdir(dirname(destination), { recursive: true });
      await pipeline(await storage.get(uri), createWriteStream(destination));
    },
    purgeExecution: () => storage.deletePrefix(executionPrefix(execution.namespace, execution.flowId, execution.id)),
  };
}

/** An execution may read its own files and those of the executions that started it (Subflow). */
export function readablePrefixes(execution: Execution, parents: readonly Execution[]): string[] {
  return [execution, ...parents].map((e) => executionPrefix(e.namespace, e.flowId, e.id));
}

function isNodeStream(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';
}

/** kv(), secret(), read() and fileSize() for templates of one execution. */
export function templateServices(resources: EngineResources, execution: Execution, readable: readonly string[]): TemplateServices {
  const checkUri = (uri: string) => {
    if (!readable.some((p) => uri.startsWith(p + '/'))) {
      throw new Error(`'${uri}' does not belong to execution ${execution.id}; only its own files can be read`);
    }
  };
  return {
    ...lookupServices(resources, execution.namespace),
    async read(path) {
      if (isKestraUri(path)) {
        checkUri(path);
        return (await resources.storage.readBuffer(path)).toString('utf8');
      }
      return (await resources.namespaceFiles.read(execution.namespace, path)).toString('utf8');
    },
    async fileSize(uri) {
      checkUri(uri);
      return resources.storage.size(uri);
    },
  };
}
