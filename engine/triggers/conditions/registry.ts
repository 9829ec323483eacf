import { PluginRegistry } from '../../contract/index.ts';
import type { ConditionType } from '../types.ts';
import { dateTimeBetween } from './date-time-between.ts';
import { dayWeek } from './day-week.ts';
import { executionFlow } from './execution-flow.ts';
import { executionNamespace } from './execution-namespace.ts';
import { executionStatus } from './execution-status.ts';
import { expression } from './expression.ts';
import { multipleCondition } from './multiple-condition.ts';
import { not } from './not.ts';
import { or } from './or.ts';

/** Every condition type. Adding one is one file and one line here. */
const CONDITIONS: readonly ConditionType[] = [
  dayWeek,
  dateTimeBetween,
  executionStatus,
  executionFlow,
  executionNamespace,
  expression,
  not,
  or,
  multipleCondition,
];

/** Every condition type, read by type string or alias. */
export const CONDITIONS_REGISTRY = new PluginRegistry<ConditionType>('condition', CONDITIONS);

/** The condition type for a type string (or one of its aliases), undefined when unknown. */
export function findCondition(type: string): ConditionType | undefined {
  return CONDITIONS_REGISTRY.find(type);
}

/** All condition types, each once. */
export function allConditions(): readonly ConditionType[] {
  return CONDITIONS_REGISTRY.all();
}

/** All accepted condition type strings, aliases included. */
export function allConditionTypeNames(): string[] {
  return CONDITIONS_REGISTRY.names();
}
