/** The flow definition as written in YAML (Kestra's `Flow`), after parsing and validation. */

export interface TaskDef {
  id: string;
  type: string;
  description?: string;
  disabled?: boolean;
  allowFailure?: boolean;
  allowWarning?: boolean;
  runIf?: string;
  timeout?: string;
  retry?: RetryDef;
  logLevel?: string;
  logToFile?: boolean;
  /** Enterprise-only worker routing; accepted and ignored. */
  workerGroup?: { key?: string; fallback?: 'FAIL' | 'WAIT' | 'CANCEL' };
  /** Flowable-local error handlers. */
  errors?: TaskDef[];
  /** Flowable-local tasks run at the end whatever the state (Kestra 0.21+). */
  finally?: TaskDef[];
  /** Plugin properties. */
  [property: string]: unknown;
}

export type RetryDef =
  | (RetryCommon & { type: 'constant'; interval: string })
  | (RetryCommon & { type: 'exponential'; interval: string; maxInterval: string; delayFactor?: number })
  | (RetryCommon & { type: 'random'; minInterval: string; maxInterval: string });

export interface RetryCommon {
  maxAttempt?: number;
  maxDuration?: string;
  warningOnRetry?: boolean;
  behavior?: 'RETRY_FAILED_TASK' | 'CREATE_NEW_EXECUTION';
}

export type InputType =
  | 'STRING' | 'INT' | 'FLOAT' | 'BOOLEAN' | 'BOOL' | 'DATETIME' | 'DATE' | 'TIME' | 'DURATION'
  | 'SELECT' | 'MULTISELECT' | 'ENUM' | 'ARRAY' | 'JSON' | 'YAML' | 'URI' | 'EMAIL' | 'FILE' | 'SECRET';

export interface InputDef {
  id: string;
  type: InputType;
  description?: string;
  displayName?: string;
  required?: boolean;
  defaults?: unknown;
  validator?: string;
  min?: number | string;
  max?: number | string;
  after?: string;
  before?: string;
  values?: unknown[];
  expression?: string;
  itemType?: InputType;
  allowCustomValue?: boolean;
  isRadio?: boolean;
  extension?: string;
  dependsOn?: { inputs?: string[]; condition?: string };
}

export interface TriggerDef {
  id: string;
  type: string;
  description?: string;
  disabled?: boolean;
  conditions?: Record<string, unknown>[];
  [property: string]: unknown;
}

export interface PluginDefault {
  type: string;
  forced?: boolean;
  values: Record<string, unknown>;
}

export interface FlowOutputDef {
  id: string;
  type: InputType;
  value: unknown;
  description?: string;
  displayName?: string;
  required?: boolean;
}

export interface FlowDef {
  id: string;
  namespace: string;
  revision?: number;
  description?: string;
  /** Normalised to a map by the parser (Kestra accepts a list of {key,value} or a map). */
  labels?: Record<string, string>;
  inputs?: InputDef[];
  variables?: Record<string, unknown>;
  tasks: TaskDef[];
  errors?: TaskDef[];
  finally?: TaskDef[];
  afterExecution?: TaskDef[];
  triggers?: TriggerDef[];
  pluginDefaults?: PluginDefault[];
  concurrency?: { limit: number; behavior?: 'QUEUE' | 'CANCEL' | 'FAIL' };
  outputs?: FlowOutputDef[];
  retry?: RetryDef;
  disabled?: boolean;
  /** Kestra's flow SLAs (beta): validated, not enforced yet. */
  sla?: FlowSlaDef[];
  /** Kestra 1.1 checks, evaluated before an execution is created: validated, not enforced yet. */
  checks?: FlowCheckDef[];
}

export interface FlowSlaDef {
  id: string;
  type: 'MAX_DURATION' | 'EXECUTION_ASSERTION';
  behavior: 'FAIL' | 'CANCEL' | 'NONE';
  labels?: Record<string, string> | { key: string; value: string }[];
  /** MAX_DURATION: ISO-8601 duration. */
  duration?: string;
  /** EXECUTION_ASSERTION: a template that must render true. */
  assert?: string;
}

export interface FlowCheckDef {
  condition: string;
  message: string;
  style?: 'ERROR' | 'SUCCESS' | 'WARNING' | 'INFO';
  behavior?: 'BLOCK_EXECUTION' | 'FAIL_EXECUTION' | 'CREATE_EXECUTION';
}
