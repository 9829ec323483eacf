/**
 * What every plugin declares, whatever its kind (task, trigger, condition, task runner): its names,
 * its properties' and outputs' schemas, a description and at least one example. The kind adds its
 * behaviour (a task's `run`, a trigger's rules, a runner's implementation) in the same file.
 */
import type { TObject } from './schema.ts';

/** An example for docs and the catalogue, checked by the contract test to validate as written. */
export interface PluginExample {
  title: string;
  /**
   * YAML: the plugin's own block (a task, a trigger, a condition, a `taskRunner`), which the catalogue
   * places in a minimal flow; or, with `full`, a whole flow.
   */
  code: string;
  full?: boolean;
}

export interface PluginDefinition<P extends TObject = TObject, O extends TObject = TObject> {
  /** Kestra type string, e.g. `io.kestra.plugin.core.log.Log`. */
  type: string;
  /**
   * Older names of the same plugin (`io.kestra.core.tasks.log.Log`): they resolve to `type` with a
   * warning, never an error, as Kestra's plugin aliases do.
   */
  aliases?: readonly string[];
  /** Set when the plugin itself is deprecated: what to use instead. Using it is a warning. */
  deprecated?: string;
  /** One line for lists, the UI and docs. */
  title: string;
  /** One paragraph: what it does and what a user must know to use it. */
  description: string;
  /**
   * The plugin's own properties (the kind's common ones, such as a task's `id` or `retry`, are added
   * by the validator). `Static<typeof properties>` is the type the code receives.
   */
  properties: P;
  /** What the plugin makes available to later tasks (`outputs.<id>.<name>`); `Empty()` when nothing. */
  outputs: O;
  examples: readonly PluginExample[];
}

/** The group a type belongs to, as Kestra's plugin pages list them: its type without the class name. */
export function groupOf(type: string): string {
  const dot = type.lastIndexOf('.');
  return dot < 0 ? type : type.slice(0, dot);
}
