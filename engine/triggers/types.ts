import type { PluginDefinition, TObject } from '../contract/index.ts';
import type { TriggerDef } from '../flow/types.ts';

/** A problem a trigger or condition type finds in its own definition; `path` is relative to it. */
export type DefinitionIssue = string | { path: (string | number)[]; message: string };

/**
 * A trigger type: one file per type — the contract's definition (names, properties and outputs schemas,
 * description, examples) plus the rules a schema cannot say — registered by one line in `registry.ts`.
 * Its outputs are the `trigger.*` variables the executions it starts see. Evaluation at run time lives
 * beside it (schedule-cron.ts, webhook-call.ts, flow-call.ts).
 */
export interface TriggerType<P extends TObject = TObject, O extends TObject = TObject> extends PluginDefinition<P, O> {
  /** Rules a JSON Schema cannot say (cron syntax, time zones, …). */
  validate?(def: TriggerDef): DefinitionIssue[];
}

/**
 * A trigger condition type (`conditions: [{type: …}]`), the same shape; conditions have no outputs.
 * Properties holding nested conditions are written `PluginRefList('condition')` (Or, Not) or
 * `PluginRefMap('condition')` (MultipleCondition), and the validator checks each nested one.
 */
export interface ConditionType<P extends TObject = TObject> extends PluginDefinition<P, TObject> {
  validate?(def: Record<string, unknown>): DefinitionIssue[];
}

/** Declares a trigger type (for inference of its schemas' types). */
export function defineTrigger<P extends TObject, O extends TObject>(trigger: TriggerType<P, O>): TriggerType<P, O> {
  return trigger;
}

/** Declares a condition type. */
export function defineCondition<P extends TObject>(condition: ConditionType<P>): ConditionType<P> {
  return condition;
}
