import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { asStringList, resolveInside, runScript, type ScriptMetric, type ScriptOutputs, type ScriptResult } from '../../scripts/index.ts';
import {
  EXEC_SCRIPT_PROPERTIES, EXEC_SCRIPT_UNRENDERED, SCRIPT_OUTPUTS, dynamic, execScriptSpec, flag, type ExecScriptProps,
} from '../scripts/exec-script.ts';
import { Enum, Type, type Static } from '../../contract/index.ts';
import { TaskFailure, defineTask, type TaskContext } from '../types.ts';
import { DbtLogRelay } from './dbt-log-relay.ts';
import { nodeLogLines, nodeMetrics, parseRunResults } from './run-results.ts';

/** Kestra's fallback images when neither the task nor its runner names one. */
export const DBT_CORE_IMAGE = 'ghcr.io/kestra-io/dbt';
export const DBT_FUSION_IMAGE = 'ghcr.io/kestra-io/dbt-fusion';

type LogFormat = 'JSON' | 'TEXT' | 'DEBUG' | 'NONE';

interface KvManifest {
  key: string;
  namespace: string;
}

const DbtCliProperties = Type.Object({
  ...EXEC_SCRIPT_PROPERTIES,
  commands: Type.Union([Type.Array(Type.String(), {minItems: 1}), Type.String()]),
  profiles: Type.Optional(Type.String()),
  projectDir: Type.Optional(Type.String()),
  parseRunResults: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  logFormat: Type.Optional(Enum(['JSON', 'TEXT', 'DEBUG', 'NONE'])),
  engine: Type.Optional(Enum(['CORE', 'FUSION'])),
  storeManifest: Type.Optional(Type.Object({ key: Type.String({minLength: 1}), namespace: Type.String({minLength: 1}) }, {additionalProperties: false})),
  loadManifest: Type.Optional(Type.Object({ key: Type.String({minLength: 1}), namespace: Type.String({minLength: 1}) }, {additionalProperties: false})),
});
type DbtCliProps = Static<typeof DbtCliProperties>;

/**
 * io.kestra.plugin.dbt.cli.DbtCLI: runs dbt commands through the script layer (so the Process or
 * Docker runner applies as for shell tasks), with `profiles` written to `profiles.yml` in the working
 * directory. As in Kestra, each `dbt …` command gets `--project-dir`, `--log-format` and `--log-path`
 * unless it has them; dbt's JSON log lines become task log lines (a dbt warning ends the task in
 * WARNING); `target/run_results.json` gives one log line per node, and it and `target/manifest.json`
 * are stored as `outputFiles` — also when dbt fails, which fails the task with dbt's exit code.
 */
export const dbtCli = defineTask({
  type: 'io.kestra.plugin.dbt.cli.DbtCLI',
  kind: 'runnable',
  title: 'Run dbt commands',
  properties: DbtCliProperties,
  unrendered: [...EXEC_SCRIPT_UNRENDERED],
  description: "Runs dbt `commands` on a task runner, as shell tasks do, with `profiles` written to profiles.yml. Each `dbt …` command gets --project-dir, --log-format and --log-path unless it has them; dbt's JSON log lines become task log lines (a warning ends the task in WARNING), and run_results.json and manifest.json are kept as output files, also when dbt fails.",
  outputs: SCRIPT_OUTPUTS,
  examples: [{ title: 'Example', code: 'id: build\ntype: io.kestra.plugin.dbt.cli.DbtCLI\nnamespaceFiles:\n  enabled: true\nprofiles: |\n  shop:\n    target: dev\n    outputs:\n      dev:\n        type: duckdb\n        path: shop.duckdb\ncommands:\n  - dbt build' }],
  async run(ctx) {
    const { props } = ctx;
    const workingDir = await ctx.workingDirectory();
    const projectDir = normalizeProjectDir(props.projectDir);
    const projectPath = projectDir ? resolveInside(workingDir, projectDir, 'projectDir') : workingDir;
    ctx.logger.info(`dbt project working directory: ${projectPath}`);

    if (props.loadManifest) await loadManifest(ctx, props.loadManifest, projectPath);
    if (props.profiles) {
      const profilesFile = join(workingDir, 'profiles.yml');
      if (await exists(profilesFile)) ctx.logger.info("A 'profiles.yml' file already exists in the task working directory; it will be overridden.");
      await writeFile(profilesFile, props.profiles, 'utf8');
    }

    const logFormat = props.logFormat ?? 'JSON';
    const commands = (await renderCommands(ctx, workingDir)).map((command) => dbtCommandLine(command, { projectDir, logFormat }));
    if (props.engine === 'FUSION' && commands.some((c) => c.includes('--partial-parse') || c.includes('--no-partial-parse'))) {
      ctx.logger.warn("The '--partial-parse' and '--no-partial-parse' flags are not supported by the FUSION engine and will be silently ignored by dbt.");
    }

    const spec = execScriptSpec(props, props.engine === 'FUSION' ? DBT_FUSION_IMAGE : DBT_CORE_IMAGE);
    // The script layer hands every output line to the task's logger; the relay in front rewrites dbt's events.
    const relay = new DbtLogRelay(ctx.logger);
    let result: ScriptResult | undefined;
    let failure: TaskFailure | undefined;
    try {
      result = await runScript({ ...ctx, logger: relay }, {
        ...spec,
        commands,
        env: { PYTHONUNBUFFERED: 'true', PIP_ROOT_USER_ACTION: 'ignore', ...spec.env },
        // Kestra's dbt log consumer never counts stderr lines: dbt's own warnings decide WARNING.
        warningOnStdErr: false,
      });
    } catch (error) {
      if (!(error instanceof TaskFailure) || !error.outputs) throw error;
      failure = error;
    }

    const outputs = (result?.outputs ?? failure!.outputs) as unknown as ScriptOutputs;
    const metrics: ScriptMetric[] = [...(result?.metrics ?? []), ...relay.metrics];
    metrics.push(...(await collectArtifacts(ctx, projectPath, outputs, flag(props.parseRunResults, true))));
    if (failure) throw new TaskFailure(failure.message, { cause: failure, outputs: { ...outputs } });
    return { state: relay.warningDetected ? 'WARNING' : result!.state, outputs: { ...outputs }, metrics };
  },
});

/** `projectDir` as a clean relative path, or undefined for the working directory itself. */
function normalizeProjectDir(value: string | undefined): string | undefined {
  if (value == null) return undefined;
  const normalized = posix.normalize(String(value).trim().replace(/\\/g, '/')).replace(/\/+$/, '');
  return normalized === '' || normalized === '.' ? undefined : normalized;
}

/**
 * The commands rendered now, because the flags to add depend on what a template such as
 * `{{ inputs.dbt_command }}` turns into. `outputDir` is only known inside the script layer, so it is
 * left as an expression for the script layer's own rendering pass (Kestra renders commands twice too).
 */
async function renderCommands(ctx: TaskContext<DbtCliProps>, workingDir: string): Promise<string[]> {
  const rendered = await ctx.render(ctx.props.commands, { workingDir, outputDir: '{{ outputDir }}' });
  const commands = asStringList(rendered, 'commands');
  if (commands.length === 0) throw new TaskFailure('commands: at least one dbt command is required');
  return commands;
}

/**
 * A dbt command with the flags Kestra adds: `--project-dir` when `projectDir` is set, `--log-format`
 * unless NONE, and `--log-path logs`, each only when the command does not already have it.
 * Commands that do not start with `dbt` are left alone.
 */
export function dbtCommandLine(command: string, options: { projectDir?: string; logFormat: LogFormat }): string {
  if (!command.startsWith('dbt')) return command;
  let line = command;
  if (options.projectDir && !line.includes('--project-dir')) line += ` --project-dir ${options.projectDir}`;
  if (options.logFormat !== 'NONE' && !line.includes('--log-format')) line += ` --log-format ${options.logFormat.toLowerCase()}`;
  if (!line.includes('--log-path')) line += ' --log-path logs';
  return line;
}

/**
 * Stores `target/manifest.json` (and, with `parseRunResults`, `target/run_results.json`, logging one
 * line per node) as output files; resolves to the nodes' metrics.
 */
async function collectArtifacts(ctx: TaskContext<DbtCliProps>, projectPath: string, outputs: ScriptOutputs, parseResults: boolean): Promise<ScriptMetric[]> {
  const manifestFile = join(projectPath, 'target', 'manifest.json');
  const runResultsFile = join(projectPath, 'target', 'run_results.json');
  const metrics: ScriptMetric[] = [];

  if (await exists(manifestFile)) {
    ctx.logger.info(`dbt manifest found at ${manifestFile}`);
    if (ctx.props.storeManifest) await storeManifest(ctx, ctx.props.storeManifest, manifestFile);
    outputs.outputFiles['manifest.json'] = await ctx.storage.putFile('manifest.json', { file: manifestFile });
  } else {
    ctx.logger.warn(`dbt manifest not found at ${manifestFile}`);
  }

  if (parseResults && (await exists(runResultsFile))) {
    const parsed = parseRunResults(await readFile(runResultsFile, 'utf8'));
    if (parsed.ok) {
      for (const node of parsed.value.results) {
        for (const line of nodeLogLines(node)) ctx.logger.log(line.level, line.message);
      }
      metrics.push(...nodeMetrics(parsed.value.results));
    } else {
      // Kept as an output file all the same: it is dbt's record of the run, whatever Baton makes of it.
      ctx.logger.warn(`Unable to read dbt's run results ${runResultsFile}: ${parsed.reason}`);
    }
    outputs.outputFiles['run_results.json'] = await ctx.storage.putFile('run_results.json', { file: runResultsFile });
  }
  return metrics;
}

/** `loadManifest`: a manifest kept in the KV store becomes `target/manifest.json` (for `--defer`/`state:`). */
async function loadManifest(ctx: TaskContext<DbtCliProps>, source: KvManifest, projectPath: string): Promise<void> {
  const entry = await ctx.kv.get(source.namespace, source.key);
  const value = entry?.value;
  if (value == null || (typeof value === 'string' && value.trim() === '')) {
    ctx.logger.warn('Property `loadManifest` has been used but no manifest has been found in the KV Store.');
    return;
  }
  const target = join(projectPath, 'target', 'manifest.json');
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}

/** `storeManifest`: the run's manifest, as JSON, into the KV store. */
async function storeManifest(ctx: TaskContext<DbtCliProps>, destination: KvManifest, manifestFile: string): Promise<void> {
  const text = await readFile(manifestFile, 'utf8');
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new TaskFailure(`storeManifest: ${manifestFile} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  await ctx.kv.set(destination.namespace, destination.key, manifest, { type: 'JSON' });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
