/** Task runners: where a script's command actually runs (this host, or a Docker container). */
export type { OutputStream, RunnerJob, RunnerResult, TaskRunner, RunnerErrorCode } from './types.ts';
export { RunnerError, isRunnerError } from './types.ts';
export { LineSplitter, MAX_LINE_BYTES } from './line-splitter.ts';
export {
  ProcessRunner, PROCESS_RUNNER_TYPE, DEFAULT_KILL_GRACE_MS, ENV_PASSTHROUGH_VARIABLE, baseEnvironment, isBatonPrivateVariable,
  type ProcessRunnerOptions,
} from './process.ts';
export {
  TASK_USER_VARIABLE, DEFAULT_TASK_USER, TaskUserError, resolveTaskIsolation, prepareTaskIsolation, isolationWarning, thisHost,
  type TaskUser, type TaskIsolation, type HostAccounts,
} from './task-user.ts';
export {
  DockerRunner, DOCKER_RUNNER_TYPE, DOCKER_TASK_LABEL, DOCKER_VOLUMES_VARIABLE, type DockerRunnerOptions,
} from './docker.ts';
export { parseBytes, DOCKER_RUNNER_PROPERTIES, type PullPolicy } from './docker-options.ts';
export { resolveRunner, findRunner, allRunners, DEFAULT_RUNNER_VARIABLE, type TaskRunnerDef } from './registry.ts';
