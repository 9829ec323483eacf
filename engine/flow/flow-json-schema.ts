/**
 * One JSON Schema of a whole flow, for editors (VS Code's YAML extension, JetBrains:
 * `# yaml-language-server: $schema=…`), built from the same plugin schemas the validator uses: every
 * task, trigger, condition and task runner type (older names included) with its own properties,
 * nested where a flow nests them. It says what a schema can say; `baton validate` says the rest
 * (unique ids, input dependencies, cron syntax, templates).
 */
import { nestedPluginsOf, PLUGIN_KIND_KEY, propertiesOf, type JsonSchema, type PluginKind } from '../contract/index.ts';
import { plainSchema } from './plugin-catalogue.ts';
import { acceptTemplates, FLOW_SCHEMA, INPUT_TYPES, inputSchema, KINDS } from './schema.ts';
import { taskListProperties } from './walk.ts';

const ref = (name: string): JsonSchema => ({ $ref: `#/$defs/${name}` });
const defName = (kind: PluginKind, type: string) => `${kind}:${type}`;

/**
 * An ISO-8601 duration as Baton reads one (engine/duration.ts): fractions allowed (`PT0.5S`), which
 * the standard `duration` format refuses.
 */
const ISO_DURATION = '^[Pp](?:\\d+(?:[.,]\\d+)?[Yy])?(?:\\d+(?:[.,]\\d+)?[Mm])?(?:\\d+(?:[.,]\\d+)?[Ww])?(?:\\d+(?:[.,]\\d+)?[Dd])?(?:[Tt](?:\\d+(?:[.,]\\d+)?[Hh])?(?:\\d+(?:[.,]\\d+)?[Mm])?(?:\\d+(?:[.,]\\d+)?[Ss])?)?$';

/** Keywords only Baton's validator knows, in editors' terms: its duration formats become a pattern, its messages go. */
function forEditors(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forEditors);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'x-message' || key === PLUGIN_KIND_KEY) continue;
    if (key === 'format' && (value === 'duration' || value === 'static-duration')) out.pattern = ISO_DURATION;
    else out[key] = forEditors(value);
  }
  return out;
}

/** Where a property holds nested plugins, the schema refers to that kind; elsewhere the property's own schema. */
function propertySchema(schema: JsonSchema): JsonSchema {
  const [nested] = nestedPluginsOf({ property: schema });
  if (!nested) return acceptTemplates(schema);
  const common = typeof schema.description === 'string' ? { description: schema.description } : {};
  if (nested.shape === 'list') return { type: 'array', items: ref(nested.kind), ...common, ...(schema.minItems ? { minItems: schema.minItems } : {}) };
  if (nested.shape === 'map') return { type: 'object', additionalProperties: nested.kind === 'task' ? { type: 'array', items: ref('task') } : ref(nested.kind), ...common };
  return { ...ref(nested.kind), ...common };
}

/** One plugin's definition: the kind's common properties and its own, nested plugins by reference. */
function pluginDef(kind: PluginKind, type: string): JsonSchema {
  const plugin = KINDS[kind].registry.find(type)!;
  const own = propertiesOf(plugin.properties);
  const properties: Record<string, JsonSchema> = {};
  // The kind's common properties are defined once (commonDefs) and referred to from each type.
  for (const name of Object.keys(KINDS[kind].common)) properties[name] = ref(commonDefName(kind, name));
  for (const [name, schema] of Object.entries(own.properties)) properties[name] = propertySchema(schema);
  if (kind === 'task') {
    for (const { property, shape } of taskListProperties(type)) {
      if (!(property in properties)) properties[property] = { type: 'array', items: ref('task') };
      else if (shape === 'list' && !('$ref' in properties[property])) properties[property] = { ...properties[property], items: ref('task') };
    }
  }
  properties.type = { enum: [plugin.type, ...(plugin.aliases ?? [])] };
  return {
    title: plugin.title,
    description: plugin.description,
    ...(plugin.deprecated ? { deprecated: true } : {}),
    type: 'object',
    required: [...KINDS[kind].required, ...own.required],
    properties,
    additionalProperties: false,
  };
}

const commonDefName = (kind: PluginKind, property: string) => `${kind}-common:${property}`;

/** The common properties of every kind, each once. */
function commonDefs(): Record<string, JsonSchema> {
  const defs: Record<string, JsonSchema> = {};
  for (const kind of Object.keys(KINDS) as PluginKind[]) {
    for (const [name, schema] of Object.entries(KINDS[kind].common)) defs[commonDefName(kind, name)] = propertySchema(schema);
  }
  return defs;
}

/** A plugin of `kind`: a known type (current or older name) and, by that type, its own schema. */
function kindDef(kind: PluginKind): JsonSchema {
  const { registry, noun } = KINDS[kind];
  const names = registry.names();
  return {
    description: `A ${noun}: its type decides which properties it has.`,
    type: 'object',
    required: ['type'],
    properties: { type: { type: 'string', enum: names } },
    allOf: names.map((name) => ({
      if: { properties: { type: { const: name } }, required: ['type'] },
      then: ref(defName(kind, registry.find(name)!.type)),
    })),
  };
}

/** The JSON Schema (draft 2020-12) of a flow file, every registered plugin included. */
export function flowJsonSchema(options: { id?: string } = {}): JsonSchema {
  const defs: Record<string, JsonSchema> = commonDefs();
  for (const kind of Object.keys(KINDS) as PluginKind[]) {
    defs[kind] = kindDef(kind);
    for (const plugin of KINDS[kind].registry.all()) defs[defName(kind, plugin.type)] = pluginDef(kind, plugin.type);
  }
  defs.input = {
    type: 'object',
    required: ['type'],
    properties: { type: { enum: [...INPUT_TYPES] } },
    allOf: INPUT_TYPES.map((type) => ({ if: { properties: { type: { const: type } }, required: ['type'] }, then: ref(`input:${type}`) })),
  };
  for (const type of INPUT_TYPES) defs[`input:${type}`] = inputSchema(type);
  const flowProperties = { ...(FLOW_SCHEMA.properties as Record<string, JsonSchema>) };
  const taskList = { type: 'array', items: ref('task') };
  Object.assign(flowProperties, {
    tasks: { ...taskList, minItems: 1 },
    errors: taskList,
    finally: taskList,
    afterExecution: taskList,
    triggers: { type: 'array', items: ref('trigger') },
    inputs: { type: 'array', items: ref('input') },
    // As written: a map, or a list of {key, value} (the validator turns the list into the map).
    labels: {
      anyOf: [
        { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
        { type: 'array', items: { type: 'object', required: ['key', 'value'], properties: { key: { type: 'string' }, value: {} }, additionalProperties: false } },
      ],
    },
    taskDefaults: { ...(FLOW_SCHEMA.properties as Record<string, JsonSchema>).pluginDefaults, deprecated: true, description: "Deprecated: use 'pluginDefaults'." },
  });
  return plainSchema(forEditors({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...(options.id ? { $id: options.id } : {}),
    title: 'Baton flow',
    description: 'A Kestra-compatible flow: its id, namespace, inputs, tasks and triggers.',
    type: 'object',
    required: FLOW_SCHEMA.required,
    properties: flowProperties,
    additionalProperties: false,
    $defs: defs,
  }));
}
