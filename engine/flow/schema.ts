/**
 * JSON Schemas of a flow and of each task, trigger, condition and input type, compiled once with ajv.
 * Task schemas are built from the plugin registry (common task properties + the plugin's own), so a new
 * plugin needs nothing here. Child task lists are checked only for shape: the validator walks into them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { _, Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as ajvFormats from 'ajv-formats';
import * as ajvStandalone from 'ajv/dist/standalone/index.js';
import { parseIsoDuration } from '../duration.ts';
import { LOG_LEVELS } from '../logs/types.ts';
import { PluginRefList, propertiesOf, type JsonSchema, type PluginDefinition, type PluginKind, type PluginRegistry } from '../contract/index.ts';
import { TASKS } from '../plugins/registry.ts';
import type { TaskPlugin } from '../plugins/types.ts';
import { RUNNERS_REGISTRY } from '../runners/registry.ts';
import { STATES } from '../state.ts';
import { CONDITIONS_REGISTRY, TRIGGERS_REGISTRY } from '../triggers/index.ts';
import type { InputType } from './types.ts';
import { taskListProperties } from './walk.ts';

/** True for a string Kestra would render (`{{ … }}` or `{% … %}`), whose value is only known at run time. */
export function isTemplate(value: unknown): value is string {
  return typeof value === 'string' && /\{\{|\{%/.test(value);
}

export const FLOW_ID_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9._-]*$';
export const NAMESPACE_PATTERN = '^[a-z0-9][a-z0-9._-]*$';
export const TASK_ID_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_-]*$';
export const INPUT_ID_PATTERN = '^[a-zA-Z0-9][.a-zA-Z0-9_-]*$';

/** Flow ids the API reserves for its own routes (Kestra 1.0). */
export const RESERVED_FLOW_IDS = ['pause', 'resume', 'force-run', 'change-status', 'kill', 'executions', 'search', 'source', 'disable', 'enable'];

export const INPUT_TYPES: readonly InputType[] = [
  'STRING', 'INT', 'FLOAT', 'BOOLEAN', 'BOOL', 'DATETIME', 'DATE', 'TIME', 'DURATION',
  'SELECT', 'MULTISELECT', 'ENUM', 'ARRAY', 'JSON', 'YAML', 'URI', 'EMAIL', 'FILE', 'SECRET',
];

/** An ISO-8601 duration (`PT30S`), or a template rendered at run time. */
const duration: JsonSchema = { type: 'string', format: 'duration' };
/** An ISO-8601 duration only: Kestra reads these as `Duration`, never rendered. */
const staticDuration: JsonSchema = { type: 'string', format: 'static-duration' };

function ajvInstance(): Ajv2020 {
  // strict: false so plugin schemas may carry annotations ajv does not know (markdownDescription, examples…).
  // code: the source of each validator is kept, so it can be cached (see compile); formats are taken
  // from this instance's own by name.
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false, logger: false, code: { source: true, formats: _`formats` } });
  const addFormats = ((ajvFormats as unknown as { default?: unknown }).default ?? ajvFormats) as (a: Ajv2020) => void;
  addFormats(ajv);
  ajv.addFormat('duration', { type: 'string', validate: (s: string) => isTemplate(s) || isDuration(s) });
  ajv.addFormat('static-duration', { type: 'string', validate: isDuration });
  ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' });
  return ajv;
}

function isDuration(text: string): boolean {
  try {
    parseIsoDuration(text);
    return true;
  } catch {
    return false;
  }
}

const ajv = ajvInstance();

const CONSTRAINING_KEYWORDS = ['type', 'enum', 'const', 'format', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'multipleOf'];

/**
 * Kestra's dynamic properties: wherever a value is constrained (a number, a boolean, an enum, a format, a
 * list, a map…), a template string is accepted too, since it is only rendered at run time.
 * `if`/`else` rather than `anyOf` keeps ajv's errors those of the real schema.
 */
export function acceptTemplates(schema: JsonSchema): JsonSchema {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out: JsonSchema = { ...schema };
  const mapValues = (value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, acceptTemplates(v)]))
      : value;
  if (out.properties) out.properties = mapValues(out.properties);
  if (out.patternProperties) out.patternProperties = mapValues(out.patternProperties);
  if (out.$defs) out.$defs = mapValues(out.$defs);
  for (const key of ['items', 'additionalProperties', 'not', 'then', 'else', 'contains']) {
    const value = out[key];
    if (value && typeof value === 'object' && !Array.isArray(value)) out[key] = acceptTemplates(value as JsonSchema);
  }
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    if (Array.isArray(out[key])) out[key] = (out[key] as JsonSchema[]).map(acceptTemplates);
  }
  const pureString = out.type === 'string' && !['enum', 'const', 'format', 'pattern', 'minLength', 'maxLength'].some((k) => k in out);
  const constrained = CONSTRAINING_KEYWORDS.some((k) => k in out) || 'anyOf' in out || 'oneOf' in out;
  if (!constrained || pureString) return out;
  return { if: { type: 'string', pattern: '\\{\\{|\\{%' }, then: true, else: out };
}

/** A task-list property: its shape only; every child is validated as a task of its own. */
function taskListShape(shape: 'list' | 'map'): JsonSchema {
  // Entries are checked one by one as tasks by the validator; here only the list itself.
  const list = { type: 'array' };
  return shape === 'list' ? list : { type: 'object', additionalProperties: list };
}

/** Fields each retry type has of its own; the others' fields are refused. */
const RETRY_FIELDS: Record<string, { required: string[]; allowed: string[] }> = {
  constant: { required: ['interval'], allowed: ['interval'] },
  exponential: { required: ['interval', 'maxInterval'], allowed: ['interval', 'maxInterval', 'delayFactor'] },
  random: { required: ['minInterval', 'maxInterval'], allowed: ['minInterval', 'maxInterval'] },
};
const RETRY_TYPED_FIELDS = ['interval', 'maxInterval', 'minInterval', 'delayFactor'];

export const retrySchema: JsonSchema = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { enum: Object.keys(RETRY_FIELDS) },
    interval: staticDuration,
    maxInterval: staticDuration,
    minInterval: staticDuration,
    delayFactor: { type: 'number', exclusiveMinimum: 0 },
    maxAttempt: { type: 'integer', minimum: 1 },
    maxDuration: staticDuration,
    warningOnRetry: { type: 'boolean' },
    behavior: { enum: ['RETRY_FAILED_TASK', 'CREATE_NEW_EXECUTION'] },
  },
  allOf: Object.entries(RETRY_FIELDS).map(([type, fields]) => ({
    if: { properties: { type: { const: type } }, required: ['type'] },
    then: {
      required: fields.required,
      properties: Object.fromEntries(RETRY_TYPED_FIELDS.filter((f) => !fields.allowed.includes(f)).map((f) => [f, false])),
    },
  })),
  additionalProperties: false,
};

const workerGroupSchema: JsonSchema = {
  type: 'object',
  properties: { key: { type: 'string' }, fallback: { enum: ['FAIL', 'WAIT', 'CANCEL'] } },
  additionalProperties: false,
};

/** Properties every task accepts, whatever its type (Kestra's `Task`). */
export const TASK_COMMON_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'string', pattern: TASK_ID_PATTERN, 'x-message': 'task id must start with a letter or digit and hold only letters, digits, _ and - (no dots)' },
  type: { type: 'string' },
  description: { type: 'string' },
  disabled: { type: 'boolean' },
  allowFailure: { type: 'boolean' },
  allowWarning: { type: 'boolean' },
  runIf: { type: ['string', 'boolean'] },
  timeout: duration,
  retry: retrySchema,
  logLevel: { enum: [...LOG_LEVELS] },
  logToFile: { type: 'boolean' },
  workerGroup: workerGroupSchema,
};

const labelsSchema: JsonSchema = { type: ['object', 'array'] };

/** Properties every trigger accepts, whatever its type (Kestra's `AbstractTrigger`). */
export const TRIGGER_COMMON_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'string', pattern: TASK_ID_PATTERN, 'x-message': 'trigger id must start with a letter or digit and hold only letters, digits, _ and -' },
  type: { type: 'string' },
  description: { type: 'string' },
  conditions: PluginRefList('condition') as JsonSchema,
  disabled: { type: 'boolean' },
  workerGroup: workerGroupSchema,
  logLevel: { enum: [...LOG_LEVELS] },
  labels: labelsSchema,
  stopAfter: { type: 'array', items: { enum: [...STATES] } },
  logToFile: { type: 'boolean' },
};

const pluginDefaultSchema: JsonSchema = {
  type: 'object',
  required: ['type', 'values'],
  properties: { type: { type: 'string', minLength: 1 }, forced: { type: 'boolean' }, values: { type: 'object' } },
  additionalProperties: false,
};

const outputSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'type', 'value'],
  properties: {
    id: { type: 'string', pattern: INPUT_ID_PATTERN, 'x-message': 'output id must start with a letter or digit and hold only letters, digits, ., _ and -' },
    type: { enum: [...INPUT_TYPES] },
    value: {},
    description: { type: 'string' },
    displayName: { type: 'string', maxLength: 64 },
    required: { type: 'boolean' },
  },
  additionalProperties: false,
};

const slaSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'type', 'behavior'],
  properties: {
    id: { type: 'string', minLength: 1 },
    type: { enum: ['MAX_DURATION', 'EXECUTION_ASSERTION'] },
    behavior: { enum: ['FAIL', 'CANCEL', 'NONE'] },
    labels: labelsSchema,
    duration: staticDuration,
    assert: { type: 'string' },
  },
  allOf: [
    { if: { properties: { type: { const: 'MAX_DURATION' } }, required: ['type'] }, then: { required: ['duration'] } },
    { if: { properties: { type: { const: 'EXECUTION_ASSERTION' } }, required: ['type'] }, then: { required: ['assert'] } },
  ],
  additionalProperties: false,
};

const checkSchema: JsonSchema = {
  type: 'object',
  required: ['condition', 'message'],
  properties: {
    condition: { type: 'string', minLength: 1 },
    message: { type: 'string', minLength: 1 },
    style: { enum: ['ERROR', 'SUCCESS', 'WARNING', 'INFO'] },
    behavior: { enum: ['BLOCK_EXECUTION', 'FAIL_EXECUTION', 'CREATE_EXECUTION'] },
  },
  additionalProperties: false,
};

/**
 * The flow document's own keys. Entries of `tasks`, `triggers` and `inputs` are checked one by one against
 * their type's schema by the validator; here they only need to be lists.
 */
export const FLOW_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['id', 'namespace', 'tasks'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 100, pattern: FLOW_ID_PATTERN, 'x-message': 'flow id must start with a letter or digit and hold only letters, digits, ., _ and -' },
    namespace: { type: 'string', minLength: 1, maxLength: 150, pattern: NAMESPACE_PATTERN, 'x-message': 'namespace must start with a lowercase letter or digit and hold only lowercase letters, digits, ., _ and -' },
    revision: { type: 'integer', minimum: 1 },
    description: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    inputs: { type: 'array' },
    variables: { type: 'object' },
    tasks: { type: 'array', minItems: 1 },
    errors: { type: 'array' },
    finally: { type: 'array' },
    afterExecution: { type: 'array' },
    triggers: { type: 'array' },
    pluginDefaults: { type: 'array', items: pluginDefaultSchema },
    concurrency: {
      type: 'object',
      required: ['limit'],
      properties: { limit: { type: 'integer', minimum: 1 }, behavior: { enum: ['QUEUE', 'CANCEL', 'FAIL'] } },
      additionalProperties: false,
    },
    outputs: { type: 'array', items: outputSchema },
    retry: retrySchema,
    disabled: { type: 'boolean' },
    sla: { type: 'array', items: slaSchema },
    checks: { type: 'array', items: checkSchema },
  },
  additionalProperties: false,
};

const INPUT_COMMON_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'string', pattern: INPUT_ID_PATTERN, 'x-message': 'input id must start with a letter or digit and hold only letters, digits, ., _ and -' },
  /** Deprecated name of `id`. */
  name: { type: 'string', pattern: INPUT_ID_PATTERN, 'x-message': 'input name must start with a letter or digit and hold only letters, digits, ., _ and -' },
  type: { type: 'string' },
  description: { type: 'string' },
  displayName: { type: 'string', maxLength: 64 },
  required: { type: 'boolean' },
  defaults: {},
  prefill: {},
  dependsOn: {
    type: 'object',
    properties: { inputs: { type: 'array', items: { type: 'string' } }, condition: { type: 'string' } },
    additionalProperties: false,
  },
};

const numberBound = (type: 'integer' | 'number'): JsonSchema => ({ type });
const dateBound: JsonSchema = { type: 'string' };
const stringList: JsonSchema = { type: 'array', items: { type: ['string', 'number', 'boolean'] } };

/** What each input type accepts beyond the common input properties (Kestra's `Input` subclasses). */
const INPUT_TYPE_PROPERTIES: Record<InputType, Record<string, JsonSchema>> = {
  STRING: { validator: { type: 'string' } },
  SECRET: { validator: { type: 'string' } },
  INT: { min: numberBound('integer'), max: numberBound('integer') },
  FLOAT: { min: numberBound('number'), max: numberBound('number') },
  BOOLEAN: {},
  BOOL: {},
  DATETIME: { after: dateBound, before: dateBound },
  DATE: { after: dateBound, before: dateBound },
  TIME: { after: dateBound, before: dateBound },
  DURATION: { min: staticDuration, max: staticDuration },
  SELECT: { values: stringList, expression: { type: 'string' }, allowCustomValue: { type: 'boolean' }, isRadio: { type: 'boolean' }, autoSelectFirst: { type: 'boolean' } },
  MULTISELECT: {
    values: stringList,
    /** Deprecated name of `values`. */
    options: stringList,
    expression: { type: 'string' },
    itemType: { enum: [...INPUT_TYPES] },
    allowCustomValue: { type: 'boolean' },
    autoSelectFirst: { type: 'boolean' },
  },
  ENUM: { values: stringList },
  ARRAY: { itemType: { enum: [...INPUT_TYPES] } },
  JSON: {},
  YAML: {},
  URI: {},
  EMAIL: {},
  FILE: { extension: { type: 'string' }, allowedFileExtensions: { type: 'array', items: { type: 'string' } } },
};

type StandaloneCode = (ajv: Ajv2020, validate: ValidateFunction) => string;
const standaloneCode = ((ajvStandalone as unknown as { default?: unknown }).default ?? ajvStandalone) as StandaloneCode;
const ownRequire = createRequire(import.meta.url);
const AJV_VERSION = (ownRequire('ajv/package.json') as { version: string }).version;
const VALIDATOR_CACHE = join(tmpdir(), `baton-ajv-${userInfo().uid}`);

/**
 * ajv writes and compiles a validator's code in ~20–100 ms per task type, ~1 s for a repository's first
 * sync. The code it writes is kept in the OS temp dir, keyed by ajv's version and the schema, so the
 * next process only evaluates it. The schema is part of the key: a changed plugin gets a new validator.
 */
function compile(schema: JsonSchema): ValidateFunction {
  const key = createHash('sha256').update(AJV_VERSION).update(JSON.stringify(schema)).digest('hex').slice(0, 32);
  const file = join(VALIDATOR_CACHE, `${key}.cjs`);
  let source: string | undefined;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    // not cached yet
  }
  if (source !== undefined) {
    try {
      return evaluate(source);
    } catch {
      // unreadable (a partial or foreign file): compiled below and rewritten
    }
  }
  const validate = ajv.compile(schema);
  try {
    mkdirSync(VALIDATOR_CACHE, { recursive: true, mode: 0o700 });
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, standaloneCode(ajv, validate));
    renameSync(partial, file); // atomic: readers never see half a validator
  } catch {
    // best effort: caching is an optimisation
  }
  return validate;
}

/** A validator from its standalone (CommonJS) code, bound to this module's ajv runtime and formats. */
function evaluate(source: string): ValidateFunction {
  const module: { exports: unknown } = { exports: {} };
  // ajv's own output, in a directory only this user can write.
  new Function('module', 'exports', 'require', 'formats', source)(module, module.exports, ownRequire, ajv.formats);
  const validate = module.exports as ValidateFunction;
  if (typeof validate !== 'function') throw new Error('not a validator');
  return validate;
}

/** Properties every condition accepts besides its own. */
export const CONDITION_COMMON_PROPERTIES: Record<string, JsonSchema> = { type: { type: 'string' }, description: { type: 'string' } };

/** Properties every task runner accepts besides its own. */
export const RUNNER_COMMON_PROPERTIES: Record<string, JsonSchema> = { type: { type: 'string' } };

/** What the validator knows of each plugin kind: where its types are, and the properties all of them share. */
export interface KindSpec {
  registry: PluginRegistry<PluginDefinition>;
  common: Record<string, JsonSchema>;
  /** Required of every plugin of the kind, before its own required properties. */
  required: readonly string[];
  /** How one is named in messages. */
  noun: string;
}

export const KINDS: Record<PluginKind, KindSpec> = {
  task: { registry: TASKS, common: TASK_COMMON_PROPERTIES, required: ['id', 'type'], noun: 'task' },
  trigger: { registry: TRIGGERS_REGISTRY, common: TRIGGER_COMMON_PROPERTIES, required: ['id', 'type'], noun: 'trigger' },
  condition: { registry: CONDITIONS_REGISTRY, common: CONDITION_COMMON_PROPERTIES, required: ['type'], noun: 'condition' },
  runner: { registry: RUNNERS_REGISTRY, common: RUNNER_COMMON_PROPERTIES, required: ['type'], noun: 'task runner' },
};

/**
 * The JSON Schema of one plugin of `kind` as a flow writes it: the kind's common properties plus the
 * plugin's own (templates accepted where a value is constrained), nothing else. Child task lists are
 * checked for shape only: the validator walks into them.
 */
export function pluginSchema(kind: PluginKind, plugin: PluginDefinition): JsonSchema {
  const own = propertiesOf(plugin.properties);
  const properties: Record<string, JsonSchema> = { ...KINDS[kind].common };
  for (const [name, schema] of Object.entries(own.properties)) properties[name] = acceptTemplates(schema);
  if (kind === 'task') {
    for (const { property, shape } of taskListProperties(plugin.type)) {
      const declared = own.properties[property];
      properties[property] = { ...taskListShape(shape), ...(declared && 'minItems' in declared ? { minItems: declared.minItems } : {}) };
    }
  }
  return { type: 'object', required: [...KINDS[kind].required, ...own.required], properties, additionalProperties: false };
}

const pluginValidators = new WeakMap<PluginDefinition, ValidateFunction>();
const inputValidators = new Map<InputType, ValidateFunction>();
let flowValidator: ValidateFunction | undefined;

/** The validator of the flow document's own keys. */
export function flowValidatorFn(): ValidateFunction {
  flowValidator ??= compile(FLOW_SCHEMA);
  return flowValidator;
}

/** The compiled validator of one plugin of `kind`, compiled once per plugin (and cached across processes). */
export function pluginValidatorFn(kind: PluginKind, plugin: PluginDefinition): ValidateFunction {
  let fn = pluginValidators.get(plugin);
  if (!fn) {
    fn = compile(pluginSchema(kind, plugin));
    pluginValidators.set(plugin, fn);
  }
  return fn;
}

/** The JSON Schema of a task of this plugin: the common task properties plus the plugin's own, nothing else. */
export function taskSchema(plugin: TaskPlugin): JsonSchema {
  return pluginSchema('task', plugin);
}

/** The compiled validator of a task of this plugin. */
export function taskValidatorFn(plugin: TaskPlugin): ValidateFunction {
  return pluginValidatorFn('task', plugin);
}

let unknownTaskValidator: ValidateFunction | undefined;
/** For a task of an unregistered type: its common properties only (its own are unknown, so any is let through). */
export function unknownTaskValidatorFn(): ValidateFunction {
  unknownTaskValidator ??= compile({ type: 'object', required: ['id', 'type'], properties: TASK_COMMON_PROPERTIES });
  return unknownTaskValidator;
}

/** The JSON Schema of an input of this type: the common input properties plus the type's own. */
export function inputSchema(type: InputType): JsonSchema {
  return { type: 'object', required: ['type'], properties: { ...INPUT_COMMON_PROPERTIES, ...INPUT_TYPE_PROPERTIES[type] }, additionalProperties: false };
}

/** The compiled validator of an input of this type. */
export function inputValidatorFn(type: InputType): ValidateFunction {
  let fn = inputValidators.get(type);
  if (!fn) {
    fn = compile(inputSchema(type));
    inputValidators.set(type, fn);
  }
  return fn;
}
