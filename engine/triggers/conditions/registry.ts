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

/** Every condition type, keyed by its type string. Adding one is one file and one line here. */
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

const byType = new Map<string, ConditionType>();
for (const condition of CONDITIONS) {
  for (const name of [condition.type, ...(condition.aliases ?? [])]) {
    if (byType.has(name)) throw new Error(`condition type registered twice: ${name}`);
    byType.set(name, condition);
  }
}

/** The condition type for a type string (or one of its aliases), undefined when unknown. */
export function findCondition(type: string): ConditionType | undefined {
  return byType.get(type);
}

/** All condition types, each once. */
export function allConditions(): readonly ConditionType[] {
  return CONDITIONS;
}

/** All accepted condition type strings, aliases included. */
export function allConditionTypeNames(): string[] {
  return [...byType.keys()];
}
