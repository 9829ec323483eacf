/**
 * What every script plugin shares (Kestra's AbstractExecScript): its property schemas, the
 * properties rendered by the script layer instead of the executor, and the mapping of a task's
 * properties — deprecated ones included — onto a ScriptSpec.
 */
import { Dynamic, Enum, PluginRef, Type, type Static } from '../../contract/index.ts';
import { TaskFailure } from '../types.ts';
import { asStringList, type NamespaceFilesSpec, type ScriptSpec } from '../../scripts/index.ts';
import { DOCKER_RUNNER_PROPERTIES, DOCKER_RUNNER_TYPE, PROCESS_RUNNER_TYPE, type TaskRunnerDef } from '../../runners/index.ts';

/** Properties a script plugin leaves raw so runScript renders them with `workingDir`/`outputDir`/`outputFiles`. */
export const EXEC_SCRIPT_UNRENDERED = ['commands', 'beforeCommands', 'interpreter', 'inputFiles'] as const;

/** A value that may also be written as an expression (Kestra's `Property<T>`). */
export const dynamic = Dynamic;

const stringList = () => Type.Array(Type.String());
const dynamicFlag = () => Dynamic(Type.Boolean());

/**
 * Kestra's deprecated DockerOptions (`docker:`), used only when `taskRunner` is not set: the Docker
 * runner's properties it had, and no others (Kestra refuses unknown ones too).
 */
const DOCKER_OPTION_NAMES = [
  'host', 'config', 'credentials', 'image', 'user', 'entryPoint', 'extraHosts', 'networkMode', 'volumes', 'pullPolicy',
  'deviceRequests', 'cpu', 'memory', 'shmSize', 'privileged',
] as const;
const DockerOptions = Type.Pick(DOCKER_RUNNER_PROPERTIES, DOCKER_OPTION_NAMES, {
  additionalProperties: false, deprecated: true, description: 'Deprecated: use `taskRunner` and `containerImage`.',
});

/** Kestra's NamespaceFiles block: namespace files copied into the working directory first. */
export const NAMESPACE_FILES = Type.Object({
  enabled: Type.Optional(dynamicFlag()),
  include: Type.Optional(Dynamic(stringList())),
  exclude: Type.Optional(Dynamic(stringList())),
  namespaces: Type.Optional(Dynamic(stringList())),
  folderPerNamespace: Type.Optional(dynamicFlag()),
  ifExists: Type.Optional(Enum(['OVERWRITE', 'FAIL', 'WARN', 'IGNORE'])),
}, { additionalProperties: false, description: 'Namespace files to copy into the working directory.' });

/** Every AbstractExecScript property, current and deprecated (spread into each script task's `Type.Object`). */
export const EXEC_SCRIPT_PROPERTIES = {
  taskRunner: Type.Optional(PluginRef('runner', { description: 'Where the commands run: Process (this host) or Docker.' })),
  containerImage: Type.Optional(Type.String({ description: 'The image for container runners.' })),
  beforeCommands: Type.Optional(Dynamic(stringList(), { description: 'Commands run before the main ones.' })),
  env: Type.Optional(Dynamic(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])), { description: 'Environment variables.' })),
  warningOnStdErr: Type.Optional(dynamicFlag()),
  interpreter: Type.Optional(Dynamic(stringList(), { description: 'The interpreter and its arguments; /bin/sh -c by default.' })),
  failFast: Type.Optional(dynamicFlag()),
  namespaceFiles: Type.Optional(NAMESPACE_FILES),
  inputFiles: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.String()], { description: 'Files to write first: relative path → content or kestra:// URI.' })),
  outputFiles: Type.Optional(Dynamic(stringList(), { description: 'Globs of files to keep in internal storage.' })),
  targetOS: Type.Optional(Enum(['LINUX', 'WINDOWS', 'AUTO'])),
  runner: Type.Optional(Enum(['PROCESS', 'DOCKER'], { deprecated: true, description: 'Deprecated: use `taskRunner`.' })),
  docker: Type.Optional(DockerOptions),
  outputDirectory: Type.Optional(Dynamic(Type.Boolean(), { deprecated: true, description: 'Deprecated: OUTPUT_DIR is always available in Baton.' })),
};

const ExecScript = Type.Object(EXEC_SCRIPT_PROPERTIES);
/** The AbstractExecScript properties as a plugin receives them. */
export type ExecScriptProps = Static<typeof ExecScript>;

/** Kestra's ScriptOutput, the outputs of every script task. */
export const SCRIPT_OUTPUTS = Type.Object({
  exitCode: Type.Integer({ description: "The command's exit code." }),
  vars: Type.Record(Type.String(), Type.Unknown(), { description: 'Outputs the script sent with the ::{"outputs":…}:: protocol.' }),
  outputFiles: Type.Record(Type.String(), Type.String(), { description: 'Kept files: relative path → kestra:// URI.' }),
});

/**
 * The ScriptSpec fields common to all script plugins (everything but the commands).
 * The deprecated `runner`/`docker` pair wins when set, as in Kestra; `containerImage` falls back to
 * `docker.image`, then to the plugin's default image.
 */
export function execScriptSpec(props: ExecScriptProps, defaultImage: string): Omit<ScriptSpec, 'commands'> {
  const windows = props.targetOS === 'WINDOWS';
  const spec: Omit<ScriptSpec, 'commands'> = {
    taskRunner: legacyTaskRunner(props) ?? props.taskRunner,
    containerImage: props.containerImage ?? props.docker?.image ?? defaultImage,
    beforeCommands: props.beforeCommands,
    env: stringMap(props.env),
    warningOnStdErr: flag(props.warningOnStdErr, true),
    interpreter: props.interpreter,
    // `set -e` means nothing to cmd.exe; Kestra leaves it out for Windows targets.
    failFast: windows ? false : flag(props.failFast, true),
    inputFiles: props.inputFiles,
    outputFiles: list(props.outputFiles, 'outputFiles'),
  };
  if (props.namespaceFiles) spec.namespaceFiles = namespaceFilesSpec(props.namespaceFiles);
  return spec;
}

/** A `namespaceFiles` block with its flags and lists read from their written or rendered forms. */
export function namespaceFilesSpec(block: Static<typeof NAMESPACE_FILES>): NamespaceFilesSpec {
  return {
    ...block,
    enabled: flag(block.enabled, true),
    folderPerNamespace: flag(block.folderPerNamespace, false),
    include: list(block.include, 'namespaceFiles.include'),
    exclude: list(block.exclude, 'namespaceFiles.exclude'),
    namespaces: list(block.namespaces, 'namespaceFiles.namespaces'),
  };
}

function legacyTaskRunner(props: ExecScriptProps): TaskRunnerDef | undefined {
  if (props.runner === 'PROCESS') return { type: PROCESS_RUNNER_TYPE };
  if (props.runner === 'DOCKER') return { ...(props.docker ?? {}), type: DOCKER_RUNNER_TYPE };
  return undefined;
}

/** A boolean property that an expression may have rendered to "true"/"false". */
export function flag(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string') return value.trim().toLowerCase() === 'true';
  return Boolean(value);
}

/** A list property that an expression may have rendered to a JSON list string. */
export function list(value: unknown, property = 'value'): string[] | undefined {
  return value == null ? undefined : asStringList(value, property);
}

/** `env` as a map, or as the JSON string of one (an expression result). */
function stringMap(value: Record<string, unknown> | string | undefined): Record<string, string> | undefined {
  if (value == null || value === '') return undefined;
  let map: unknown = value;
  if (typeof value === 'string') {
    try {
      map = JSON.parse(value);
    } catch (error) {
      throw new TaskFailure(`env must be a map of names to values: ${(error as Error).message}`, { cause: error });
    }
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new TaskFailure('env must be a map of names to values');
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)]));
}
