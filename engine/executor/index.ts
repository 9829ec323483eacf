/** The executor: where executions are walked, task runs attempted and retried, and states stored. */
export { Engine, type FlowTriggerWatch, type EngineRole, type ExecuteRequest, type ExecutionListener } from './engine.ts';
export { ExecutionRun } from './execution-run.ts';
export { ExecutionRepository, type ExecutionSearch, type StoredLogEntry } from './repository.ts';
export { LogWriter, type LogListener, type StoredLogListener } from './log-writer.ts';
export { buildOutputs } from './outputs.ts';
export { nextRetryDelay } from './retry.ts';
export { TaskRunDurations, TASK_RUN_DURATION_BUCKETS, type HistogramSeries } from './metrics.ts';
export {
  ExecutionOperationError, ExecutionNotFoundError, ExecutionStateError, FlowRevisionNotFoundError, TaskRunNotFoundError,
} from './errors.ts';
export type { EngineResources, FlowSource, ResolvedFlow } from './resources.ts';
export type { Execution, TaskRun, Attempt, Label } from './model.ts';
export { StaticFlowSource, loadFlowFolder, FlowFolderError } from './flow-sources.ts';
