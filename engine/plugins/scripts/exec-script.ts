/**
 * What every script plugin shares (Kestra's AbstractExecScript): its property schemas, the
 * properties rendered by the script layer instead of the executor, and the mapping of a task's
 * properties — deprecated ones included — onto a ScriptSpec.
 */
import { TaskFailure, type JsonSchema } from '../types.ts';
import { asStringList, type NamespaceFilesSpec, type ScriptSpec } from '../../scripts/index.ts';
import { DOCKER_RUNNER_TYPE, PROCESS_RUNNER_TYPE, type TaskRunnerDef } from '../../runners/index.ts';

/** Properties a script plugin leaves raw so runScript renders them with `workingDir`/`outputDir`/`outputFiles`. */
export const EXEC_SCRIPT_UNRENDERED = ['commands', 'beforeCommands', 'interpreter', 'inputFiles'] as const;

/** A value that may also be written as an expression (Kestra's `Property<T>`). */
export function dynamic(schema: JsonSchema): JsonSchema {
  return { anyOf: [schema, { type: 'string' }] };
}

const stringList: JsonSchema = { type: 'array', items: { type: 'string' } };

const taskRunner: JsonSchema = {
  type: 'object',
  properties: { type: { type: 'string', minLength: 1 } },
  required: ['type'],
  additionalProperties: true,
};

/** Kestra's deprecated DockerOptions (`docker:`), used only when `taskRunner` is not set. */
const dockerOptions: JsonSchema = {
  type: 'object',
  properties: {
    host: { type: 'string' },
    config: { anyOf: [{ type: 'string' }, { type: 'object' }] },
    credentials: { type: 'object' },
    image: { type: 'string' },
    user: { type: 'string' },
    entryPoint: stringList,
    extraHosts: stringList,
    networkMode: { type: 'string' },
    volumes: stringList,
    pullPolicy: { enum: ['IF_NOT_PRESENT', 'ALWAYS', 'NEVER'] },
    deviceRequests: { type: 'array' },
    cpu: { type: 'object' },
    memory: { type: 'object' },
    shmSize: { type: 'string' },
    privileged: { type: 'boolean' },
  },
  additionalProperties: true,
};

/** Every AbstractExecScript property, current and deprecated. */
export const EXEC_SCRIPT_PROPERTIES: Record<string, JsonSchema> = {
  taskRunner,
  containerImage: { type: 'string' },
  beforeCommands: dynamic(stringList),
  env: dynamic({ type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }),
  warningOnStdErr: dynamic({ type: 'boolean' }),
  interpreter: dynamic(stringList),
  failFast: dynamic({ type: 'boolean' }),
  namespaceFiles: {
    type: 'object',
    properties: {
      enabled: dynamic({ type: 'boolean' }),
      include: dynamic(stringList),
      exclude: dynamic(stringList),
      namespaces: dynamic(stringList),
      folderPerNamespace: dynamic({ type: 'boolean' }),
      ifExists: { enum: ['OVERWRITE', 'FAIL', 'WARN', 'IGNORE'] },
    },
    additionalProperties: false,
  },
  inputFiles: { anyOf: [{ type: 'object', additionalProperties: true }, { type: 'string' }] },
  outputFiles: dynamic(stringList),
  targetOS: { enum: ['LINUX', 'WINDOWS', 'AUTO'] },
  /** Deprecated: use `taskRunner`. */
  runner: { enum: ['PROCESS', 'DOCKER'] },
  /** Deprecated: use `taskRunner` and `containerImage`. */
  docker: dockerOptions,
  /** Deprecated: OUTPUT_DIR is always available in Baton. */
  outputDirectory: dynamic({ type: 'boolean' }),
};

/** The AbstractExecScript properties as a plugin receives them. */
export interface ExecScriptProps {
  taskRunner?: TaskRunnerDef;
  containerImage?: string;
  beforeCommands?: string[] | string;
  env?: Record<string, unknown> | string;
  warningOnStdErr?: boolean | string;
  interpreter?: string[] | string;
  failFast?: boolean | string;
  namespaceFiles?: Omit<NamespaceFilesSpec, 'enabled' | 'folderPerNamespace'> & {
    enabled?: boolean | string;
    folderPerNamespace?: boolean | string;
  };
  inputFiles?: Record<string, unknown> | string;
  outputFiles?: string[] | string;
  targetOS?: 'LINUX' | 'WINDOWS' | 'AUTO';
  runner?: 'PROCESS' | 'DOCKER';
  docker?: Record<string, unknown> & { image?: string };
  outputDirectory?: boolean | string;
}

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
  if (props.namespaceFiles) {
    spec.namespaceFiles = {
      ...props.namespaceFiles,
      enabled: flag(props.namespaceFiles.enabled, true),
      folderPerNamespace: flag(props.namespaceFiles.folderPerNamespace, false),
      include: list(props.namespaceFiles.include, 'namespaceFiles.include'),
      exclude: list(props.namespaceFiles.exclude, 'namespaceFiles.exclude'),
      namespaces: list(props.namespaceFiles.namespaces, 'namespaceFiles.namespaces'),
    };
  }
  return spec;
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
