/**
 * Trigger and condition types: their definitions (JSON Schema of their properties plus the rules a schema
 * cannot say), used by the flow validator. Only definitions live here for now: evaluating schedules,
 * webhooks, flow triggers and conditions at run time comes with the scheduler, in a later issue.
 */
export type { ConditionType, DefinitionIssue, TriggerType } from './types.ts';
export { allTriggerTypeNames, allTriggers, findTrigger } from './registry.ts';
export { allConditionTypeNames, allConditions, findCondition } from './conditions/registry.ts';
export { croneriseCron, isValidTimeZone } from './schedule.ts';
