import type { Limits } from '../../config/index.ts';
import type { FlowDef, TaskDef } from '../flow/types.ts';
import type { StateType } from '../state.ts';
import type { LogLevel } from '../logs/types.ts';
import type { InternalStorage } from '../storage/types.ts';
import type { KvStore } from '../kv/types.ts';
import type { NamespaceFiles } from '../namespace-files/types.ts';
import { nestedPlugins, type PluginDefinition, type Static, type TObject } from '../contract/index.ts';

export type { JsonSchema } from '../contract/index.ts';

/**
 * A task plugin: one file per task type — its names, its properties' schema (from which the type of
 * `ctx.props` is derived), its outputs' schema, a description, examples, and `run` — registered by one
 * line in `registry.ts`. Runnable plugins do work; flowable plugins orchestrate children through
 * `ctx.runTasks`. Write one with `defineTask` so the props type is inferred from the schema.
 */
export interface TaskPlugin<P extends TObject = any, O extends TObject = any> extends PluginDefinition<P, O> {
  kind: 'runnable' | 'flowable';
  /** Properties holding child tasks (from their `TaskList()` schemas): never rendered, walked by validation and topology. */
  taskLists: readonly TaskListProperty[];
  /** Properties the plugin renders itself (e.g. with per-iteration variables); passed raw. */
  unrendered?: readonly string[];
  run(ctx: TaskContext<Static<P>>): Promise<TaskResult | void>;
}

/** A task plugin as written: `taskLists` is read from the schema. */
export type TaskPluginSpec<P extends TObject, O extends TObject> = Omit<TaskPlugin<P, O>, 'taskLists'>;

/** Declares a task plugin; the type of `ctx.props` is `Static<typeof properties>`. */
export function defineTask<P extends TObject, O extends TObject>(spec: TaskPluginSpec<P, O>): TaskPlugin<P, O> {
  const taskLists = nestedPlugins(spec.properties)
    .filter((n) => n.kind === 'task')
    .map((n): TaskListProperty => ({ property: n.property, shape: n.shape === 'map' ? 'map' : 'list' }));
  return { ...spec, taskLists };
}

/** `list`: `tasks: [..]`; `map`: `cases: {key: [..]}` (Switch). */
export interface TaskListProperty {
  property: string;
  shape: 'list' | 'map';
}

export interface TaskResult {
  /** Defaults to SUCCESS. */
  state?: Extract<StateType, 'SUCCESS' | 'WARNING' | 'FAILED'>;
  outputs?: Record<string, unknown>;
}

export interface TaskLogger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  log(level: LogLevel, message: string): void;
}

export interface RunTasksOptions {
  /** The iteration value children see as `taskrun.value` (ForEach, Switch). */
  value?: string;
  iteration?: number;
  /** Variables merged into the children's template context. */
  variables?: Record<string, unknown>;
  /** Working directory shared by the children (WorkingDirectory). */
  workingDirectory?: string;
}

export interface SubflowRequest {
  namespace: string;
  flowId: string;
  revision?: number;
  inputs?: Record<string, unknown>;
  labels?: Record<string, string>;
  wait: boolean;
  scheduleDate?: string;
}

export interface SubflowResult {
  executionId: string;
  state?: StateType;
  outputs?: Record<string, unknown>;
}

/** Everything a plugin may touch while it runs. */
export interface TaskContext<Props = Record<string, unknown>> {
  /** Rendered properties (task lists and `unrendered` ones left raw), pluginDefaults applied. */
  props: Props;
  /** The task definition after pluginDefaults, unrendered. */
  task: TaskDef;
  flow: FlowDef;
  execution: { id: string; namespace: string; flowId: string; flowRevision: number };
  taskRun: { id: string; taskId: string; value?: string; parentTaskRunId?: string; attemptNumber: number };
  logger: TaskLogger;
  /** Aborted on kill or timeout: long work must stop promptly. */
  signal: AbortSignal;
  /** The template context of this task run (flow, execution, inputs, vars, outputs, …). */
  variables: Record<string, unknown>;
  /** Render a value deeply with this task run's variables plus `extra`. */
  render(value: unknown, extra?: Record<string, unknown>): Promise<unknown>;
  renderString(template: string, extra?: Record<string, unknown>): Promise<string>;
  storage: TaskStorage;
  kv: KvStore;
  namespaceFiles: NamespaceFiles;
  /** The environment the engine was given (process.env unless a test passed its own): service endpoints and similar settings. */
  env?: Record<string, string | undefined>;
  /** A directory for this task run (shared with siblings inside WorkingDirectory); created on first call. */
  workingDirectory(): Promise<string>;
  /** Register a value that must never appear in logs or outputs. */
  maskSecret(value: string): void;
  /**
   * Masks a sequence of output lines in order, also catching a secret split across two consecutive
   * lines (see SecretMasker.lines); absent outside an engine, where lines are masked one by one.
   */
  maskLines?<T>(emit: (item: T, masked: string) => void): { push(item: T, line: string): void; end(): void };
  /** The engine's resource limits (config/limits.ts); absent outside an engine, where the defaults apply. */
  limits?: Limits;
  /** Flowables: run children sequentially; resolves to their merged state. */
  runTasks(tasks: TaskDef[], options?: RunTasksOptions): Promise<StateType>;
  /** Subflow: start another flow, optionally waiting for its end. */
  runSubflow(request: SubflowRequest): Promise<SubflowResult>;
  /** Outputs recorded so far for this execution (`outputs.<taskId>…`). */
  outputs(): Record<string, unknown>;
}

/** Files of the current execution in internal storage. */
export interface TaskStorage {
  /** Store a local file (or bytes) under this task run's prefix; resolves to its kestra:// URI. */
  putFile(name: string, data: Buffer | string | { file: string } | NodeJS.ReadableStream): Promise<string>;
  /** Read a kestra:// URI of this execution (or its parents); anything else is refused. */
  read(uri: string): Promise<Buffer>;
  /** The same, as a stream: for files too large to hold in memory. */
  stream(uri: string): Promise<NodeJS.ReadableStream>;
  /** Copy a kestra:// URI of this execution to a local path. */
  download(uri: string, destination: string): Promise<void>;
  /** Delete every file of this execution; resolves to the deleted URIs. */
  purgeExecution(): Promise<string[]>;
  backend: InternalStorage;
}

/** Thrown by plugins for an expected failure; the message is logged as the task's error. */
export class TaskFailure extends Error {
  constructor(message: string, options?: { cause?: unknown; outputs?: Record<string, unknown> }) {
    super(message, options);
    this.name = 'TaskFailure';
    this.outputs = options?.outputs;
  }
  readonly outputs?: Record<string, unknown>;
}
