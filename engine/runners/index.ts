/** Task runners: where a script's command actually runs (this host now, containers later). */
export type { OutputStream, RunnerJob, RunnerResult, TaskRunner, RunnerErrorCode } from './types.ts';
export { RunnerError, isRunnerError } from './types.ts';
export { LineSplitter, MAX_LINE_BYTES } from './line-splitter.ts';
export {
  ProcessRunner, PROCESS_RUNNER_TYPE, DEFAULT_KILL_GRACE_MS, ENV_PASSTHROUGH_VARIABLE, baseEnvironment,
  type ProcessRunnerOptions,
} from './process.ts';
export {
  resolveRunner, findRunner, allRunners, DOCKER_RUNNER_TYPE, DEFAULT_RUNNER_VARIABLE, type TaskRunnerDef,
} from './registry.ts';
