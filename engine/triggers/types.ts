import type { JsonSchema } from '../plugins/types.ts';
import type { TriggerDef } from '../flow/types.ts';

/** A problem a trigger or condition type finds in its own definition; `path` is relative to it. */
export type DefinitionIssue = string | { path: (string | number)[]; message: string };

/**
 * A trigger type: one file per type, registered in `registry.ts` keyed by its type string, the same
 * shape as task plugins. Evaluation at run time lives beside it (schedule-cron.ts, webhook-call.ts).
 */
export interface TriggerType {
  /** Kestra type string, e.g. `io.kestra.plugin.core.trigger.Schedule`. */
  type: string;
  /** Older type names that mean the same trigger. */
  aliases?: readonly string[];
  title: string;
  /** JSON Schema of the type's own properties; the common trigger properties are added by the validator. */
  properties: Record<string, JsonSchema>;
  required?: readonly string[];
  /** Rules a JSON Schema cannot say (cron syntax, time zones, …). */
  validate?(def: TriggerDef): DefinitionIssue[];
}

/** A trigger condition type (`conditions: [{type: …}]`), same shape as a trigger type. */
export interface ConditionType {
  type: string;
  aliases?: readonly string[];
  title: string;
  properties: Record<string, JsonSchema>;
  required?: readonly string[];
  /** Properties holding nested conditions: a list (`Or`, `Not`) or a map of them (`MultipleCondition`). */
  nested?: readonly { property: string; shape: 'list' | 'map' }[];
  validate?(def: Record<string, unknown>): DefinitionIssue[];
}
