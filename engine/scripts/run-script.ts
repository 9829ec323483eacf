import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskContext, TaskResult } from '../plugins/types.ts';
import { TaskFailure } from '../plugins/types.ts';
import { isRunnerError, resolveRunner, type RunnerResult, type TaskRunnerDef } from '../runners/index.ts';
import { DEFAULT_INTERPRETER, buildCommandLine, storageUriLocalizer } from './command-line.ts';
import { normalizeInputFiles, writeInputFiles } from './input-files.ts';
import { ScriptLogConsumer } from './log-consumer.ts';
import { copyNamespaceFiles, type NamespaceFilesSpec } from './namespace-files.ts';
import { uploadOutputDirectory, uploadOutputFiles } from './output-files.ts';
import type { ScriptMetric } from './output-protocol.ts';
import { prepareFileTarget } from './working-dir-paths.ts';

/**
 * What a script task asks for (Kestra's AbstractExecScript properties, already merged by the plugin).
 *
 * `commands`, `interpreter`, `beforeCommands`, `inputFiles` and `scriptFile.content` are **templates**:
 * plugins declare them `unrendered` and runScript renders them with the task's variables plus
 * `workingDir`, `outputDir` and `outputFiles` (the paths only known once the directory exists).
 * Every other field is used as given (already rendered).
 */
export interface ScriptSpec {
  commands: string[] | string;
  interpreter?: string[] | string;
  beforeCommands?: string[] | string;
  /** Final (never rendered) lines the plugin adds after `set -e` and before `beforeCommands`. */
  setupCommands?: string[];
  /** Prepend `set -e`; default true. */
  failFast?: boolean;
  env?: Record<string, string>;
  inputFiles?: Record<string, unknown> | string;
  outputFiles?: string[];
  namespaceFiles?: NamespaceFilesSpec;
  /** End in WARNING when anything was written to stderr; default true. */
  warningOnStdErr?: boolean;
  taskRunner?: TaskRunnerDef;
  containerImage?: string;
  /** A file written into the working directory before the commands run (e.g. the Python script). */
  scriptFile?: { name: string; content: string };
}

/** Kestra's ScriptOutput. */
export interface ScriptOutputs {
  exitCode: number;
  /** Outputs sent with the `::{"outputs":…}::` protocol; always present. */
  vars: Record<string, unknown>;
  /** `{relative/path: kestra:// URI}` of `outputFiles` matches and everything in `OUTPUT_DIR`. */
  outputFiles: Record<string, string>;
}

/** The task result plus the metrics the script sent, for the executor to store next to the task run. */
export interface ScriptResult extends TaskResult {
  outputs: ScriptOutputs & Record<string, unknown>;
  metrics: ScriptMetric[];
}

/**
 * Runs a script task end to end, as Kestra's CommandsWrapper: prepares the working directory
 * (namespace files, input files, script file), runs the command line on the chosen task runner,
 * turns its output into logs, vars and metrics, uploads output files, and decides the state:
 * non-zero exit → TaskFailure `Command failed with exit code N` (outputs attached), stderr with
 * `warningOnStdErr` → WARNING, abort → TaskFailure once the runner has stopped the command.
 */
export async function runScript(ctx: TaskContext<unknown>, spec: ScriptSpec): Promise<ScriptResult> {
  const workingDir = await ctx.workingDirectory();
  // Kestra names it with a random id: a fixed name could clash with a file the task brings.
  const outputDir = join(workingDir, randomBytes(12).toString('base64url'));
  await mkdir(outputDir, { recursive: true });
  const metrics: ScriptMetric[] = [];
  const vars = { workingDir, outputDir, outputFiles: namedOutputFiles(workingDir, spec.outputFiles ?? []) };
  const render = async (value: unknown) => ctx.render(value, vars);
  const localize = storageUriLocalizer(ctx, workingDir);

  if (spec.namespaceFiles && spec.namespaceFiles.enabled !== false) {
    metrics.push(...(await copyNamespaceFiles(ctx, workingDir, spec.namespaceFiles)));
  }
  if (spec.inputFiles != null) {
    const files = normalizeInputFiles(await renderInputFiles(ctx, spec.inputFiles, vars));
    await writeInputFiles(ctx, workingDir, files);
  }
  if (spec.scriptFile) {
    const content = await localize(asText(await render(spec.scriptFile.content)));
    await writeFile(await prepareFileTarget(workingDir, spec.scriptFile.name, 'script'), content, 'utf8');
  }

  const renderList = async (value: unknown, property: string) =>
    Promise.all(asStringList(await render(value), property).map(localize));
  const command = buildCommandLine({
    interpreter: spec.interpreter == null ? DEFAULT_INTERPRETER : await renderList(spec.interpreter, 'interpreter'),
    setupCommands: spec.setupCommands ?? [],
    beforeCommands: spec.beforeCommands == null ? [] : await renderList(spec.beforeCommands, 'beforeCommands'),
    commands: await renderList(spec.commands, 'commands'),
    failFast: spec.failFast ?? true,
  });

  // The engine's environment (a test's or the server's) may choose the default runner; process.env is the base.
  const runnerEnv = ctx.env ? { ...process.env, ...ctx.env } : process.env;
  const runner = await resolveRunner(spec.taskRunner, runnerEnv).catch((error: unknown) => {
    throw new TaskFailure((error as Error).message, { cause: error });
  });
  ctx.logger.debug(`Using task runner '${runner.type}'`);
  throwIfKilled(ctx);

  // The command stops when the task is killed or times out, and when its output goes past the task log limit.
  const stop = new AbortController();
  const forwardAbort = () => stop.abort(ctx.signal.reason);
  if (ctx.signal.aborted) forwardAbort();
  else ctx.signal.addEventListener('abort', forwardAbort, { once: true });
  const consumer = new ScriptLogConsumer(ctx.logger, { limits: ctx.limits, onLimit: (error) => stop.abort(error), maskLines: ctx.maskLines });
  let result: RunnerResult;
  try {
    result = await runner.run({
      command,
      workingDir,
      outputDir,
      // WORKING_DIR and OUTPUT_DIR win over a task env of the same name, as in Kestra.
      env: { ...(spec.env ?? {}), WORKING_DIR: workingDir, OUTPUT_DIR: outputDir },
      signal: stop.signal,
      onLine: (stream, line) => consumer.accept(stream, line),
      containerImage: spec.containerImage,
      options: { ...(spec.taskRunner ?? {}) },
      labels: {
        'baton.task': ctx.taskRun.taskId,
        'baton.taskrun': ctx.taskRun.id,
        'baton.execution': ctx.execution.id,
        'baton.namespace': ctx.execution.namespace,
        'baton.flow': ctx.execution.flowId,
      },
      log: (level, message) => ctx.logger.log(level === 'debug' ? 'DEBUG' : level === 'info' ? 'INFO' : 'WARN', message),
    });
  } catch (error) {
    if (isRunnerError(error)) throw new TaskFailure(error.message, { cause: error });
    throw error;
  } finally {
    ctx.signal.removeEventListener('abort', forwardAbort);
    // A line held back for the split-secret check is logged now.
    consumer.end();
  }
  // The lines printed up to the limit are logged; the task fails naming the limit and its variable.
  if (consumer.exceeded) throw new TaskFailure(consumer.exceeded.message, { cause: consumer.exceeded });
  metrics.push(...consumer.metrics);
  if (result.killed) throwIfKilled(ctx, `Command stopped before its end (exit code ${result.exitCode})`);

  const outputFiles = {
    ...(await uploadOutputDirectory(ctx, outputDir)),
    ...(await uploadOutputFiles(ctx, workingDir, spec.outputFiles ?? [])),
  };
  const outputs = { exitCode: result.exitCode, vars: consumer.vars, outputFiles };
  if (result.exitCode !== 0) {
    throw new TaskFailure(`Command failed with exit code ${result.exitCode}`, { outputs });
  }
  const warn = (spec.warningOnStdErr ?? true) && consumer.stderrLines > 0;
  return { state: warn ? 'WARNING' : 'SUCCESS', outputs, metrics };
}

/** Kestra renders inputFiles keys and values (or the whole JSON string) with the script variables. */
async function renderInputFiles(
  ctx: TaskContext<unknown>,
  inputFiles: Record<string, unknown> | string,
  vars: Record<string, unknown>,
): Promise<unknown> {
  if (typeof inputFiles === 'string') return ctx.render(inputFiles, vars);
  const rendered: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputFiles)) {
    rendered[await ctx.renderString(key, vars)] = value == null ? value : await ctx.render(value, vars);
  }
  return rendered;
}

/** `{name: absolute path}` for each literal (non-glob) `outputFiles` entry, for `{{ outputFiles['name'] }}`. */
function namedOutputFiles(workingDir: string, patterns: readonly string[]): Record<string, string> {
  const named: Record<string, string> = {};
  for (const pattern of patterns) {
    if (!/[*?[]/.test(pattern)) named[pattern] = join(workingDir, pattern);
  }
  return named;
}

/**
 * A list property after rendering: a list, a JSON list in a string (from an expression), or one
 * string meaning a single entry.
 */
export function asStringList(value: unknown, property: string): string[] {
  if (value == null) return [];
  if (Array.isArray(value)) return value.filter((v) => v != null).map((v) => asText(v));
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (Array.isArray(parsed)) return asStringList(parsed, property);
      } catch {
        // Not JSON: a single command that happens to start with '['.
      }
    }
    return [value];
  }
  throw new TaskFailure(`${property} must be a list of strings`);
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

function throwIfKilled(ctx: TaskContext<unknown>, fallback?: string): void {
  if (!ctx.signal.aborted && fallback === undefined) return;
  const reason: unknown = ctx.signal.reason;
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : undefined;
  throw new TaskFailure(why ? `Command killed: ${why}` : (fallback ?? 'Command killed'), { cause: reason });
}
