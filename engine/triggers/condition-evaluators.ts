/**
 * Evaluating trigger conditions at run time. Definitions stay in `conditions/` (one file each, the
 * registry the validator reads); how each one decides lives here, in one record keyed by its
 * canonical type string: a new condition is one entry here and one file there.
 */
import type { TemplateServices } from '../template/index.ts';
import { renderTemplate } from '../template/index.ts';
import { isTruthy } from '../truthy.ts';
import { findCondition } from './conditions/registry.ts';
import { dayOfWeekOf } from './zones.ts';

/** What a condition sees. */
export interface ConditionContext {
  /** Variables conditions render with: `flow`, `trigger` (and for a Schedule `schedule`). */
  variables: Record<string, unknown>;
  services: TemplateServices;
  /**
   * Who asks: a Schedule evaluates only the conditions about dates (Kestra's ScheduleCondition) and
   * ignores the others; a webhook evaluates them all, about the execution it would create.
   */
  kind: 'schedule' | 'execution';
  /** The execution the condition is about (webhook: the one it would create). */
  execution?: { namespace: string; flowId: string; state: string };
  /** The date a date condition tests when there is no `trigger.date` (a webhook call). */
  now: Date;
}

/** A condition that cannot be evaluated (bad property, unknown or unsupported type); names the condition. */
export class ConditionEvaluationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConditionEvaluationError';
  }
}

type Definition = Record<string, unknown>;

interface ConditionEvaluator {
  /** True for conditions about dates, which Schedule triggers evaluate (Kestra's ScheduleCondition). */
  schedule: boolean;
  test(def: Definition, context: ConditionContext): Promise<boolean>;
}

const DAY_WEEK = 'io.kestra.plugin.core.condition.DayWeek';
const DATE_TIME_BETWEEN = 'io.kestra.plugin.core.condition.DateTimeBetween';
const EXECUTION_STATUS = 'io.kestra.plugin.core.condition.ExecutionStatus';
const EXECUTION_FLOW = 'io.kestra.plugin.core.condition.ExecutionFlow';
const EXECUTION_NAMESPACE = 'io.kestra.plugin.core.condition.ExecutionNamespace';
const EXPRESSION = 'io.kestra.plugin.core.condition.Expression';
const NOT = 'io.kestra.plugin.core.condition.Not';
const OR = 'io.kestra.plugin.core.condition.Or';

/** ISO-8601 with an offset (optionally a `[Zone/Id]` suffix), as DateTimeBetween's bounds must be. */
const ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})(?:\[[^\]]+\])?$/i;

function parseInstant(text: string, what: string): number {
  const trimmed = text.trim().replace(/\[[^\]]+\]$/, '');
  const normalized = trimmed.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const time = ZONED.test(text.trim()) ? Date.parse(normalized) : Number.NaN;
  if (Number.isNaN(time)) throw new ConditionEvaluationError(`${what} '${text}' is not an ISO-8601 date-time with an offset`);
  return time;
}

/** The rendered `date` property, by default `{{ trigger.date }}` (or now when the trigger has no date). */
async function dateOf(def: Definition, context: ConditionContext): Promise<string> {
  if (typeof def.date === 'string') return renderTemplate(def.date, context.variables, context.services);
  const trigger = context.variables.trigger as Record<string, unknown> | undefined;
  return typeof trigger?.date === 'string' ? trigger.date : context.now.toISOString();
}

async function renderedString(value: unknown, context: ConditionContext): Promise<string | undefined> {
  if (value === undefined || value === null) return undefined;
  return renderTemplate(String(value), context.variables, context.services);
}

function needsExecution(type: string, context: ConditionContext): { namespace: string; flowId: string; state: string } {
  if (!context.execution) throw new ConditionEvaluationError(`${type} needs an execution to test, and this trigger has none`);
  return context.execution;
}

const EVALUATORS: Record<string, ConditionEvaluator> = {
  [DAY_WEEK]: {
    schedule: true,
    async test(def, context) {
      const date = await dateOf(def, context);
      const day = dayOfWeekOf(date);
      if (!day) throw new ConditionEvaluationError(`DayWeek: date '${date}' is not an ISO-8601 date`);
      return day === def.dayOfWeek;
    },
  },
  [DATE_TIME_BETWEEN]: {
    schedule: true,
    async test(def, context) {
      const date = parseInstant(await dateOf(def, context), 'DateTimeBetween: date');
      const after = await renderedString(def.after, context);
      const before = await renderedString(def.before, context);
      if (after === undefined && before === undefined) throw new ConditionEvaluationError("DateTimeBetween needs 'after' or 'before'");
      // Both bounds are inclusive, as in Kestra.
      if (after !== undefined && date < parseInstant(after, 'DateTimeBetween: after')) return false;
      if (before !== undefined && date > parseInstant(before, 'DateTimeBetween: before')) return false;
      return true;
    },
  },
  [EXECUTION_STATUS]: {
    schedule: false,
    async test(def, context) {
      const { state } = needsExecution('ExecutionStatus', context);
      const within = Array.isArray(def.in) ? def.in : [];
      const without = Array.isArray(def.notIn) ? def.notIn : [];
      return (within.length === 0 || within.includes(state)) && !without.includes(state);
    },
  },
  [EXECUTION_FLOW]: {
    schedule: false,
    async test(def, context) {
      const execution = needsExecution('ExecutionFlow', context);
      return execution.namespace === def.namespace && execution.flowId === def.flowId;
    },
  },
  [EXECUTION_NAMESPACE]: {
    schedule: false,
    async test(def, context) {
      const { namespace } = needsExecution('ExecutionNamespace', context);
      const expected = String(def.namespace);
      const comparison = typeof def.comparison === 'string' ? def.comparison : def.prefix === true ? 'PREFIX' : 'EQUALS';
      if (comparison === 'PREFIX') return namespace.startsWith(expected);
      if (comparison === 'SUFFIX') return namespace.endsWith(expected);
      return namespace === expected;
    },
  },
  [EXPRESSION]: {
    schedule: true,
    async test(def, context) {
      return isTruthy(await renderTemplate(String(def.expression), context.variables, context.services));
    },
  },
  [OR]: {
    schedule: true,
    async test(def, context) {
      for (const nested of nestedList(def, 'Or')) if (await holds(nested, context)) return true;
      return false;
    },
  },
  [NOT]: {
    schedule: true,
    async test(def, context) {
      for (const nested of nestedList(def, 'Not')) if (await holds(nested, context)) return false;
      return true;
    },
  },
};

function nestedList(def: Definition, what: string): Definition[] {
  if (!Array.isArray(def.conditions) || def.conditions.length === 0) throw new ConditionEvaluationError(`${what} needs a list of conditions`);
  return def.conditions as Definition[];
}

function evaluatorOf(def: Definition): { type: string; evaluator: ConditionEvaluator } {
  const written = typeof def.type === 'string' ? def.type : '';
  const type = findCondition(written)?.type;
  const evaluator = type ? EVALUATORS[type] : undefined;
  if (!type || !evaluator) throw new ConditionEvaluationError(`condition type '${written}' cannot be evaluated by Baton yet`);
  return { type, evaluator };
}

async function holds(def: Definition, context: ConditionContext): Promise<boolean> {
  const { type, evaluator } = evaluatorOf(def);
  try {
    return await evaluator.test(def, context);
  } catch (error) {
    if (error instanceof ConditionEvaluationError) throw error;
    throw new ConditionEvaluationError(`${type.split('.').pop()}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * True when every condition holds (an empty list holds). For a Schedule, conditions that are not about
 * dates are skipped, as Kestra does. Throws ConditionEvaluationError when one cannot be evaluated.
 */
export async function conditionsHold(conditions: readonly Definition[] | undefined, context: ConditionContext): Promise<boolean> {
  for (const def of conditions ?? []) {
    if (context.kind === 'schedule' && !isScheduleCondition(def)) continue;
    if (!(await holds(def, context))) return false;
  }
  return true;
}

/**
 * True for a condition a Schedule evaluates. Known conditions that are not about dates (ExecutionStatus,
 * MultipleCondition, …) are not; an unknown type is, so that evaluating it reports it.
 */
function isScheduleCondition(def: Definition): boolean {
  const type = typeof def.type === 'string' ? findCondition(def.type)?.type : undefined;
  if (!type) return true;
  return EVALUATORS[type]?.schedule ?? false;
}

/** True when a Schedule would evaluate at least one of these conditions. */
export function hasScheduleConditions(conditions: readonly Definition[] | undefined): boolean {
  return (conditions ?? []).some(isScheduleCondition);
}
