import type { Limits } from '../../config/index.ts';
import type { FlowDef, TaskDef } from '../flow/types.ts';
import type { StateType } from '../state.ts';
import type { LogLevel } from '../logs/types.ts';
import type { InternalStorage } from '../storage/types.ts';
import type { KvStore } from '../kv/types.ts';
import type { NamespaceFiles } from '../namespace-files/types.ts';

/** A JSON Schema fragment (draft 2020-12 subset that ajv understands). */
export type JsonSchema = Record<string, unknown>;

/**
 * A task plugin: one file per task type, registered in `registry.ts` keyed by its type string.
 * Runnable plugins do work; flowable plugins orchestrate children through `ctx.runTasks`.
 */
export interface TaskPlugin<Props = any> {
  /** Kestra type string, e.g. `io.kestra.plugin.core.log.Log`. */
  type: string;
  /** Older type names that mean the same plugin (e.g. `io.kestra.core.tasks.log.Log`). */
  aliases?: readonly string[];
  kind: 'runnable' | 'flowable';
  /** One line for docs and the UI. */
  title: string;
  /** JSON Schema of the plugin's own properties; the common task properties are added by the validator. */
  properties: Record<string, JsonSchema>;
  required?: readonly string[];
  /** Properties holding child tasks: never rendered, walked by validation and topology. */
  taskLists?: readonly TaskListProperty[];
  /** Properties the plugin renders itself (e.g. with per-iteration variables); passed raw. */
  unrendered?: readonly string[];
  run(ctx: TaskContext<Props>): Promise<TaskResult | void>;
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
