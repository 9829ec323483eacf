/**
 * Schema helpers for plugin properties and outputs. A plugin's schema is written once with TypeBox
 * (`Type.Object({...})`): the same value is the JSON Schema ajv validates flows with, the JSON Schema
 * editors and the catalogue show, and, through `Static<typeof Props>`, the TypeScript type of the
 * properties the plugin's code receives — so the two cannot drift apart.
 */
import { Type, type Static, type TArray, type TObject, type TRecord, type TSchema, type TString, type TUnion, type TUnsafe } from '@sinclair/typebox';

export { Type, type Static, type TObject, type TSchema };

/** A JSON Schema fragment (draft 2020-12 subset that ajv understands). */
export type JsonSchema = Record<string, unknown>;

/** The kinds of plugin a flow names by `type`. Storage and secret backends are to join them. */
export type PluginKind = 'task' | 'trigger' | 'condition' | 'runner';

/**
 * The annotation marking a property whose value is (a list or map of) plugins of another kind: the
 * validator checks each against that kind's registry and schema, and the flow schema refers to them.
 */
export const PLUGIN_KIND_KEY = 'x-plugin-kind';

/**
 * Kestra's dynamic property (`Property<T>`): the value, or a string the plugin reads itself (a JSON
 * list, "true", an expression's result). Validation accepts templates wherever a value is constrained
 * anyway; use this only where the code really handles the string form.
 */
export function Dynamic<T extends TSchema>(schema: T, options: JsonSchema = {}): TUnion<[T, TString]> {
  return Type.Union([schema, Type.String()], { [DYNAMIC_KEY]: true, ...options });
}

/** Marks a Dynamic union: its text form may be brought to the value's type once rendered (coerce.ts). */
export const DYNAMIC_KEY = 'x-dynamic';

/**
 * One of a fixed list of strings, written as JSON Schema's `enum` (whose errors read "must be one of …",
 * clearer than a union of constants).
 */
export function Enum<const T extends readonly string[]>(values: T, options: JsonSchema = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, enum: [...values] });
}

/** A nested plugin as the code receives it: its type and its own properties. */
export type NestedPlugin = { type: string; [property: string]: unknown };

/**
 * One nested plugin of `kind` (`taskRunner: {type: …}`). The schema says only "a map": the validator
 * checks its `type` against that kind's registry and the rest against that type's schema.
 */
export function PluginRef(kind: Exclude<PluginKind, 'task'>, options: JsonSchema = {}): TUnsafe<NestedPlugin> {
  return Type.Unsafe<NestedPlugin>({ type: 'object', properties: { type: { type: 'string', minLength: 1 } }, [PLUGIN_KIND_KEY]: kind, ...options });
}

/** A list of nested plugins of `kind` (`conditions: [{type: …}, …]`). */
export function PluginRefList(kind: Exclude<PluginKind, 'task'>, options: JsonSchema = {}): TArray<TUnsafe<NestedPlugin>> {
  return Type.Array(PluginRef(kind), { [PLUGIN_KIND_KEY]: kind, ...options });
}

/** A map of named nested plugins of `kind` (MultipleCondition's `conditions: {name: {type: …}}`). */
export function PluginRefMap(kind: Exclude<PluginKind, 'task'>, options: JsonSchema = {}): TRecord<TString, TUnsafe<NestedPlugin>> {
  return Type.Record(Type.String(), PluginRef(kind), { [PLUGIN_KIND_KEY]: kind, ...options });
}

/** A child task as the code receives it: never rendered, validated as a task of its own. */
export type ChildTask = { id: string; type: string; [property: string]: unknown };

const childTask = (): TUnsafe<ChildTask> => Type.Unsafe<ChildTask>({ type: 'object' });

/** A list of child tasks (`tasks`, `then`, `errors`…); `minItems: 1` where one is required. */
export function TaskList(options: JsonSchema = {}): TArray<TUnsafe<ChildTask>> {
  return Type.Array(childTask(), { [PLUGIN_KIND_KEY]: 'task', ...options });
}

/** A map of named child task lists (Switch's `cases`). */
export function TaskListMap(options: JsonSchema = {}): TRecord<TString, TArray<TUnsafe<ChildTask>>> {
  return Type.Record(Type.String(), TaskList({ minItems: 1 }), { [PLUGIN_KIND_KEY]: 'task', ...options });
}

/** No properties, or no outputs. */
export const Empty = (): TObject<{}> => Type.Object({});

/** The property names of an object schema and the ones it requires. */
export function propertiesOf(schema: TObject): { properties: Record<string, JsonSchema>; required: string[] } {
  return { properties: schema.properties as Record<string, JsonSchema>, required: [...(schema.required ?? [])] };
}

/** Where a property holds nested plugins of another kind, and in which shape. */
export interface NestedPlugins {
  property: string;
  kind: PluginKind;
  shape: 'one' | 'list' | 'map';
}

/** The properties of a schema that hold nested plugins, read from their PLUGIN_KIND_KEY annotation. */
export function nestedPlugins(schema: TObject): NestedPlugins[] {
  return nestedPluginsOf(schema.properties as Record<string, JsonSchema>);
}

/** The same, for a record of property schemas (a kind's common properties). */
export function nestedPluginsOf(properties: Record<string, JsonSchema>): NestedPlugins[] {
  const out: NestedPlugins[] = [];
  for (const [property, raw] of Object.entries(properties)) {
    const kind = raw[PLUGIN_KIND_KEY] as PluginKind | undefined;
    if (!kind) continue;
    out.push({ property, kind, shape: raw.type === 'array' ? 'list' : raw.patternProperties ? 'map' : 'one' });
  }
  return out;
}
