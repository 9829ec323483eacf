/**
 * The plugin contract, shared by every plugin kind and by the flow validator, the catalogue and the
 * flow JSON Schema. It sits at the bottom of the engine: it imports TypeBox and nothing of Baton's, so
 * plugins, triggers, runners and the validator all import it and never each other's insides.
 */
export {
  Type, Dynamic, DYNAMIC_KEY, Empty, Enum, PluginRef, PluginRefList, PluginRefMap, TaskList, TaskListMap, PLUGIN_KIND_KEY,
  nestedPlugins, nestedPluginsOf, propertiesOf, type Static, type TObject, type TSchema, type JsonSchema, type PluginKind, type ChildTask, type NestedPlugin, type NestedPlugins,
} from './schema.ts';
export { groupOf, type PluginDefinition, type PluginExample } from './definition.ts';
export { PluginRegistry, DuplicatePluginError, type PluginLookup } from './registry.ts';
export { didYouMean } from './suggest.ts';
export { coerceProps, coerceValue } from './coerce.ts';
