import { didYouMean, PluginRegistry, type PluginDefinition } from '../contract/index.ts';
import { DOCKER_RUNNER_DEFINITION } from './docker-options.ts';
import { DOCKER_RUNNER_TYPE, DockerRunner } from './docker.ts';
import { PROCESS_RUNNER_DEFINITION } from './process-options.ts';
import { PROCESS_RUNNER_TYPE, ProcessRunner } from './process.ts';
import { RunnerError, type TaskRunner } from './types.ts';

/** Overrides the default runner for tasks that name none (a runner type string). */
export const DEFAULT_RUNNER_VARIABLE = 'BATON_DEFAULT_TASK_RUNNER';

/** A task's `taskRunner` block: its type plus runner-specific options. */
export interface TaskRunnerDef {
  type: string;
  [option: string]: unknown;
}

/** A task runner in the plugin contract: its definition (schema, description, examples) and its implementation. */
export interface RunnerPlugin extends PluginDefinition {
  runner: TaskRunner;
}

/** Pairs a definition with its implementation; they must agree on the type string. */
function runnerPlugin(definition: PluginDefinition, runner: TaskRunner): RunnerPlugin {
  const missing = (runner.aliases ?? []).filter((alias) => !(definition.aliases ?? []).includes(alias));
  if (definition.type !== runner.type || missing.length > 0) {
    throw new Error(`task runner definition ${definition.type} does not match its implementation ${runner.type}`);
  }
  return { ...definition, runner };
}

/**
 * Every task runner, read by type string or alias. Adding one is one entry here (and, to make it a
 * default, one in DEFAULT_PREFERENCE).
 */
export const RUNNERS_REGISTRY = new PluginRegistry<RunnerPlugin>('runner', [
  runnerPlugin(DOCKER_RUNNER_DEFINITION, new DockerRunner()),
  runnerPlugin(PROCESS_RUNNER_DEFINITION, new ProcessRunner()),
]);
const RUNNERS: readonly TaskRunner[] = RUNNERS_REGISTRY.all().map((plugin) => plugin.runner);

/**
 * Runner types tried in order for a task without `taskRunner`: the first available one wins.
 * Kestra defaults to Docker; its `isAvailable()` (a reachable engine) decides, Process is the fallback.
 */
const DEFAULT_PREFERENCE: readonly string[] = [DOCKER_RUNNER_TYPE, PROCESS_RUNNER_TYPE];

const byType = new Map(RUNNERS_REGISTRY.names().map((name) => [name, RUNNERS_REGISTRY.find(name)!.runner]));

function indexByType(runners: readonly TaskRunner[]): Map<string, TaskRunner> {
  const index = new Map<string, TaskRunner>();
  for (const runner of runners) {
    for (const name of [runner.type, ...(runner.aliases ?? [])]) {
      if (index.has(name)) throw new Error(`task runner type registered twice: ${name}`);
      index.set(name, runner);
    }
  }
  return index;
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
 * `candidates` replaces the registered runners (tests choosing among runners in a known state).
 */
export async function resolveRunner(
  definition?: TaskRunnerDef,
  env: NodeJS.ProcessEnv = process.env,
  candidates?: readonly TaskRunner[],
): Promise<TaskRunner> {
  const runners = candidates ? indexByType(candidates) : byType;
  if (definition?.type) return lookup(definition.type, `taskRunner.type`, runners);
  const forced = env[DEFAULT_RUNNER_VARIABLE]?.trim();
  if (forced) return lookup(forced, `the ${DEFAULT_RUNNER_VARIABLE} environment variable`, runners);
  for (const type of DEFAULT_PREFERENCE) {
    const runner = runners.get(type);
    if (runner && (await runner.isAvailable())) return runner;
  }
  throw new RunnerError('NO_RUNNER_AVAILABLE', `no task runner can run on this machine (tried ${DEFAULT_PREFERENCE.join(', ')})`);
}

function lookup(type: string, source: string, runners: ReadonlyMap<string, TaskRunner>): TaskRunner {
  const runner = runners.get(type);
  if (runner) return runner;
  const known = [...new Set([...runners.values()].map((r) => r.type))];
  const hint = didYouMean(type, [...runners.keys()]);
  throw new RunnerError('UNKNOWN_RUNNER', `unknown task runner '${type}' in ${source}${hint ? ` (did you mean '${hint}'?)` : ''}; available: ${known.join(', ')}`);
}
