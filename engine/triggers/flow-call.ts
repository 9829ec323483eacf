/**
 * Evaluating a Flow trigger (`io.kestra.plugin.core.trigger.Flow`) against an execution that changed
 * state: its `states`, its `conditions`, which of its `preconditions` the execution meets, and the time
 * window those are collected in. Pure decisions; the dispatcher in engine/scheduler keeps the window
 * in the database and starts the executions.
 */
import type { FlowDef, TriggerDef } from '../flow/types.ts';
import { parseIsoDuration } from '../duration.ts';
import { STATES, isTerminal, type StateType } from '../state.ts';
import type { TemplateServices } from '../template/index.ts';
import { renderTemplate } from '../template/index.ts';
import { isTruthy } from '../truthy.ts';
import { conditionsHold } from './condition-evaluators.ts';
import { flowTrigger } from './flow.ts';
import { findTrigger } from './registry.ts';
import { flowVariable, renderTriggerInputs, triggerLabels } from './trigger-render.ts';

/** The execution a Flow trigger reacts to. */
export interface UpstreamExecution {
  id: string;
  namespace: string;
  flowId: string;
  flowRevision: number;
  state: StateType;
  labels: Record<string, string>;
  outputs: Record<string, unknown> | null;
}

/** Kestra's default `states`: every terminal one. */
const TERMINAL_STATES: readonly StateType[] = STATES.filter(isTerminal);

export function isFlowTrigger(trigger: TriggerDef): boolean {
  return findTrigger(trigger.type)?.type === flowTrigger.type;
}

/** `trigger.*` of the execution a Flow trigger starts. */
export function flowTriggerVariables(trigger: TriggerDef, upstream: UpstreamExecution): Record<string, unknown> {
  return {
    id: trigger.id,
    type: flowTrigger.type,
    executionId: upstream.id,
    namespace: upstream.namespace,
    flowId: upstream.flowId,
    flowRevision: upstream.flowRevision,
    state: upstream.state,
    outputs: upstream.outputs ?? {},
    executionLabels: upstream.labels,
  };
}

interface EvaluationContext {
  /** The flow that holds the trigger and its live revision. */
  flow: FlowDef;
  revision: number;
  services: TemplateServices;
  now: Date;
}

function scopeOf(trigger: TriggerDef, upstream: UpstreamExecution, context: EvaluationContext): Record<string, unknown> {
  return { flow: flowVariable(context.flow, context.revision), trigger: flowTriggerVariables(trigger, upstream), execution: { id: upstream.id, state: upstream.state } };
}

/**
 * True when the trigger listens to this change: the state is one of `states` (default: terminal) and
 * every condition holds. A flow never triggers itself (it would loop). Throws
 * ConditionEvaluationError when a condition cannot be evaluated.
 */
export async function flowTriggerListens(trigger: TriggerDef, upstream: UpstreamExecution, context: EvaluationContext): Promise<boolean> {
  if (upstream.namespace === context.flow.namespace && upstream.flowId === context.flow.id) return false;
  const states = Array.isArray(trigger.states) ? (trigger.states as StateType[]) : TERMINAL_STATES;
  if (!states.includes(upstream.state)) return false;
  return conditionsHold(trigger.conditions, {
    variables: scopeOf(trigger, upstream, context),
    services: context.services,
    kind: 'execution',
    execution: { namespace: upstream.namespace, flowId: upstream.flowId, state: upstream.state },
    now: context.now,
  });
}

/** What the started execution gets: inputs rendered with `trigger.outputs`, labels, `trigger.*`. */
export async function flowTriggerStart(trigger: TriggerDef, upstream: UpstreamExecution, context: EvaluationContext) {
  const scope = scopeOf(trigger, upstream, context);
  return {
    variables: flowTriggerVariables(trigger, upstream),
    inputs: await renderTriggerInputs(trigger.inputs, scope, context.services),
    labels: await triggerLabels(trigger, scope, context.services),
  };
}

// --- preconditions -------------------------------------------------------------------------------

interface UpstreamFlowDef {
  namespace?: string;
  flowId?: string;
  states?: StateType[];
  labels?: Record<string, unknown>;
}

interface FilterDef {
  field: 'FLOW_ID' | 'NAMESPACE' | 'STATE' | 'EXPRESSION';
  type: string;
  value?: string;
  values?: string[];
}

interface WhereDef {
  id: string;
  operand?: 'AND' | 'OR';
  filters: FilterDef[];
}

export interface TimeWindowDef {
  type?: 'DURATION_WINDOW' | 'SLIDING_WINDOW' | 'DAILY_TIME_DEADLINE' | 'DAILY_TIME_WINDOW';
  window?: string;
  windowAdvance?: string;
  deadline?: string;
  startTime?: string;
  endTime?: string;
}

export interface PreconditionsDef {
  id?: string;
  flows?: UpstreamFlowDef[];
  where?: WhereDef[];
  timeWindow?: TimeWindowDef;
  resetOnSuccess?: boolean;
}

export function preconditionsOf(trigger: TriggerDef): PreconditionsDef | undefined {
  const p = trigger.preconditions;
  return p && typeof p === 'object' ? (p as PreconditionsDef) : undefined;
}

/** Condition ids as Kestra names them: `condition_1…` for `flows`, `condition_N_<id>` for `where`. */
export function preconditionIds(preconditions: PreconditionsDef): string[] {
  let n = 0;
  return [
    ...(preconditions.flows ?? []).map(() => `condition_${++n}`),
    ...(preconditions.where ?? []).map((w) => `condition_${++n}_${w.id}`),
  ];
}

/** The ids of the preconditions this execution meets. */
export async function preconditionsMet(trigger: TriggerDef, upstream: UpstreamExecution, context: EvaluationContext): Promise<string[]> {
  const preconditions = preconditionsOf(trigger);
  if (!preconditions) return [];
  const ids = preconditionIds(preconditions);
  const met: string[] = [];
  let n = 0;
  for (const flow of preconditions.flows ?? []) {
    if (upstreamFlowMatches(flow, upstream)) met.push(ids[n]);
    n++;
  }
  for (const where of preconditions.where ?? []) {
    if (await whereMatches(where, trigger, upstream, context)) met.push(ids[n]);
    n++;
  }
  return met;
}

function upstreamFlowMatches(def: UpstreamFlowDef, upstream: UpstreamExecution): boolean {
  if (def.namespace !== undefined && def.namespace !== upstream.namespace) return false;
  if (def.flowId !== undefined && def.flowId !== upstream.flowId) return false;
  if (def.states && !def.states.includes(upstream.state)) return false;
  for (const [key, value] of Object.entries(def.labels ?? {})) {
    if (upstream.labels[key] !== String(value)) return false;
  }
  return true;
}

async function whereMatches(where: WhereDef, trigger: TriggerDef, upstream: UpstreamExecution, context: EvaluationContext): Promise<boolean> {
  const results: boolean[] = [];
  for (const filter of where.filters) {
    let field: string | null;
    switch (filter.field) {
      case 'FLOW_ID':
        field = upstream.flowId;
        break;
      case 'NAMESPACE':
        field = upstream.namespace;
        break;
      case 'STATE':
        field = upstream.state;
        break;
      case 'EXPRESSION':
        field = filter.value === undefined ? null : await renderTemplate(filter.value, scopeOf(trigger, upstream, context), context.services);
        break;
    }
    results.push(filterHolds(filter, field));
  }
  return where.operand === 'OR' ? results.some(Boolean) : results.every(Boolean);
}

function filterHolds(filter: FilterDef, field: string | null): boolean {
  const value = filter.value ?? '';
  switch (filter.type) {
    case 'EQUAL_TO':
      return field === value;
    case 'NOT_EQUAL_TO':
      return field !== value;
    case 'IN':
      return (filter.values ?? []).includes(field ?? '');
    case 'NOT_IN':
      return !(filter.values ?? []).includes(field ?? '');
    case 'IS_TRUE':
      return isTruthy(field);
    case 'IS_FALSE':
      return !isTruthy(field);
    case 'IS_NULL':
      return field === null;
    case 'IS_NOT_NULL':
      return field !== null;
    case 'STARTS_WITH':
      return field !== null && field.startsWith(value);
    case 'ENDS_WITH':
      return field !== null && field.endsWith(value);
    case 'REGEX':
      return field !== null && new RegExp(value).test(field);
    case 'CONTAINS':
      return field !== null && field.includes(value);
    default:
      throw new Error(`unknown precondition filter type '${filter.type}'`);
  }
}

// --- time windows --------------------------------------------------------------------------------

const DAY = 86_400_000;

/** What a window remembers: when it opened and closes, and which condition each execution met. */
export interface WindowState {
  start: number;
  end: number;
  /** Condition id → when and by which execution it was met. */
  met: Record<string, { executionId: string; date: string }>;
}

/** Milliseconds since midnight UTC of a `HH:mm[:ss][±hh:mm|Z]` time of day. */
function timeOfDay(text: string, what: string): number {
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(text.trim());
  if (!m) throw new Error(`timeWindow.${what} '${text}' is not a time of day (HH:mm:ss)`);
  let ms = (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0)) * 1000;
  if (m[4] && m[4] !== 'Z') {
    const sign = m[4][0] === '-' ? -1 : 1;
    ms -= sign * (Number(m[4].slice(1, 3)) * 3600 + Number(m[4].slice(4, 6)) * 60) * 1000;
  }
  return ms;
}

/**
 * The window `now` falls in, or null when conditions met now do not count (outside a daily window or
 * after a daily deadline). DURATION_WINDOW windows are aligned as Kestra aligns them: a day starts at
 * midnight, shorter windows tile the day from midnight; `windowAdvance` shifts them. A SLIDING_WINDOW has no fixed bounds: it ends now and started `window` ago.
 */
export function windowAt(def: TimeWindowDef | undefined, now: number): { start: number; end: number } | null {
  const type = def?.type ?? 'DURATION_WINDOW';
  const midnight = Math.floor(now / DAY) * DAY;
  switch (type) {
    case 'DURATION_WINDOW': {
      const window = def?.window ? parseIsoDuration(def.window) : DAY;
      const advance = def?.windowAdvance ? parseIsoDuration(def.windowAdvance) : 0;
      if (window <= 0) throw new Error('timeWindow.window must be positive');
      // Windows tile time from midnight (UTC) shifted by the advance: PT6H with PT6H of advance gives
      // 06–12, 12–18, 18–00, 00–06.
      const start = advance + Math.floor((now - advance) / window) * window;
      return { start, end: start + window };
    }
    case 'SLIDING_WINDOW': {
      const window = def?.window ? parseIsoDuration(def.window) : DAY;
      return { start: now - window, end: now };
    }
    case 'DAILY_TIME_DEADLINE': {
      const deadline = midnight + timeOfDay(def?.deadline ?? '', 'deadline');
      return now <= deadline ? { start: midnight, end: deadline } : null;
    }
    case 'DAILY_TIME_WINDOW': {
      const start = midnight + timeOfDay(def?.startTime ?? '', 'startTime');
      const end = midnight + timeOfDay(def?.endTime ?? '', 'endTime');
      return now >= start && now <= end ? { start, end } : null;
    }
  }
}

/**
 * Records the conditions an execution met in the trigger's window and says whether they are now all
 * met (fire). The stored window is kept while `now` is in it, otherwise a new one starts empty; a
 * SLIDING_WINDOW forgets what is older than the window. On firing, `resetOnSuccess` (default true)
 * empties the window, so the same set must be met again to fire again.
 */
export function recordInWindow(
  preconditions: PreconditionsDef,
  stored: WindowState | undefined,
  metNow: readonly string[],
  execution: { id: string; date: string },
  now: number,
): { fire: boolean; state: WindowState | undefined } {
  const bounds = windowAt(preconditions.timeWindow, now);
  if (!bounds) return { fire: false, state: stored };
  const sliding = preconditions.timeWindow?.type === 'SLIDING_WINDOW';
  let state: WindowState;
  if (sliding) {
    const kept = Object.fromEntries(Object.entries(stored?.met ?? {}).filter(([, m]) => Date.parse(m.date) >= bounds.start));
    state = { start: bounds.start, end: bounds.end, met: kept };
  } else if (stored && stored.start <= now && now < stored.end) {
    state = { ...stored, met: { ...stored.met } };
  } else {
    state = { start: bounds.start, end: bounds.end, met: {} };
  }
  for (const id of metNow) state.met[id] = { executionId: execution.id, date: execution.date };
  const fire = preconditionIds(preconditions).every((id) => state.met[id]);
  if (fire && preconditions.resetOnSuccess !== false) state = { ...state, met: {} };
  return { fire, state };
}
