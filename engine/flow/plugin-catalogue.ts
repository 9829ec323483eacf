/**
 * The plugin catalogue: every registered plugin of every kind as docs, the UI and the API show it —
 * type, group, title, deprecation, description, properties and outputs schemas, examples as whole
 * flows — read from the same definitions the validator uses, so it cannot drift from what runs.
 */
import { didYouMean, groupOf, propertiesOf, type JsonSchema, type PluginDefinition, type PluginExample, type PluginKind } from '../contract/index.ts';
import { KINDS } from './schema.ts';

export interface CatalogueExample {
  title: string;
  /** The example as written in the plugin's file. */
  code: string;
  /** A whole flow using it, ready to validate or paste. */
  flow: string;
}

export interface CatalogueEntry {
  kind: PluginKind;
  type: string;
  aliases: string[];
  /** The type without its class name (`io.kestra.plugin.core.log`), as Kestra's plugin pages group them. */
  group: string;
  title: string;
  description: string;
  /** Set when the plugin is deprecated: what to use instead. */
  deprecated?: string;
  /** Task plugins: `runnable` or `flowable`. */
  taskKind?: 'runnable' | 'flowable';
  /** JSON Schema of the plugin's own properties (the kind's common ones are in `commonProperties`). */
  properties: JsonSchema;
  required: string[];
  outputs: JsonSchema;
  examples: CatalogueExample[];
}

const indent = (text: string, prefix: string) => text.split('\n').map((line) => (line ? prefix + line : line)).join('\n');
/** A YAML block as one item of a list at `depth` spaces. */
const listItem = (code: string, depth: number) => {
  const pad = ' '.repeat(depth);
  const [first, ...rest] = code.trimEnd().split('\n');
  return [`${pad}- ${first}`, ...rest.map((line) => (line ? `${pad}  ${line}` : line))].join('\n');
};

const LOG_TASK = '  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hello';

/** An example as a whole flow: a full example as written, else its block placed where its kind goes. */
export function exampleFlow(kind: PluginKind, example: PluginExample): string {
  if (example.full) return example.code;
  const head = 'id: example\nnamespace: company.team\n';
  switch (kind) {
    case 'task':
      return `${head}tasks:\n${listItem(example.code, 2)}\n`;
    case 'trigger':
      return `${head}tasks:\n${LOG_TASK}\ntriggers:\n${listItem(example.code, 2)}\n`;
    case 'condition':
      return `${head}tasks:\n${LOG_TASK}\ntriggers:\n  - id: upstream\n    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n${listItem(example.code, 6)}\n`;
    case 'runner':
      return `${head}tasks:\n  - id: script\n    type: io.kestra.plugin.scripts.shell.Commands\n    containerImage: ubuntu\n    commands: [echo hello]\n    taskRunner:\n${indent(example.code.trimEnd(), '      ')}\n`;
  }
}

function entry(kind: PluginKind, plugin: PluginDefinition): CatalogueEntry {
  const own = propertiesOf(plugin.properties);
  const taskKind = kind === 'task' ? (plugin as PluginDefinition & { kind: 'runnable' | 'flowable' }).kind : undefined;
  return {
    kind,
    type: plugin.type,
    aliases: [...(plugin.aliases ?? [])],
    group: groupOf(plugin.type),
    title: plugin.title,
    description: plugin.description,
    ...(plugin.deprecated ? { deprecated: plugin.deprecated } : {}),
    ...(taskKind ? { taskKind } : {}),
    properties: plainSchema(plugin.properties),
    required: own.required,
    outputs: plainSchema(plugin.outputs),
    examples: plugin.examples.map((example) => ({ title: example.title, code: example.code, flow: exampleFlow(kind, example) })),
  };
}

/** A schema as plain JSON (TypeBox's symbols dropped), safe to serve and to compare. */
export function plainSchema(schema: unknown): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

/** Every registered plugin of every kind (or of one kind), each once, in registration order. */
export function pluginCatalogue(kind?: PluginKind): CatalogueEntry[] {
  const kinds = kind ? [kind] : (Object.keys(KINDS) as PluginKind[]);
  return kinds.flatMap((k) => KINDS[k].registry.all().map((plugin) => entry(k, plugin)));
}

/** One plugin by its type string or an older alias; undefined when no kind has it. */
export function findCatalogueEntry(type: string): CatalogueEntry | undefined {
  for (const kind of Object.keys(KINDS) as PluginKind[]) {
    const plugin = KINDS[kind].registry.find(type);
    if (plugin) return entry(kind, plugin);
  }
  return undefined;
}

/** The closest registered type string of any kind to a misspelt one, for a "did you mean" hint. */
export function suggestPluginType(type: string): string | undefined {
  return didYouMean(type, (Object.keys(KINDS) as PluginKind[]).flatMap((kind) => KINDS[kind].registry.names()));
}

/** The properties every plugin of a kind accepts besides its own (a task's id, retry, timeout…). */
export function commonProperties(kind: PluginKind): JsonSchema {
  return plainSchema(KINDS[kind].common);
}
