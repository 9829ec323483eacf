import { PROCESS_RUNNER_TYPE, ProcessRunner } from './process.ts';
import { RunnerError, type TaskRunner } from './types.ts';

/** Kestra's container runner type; no runner is registered under it yet. */
export const DOCKER_RUNNER_TYPE = 'io.kestra.plugin.scripts.runner.docker.Docker';

/** Overrides the default runner for tasks that name none (a runner type string). */
export const DEFAULT_RUNNER_VARIABLE = 'BATON_DEFAULT_TASK_RUNNER';

/** A task's `taskRunner` block: its type plus runner-specific options. */
export interface TaskRunnerDef {
  type: string;
  [option: string]: unknown;
}

/** Every task runner. Adding one is one entry here (and, to make it a default, one in DEFAULT_PREFERENCE). */
const RUNNERS: readonly TaskRunner[] = [new ProcessRunner()];

/**
 * Runner types tried in order for a task without `taskRunner`: the first available one wins.
 * Kestra defaults to Docker; once a Docker runner is registered it goes first here and its
 * `isAvailable()` (a reachable engine) decides, Process remaining the fallback.
 */
const DEFAULT_PREFERENCE: readonly string[] = [PROCESS_RUNNER_TYPE];

const byType = new Map<string, TaskRunner>();
for (const runner of RUNNERS) {
  for (const name of [runner.type, ...(runner.aliases ?? [])]) {
    if (byType.has(name)) throw new Error(`task runner type registered twice: ${name}`);
    byType.set(name, runner);
  }
}

/** The runner for a type string (or alias), undefined when unknown. */
export function findRunner(type: string): TaskRunner | undefined {
  return byType.get(type);
}

/** All runners, each once. */
export function allRunners(): readonly TaskRunner[] {
  return RUNNERS;
}

/**
 * The runner for a task: its explicit `taskRunner.type`, else `BATON_DEFAULT_TASK_RUNNER`, else the
 * first available runner of the default preference. An unknown type is a RunnerError UNKNOWN_RUNNER.
 */
export async function resolveRunner(
  definition?: TaskRunnerDef,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TaskRunner> {
  if (definition?.type) return lookup(definition.type, `taskRunner.type`);
  const forced = env[DEFAULT_RUNNER_VARIABLE]?.trim();
  if (forced) return lookup(forced, `the ${DEFAULT_RUNNER_VARIABLE} environment variable`);
  for (const type of DEFAULT_PREFERENCE) {
    const runner = byType.get(type);
    if (runner && (await runner.isAvailable())) return runner;
  }
  throw new RunnerError('NO_RUNNER_AVAILABLE', `no task runner can run on this machine (tried ${DEFAULT_PREFERENCE.join(', ')})`);
}

function lookup(type: string, source: string): TaskRunner {
  const runner = byType.get(type);
  if (runner) return runner;
  const known = RUNNERS.map((r) => r.type).join(', ');
  throw new RunnerError('UNKNOWN_RUNNER', `unknown task runner '${type}' in ${source}; available: ${known}`);
}
