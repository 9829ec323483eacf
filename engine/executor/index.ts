/** The executor: where executions are walked, task runs attempted and retried, and states stored. */
export { Engine, type ExecuteRequest } from './engine.ts';
export { ExecutionRun } from './execution-run.ts';
export { ExecutionRepository } from './repository.ts';
export { LogWriter, type LogListener } from './log-writer.ts';
export { buildOutputs } from './outputs.ts';
export { nextRetryDelay } from './retry.ts';
export type { EngineResources, FlowSource, ResolvedFlow } from './resources.ts';
export type { Execution, TaskRun, Attempt, Label } from './model.ts';
export { StaticFlowSource, loadFlowFolder, FlowFolderError } from './flow-sources.ts';
