/**
 * The scheduler: evaluates the Schedule triggers of live flows (dates, missed dates, backfills) and keeps
 * their state in the `triggers` table; and what the triggers API changes on that state.
 */
export { Scheduler, type SchedulerOptions, type SchedulerLog } from './scheduler.ts';
export { withTriggerDefaults, type LiveFlowSource } from './live-triggers.ts';
export { TriggerAdmin, TriggerNotFoundError, TriggerStateConflictError, triggerView, type TriggerView } from './trigger-admin.ts';
export { BackfillRequestError, MAX_BACKFILL_DATES, type BackfillRequest, type BackfillState } from './backfill.ts';
export { TriggerBusyError } from './trigger-store.ts';
export { FlowTriggerDispatcher, type FlowTriggerOptions } from './flow-triggers.ts';
