/**
 * Trigger and condition types: their definitions (JSON Schema of their properties plus the rules a schema
 * cannot say), used by the flow validator, and what is needed to evaluate them at run time: schedule
 * dates in a time zone, conditions, trigger templates, and webhook calls. The scheduler that walks the
 * schedules lives in engine/scheduler.
 */
export type { ConditionType, DefinitionIssue, TriggerType } from './types.ts';
export { allTriggerTypeNames, allTriggers, findTrigger, TRIGGERS_REGISTRY } from './registry.ts';
export { allConditionTypeNames, allConditions, findCondition, CONDITIONS_REGISTRY } from './conditions/registry.ts';
export { defineCondition, defineTrigger } from './types.ts';
export { croneriseCron, isValidTimeZone, schedule as scheduleTrigger } from './schedule.ts';
export { webhook as webhookTrigger } from './webhook.ts';
export { ScheduleCron, ScheduleDefinitionError } from './schedule-cron.ts';
export { formatZoned, parseZoned, scheduleZone, systemZoneId, ScheduleZoneError, type ScheduleZone } from './zones.ts';
export { conditionsHold, hasScheduleConditions, ConditionEvaluationError, type ConditionContext } from './condition-evaluators.ts';
export {
  flowVariable, labelMap, renderLabels, renderTriggerInputs, triggerLabels, triggerTemplateServices, type TriggerTemplateResources,
} from './trigger-render.ts';
export {
  decideWebhookCall, findWebhookTrigger, webhookBody, MAX_WEBHOOK_TRIGGER_BODY_BYTES, type WebhookCall, type WebhookDecision,
} from './webhook-call.ts';
export {
  flowTriggerListens, flowTriggerStart, flowTriggerVariables, isFlowTrigger, preconditionIds, preconditionsMet, preconditionsOf,
  recordInWindow, windowAt, type PreconditionsDef, type TimeWindowDef, type UpstreamExecution, type WindowState,
} from './flow-call.ts';
