import { DEFAULT_LIMITS, LimitExceededError, type Limits } from '../../../config/index.ts';
import type { TaskDef } from '../../flow/types.ts';
import { isFailure } from '../../state.ts';
import { TaskFailure, type TaskPlugin } from '../types.ts';
import { concurrently } from './concurrently.ts';
import { optionalTaskListSchema, taskListSchema } from './task-list-schema.ts';

/**
 * io.kestra.plugin.core.flow.ForEach: runs its tasks once per value; children see the value as
 * `taskrun.value` and their outputs nest as `outputs.<task>[<value>]`. More values than
 * `limits.forEachItems` fail the task before any runs.
 */
export const forEach: TaskPlugin<{ values: unknown; tasks: TaskDef[]; concurrencyLimit?: number | string }> = {
  type: 'io.kestra.plugin.core.flow.ForEach',
  kind: 'flowable',
  title: 'Loop over values',
  properties: {
    values: { anyOf: [{ type: 'string' }, { type: 'array' }] },
    tasks: taskListSchema,
    errors: optionalTaskListSchema,
    concurrencyLimit: { type: ['integer', 'string'], minimum: 0 },
  },
  required: ['values', 'tasks'],
  taskLists: [{ property: 'tasks', shape: 'list' }, { property: 'errors', shape: 'list' }],
  async run(ctx) {
    const values = iterationValues(ctx.props.values, ctx.limits);
    let failed = false;
    await concurrently(values, Number(ctx.props.concurrencyLimit ?? 1), async (value, index) => {
      const state = await ctx.runTasks(ctx.props.tasks, { value, iteration: index });
      if (isFailure(state)) failed = true;
    }, () => failed || ctx.signal.aborted);
  },
};

/**
 * Values as strings, de-duplicated in order; objects become JSON; a null item is an error. More
 * distinct values than `limits.forEachItems` throw LimitExceededError as soon as one too many is seen
 * (every loop over values — ForEach and any Each* — expands them here).
 */
export function iterationValues(raw: unknown, limits: Limits = DEFAULT_LIMITS): string[] {
  let list = raw;
  if (typeof raw === 'string') {
    try {
      list = JSON.parse(raw);
    } catch {
      throw new TaskFailure(`ForEach 'values' must be a list or a JSON array, got '${raw}'`);
    }
  }
  if (!Array.isArray(list)) throw new TaskFailure(`ForEach 'values' must be a list, got ${JSON.stringify(list)}`);
  const seen = new Set<string>();
  for (const [i, item] of list.entries()) {
    if (item === null || item === undefined) throw new TaskFailure(`ForEach 'values' item ${i} is null`);
    seen.add(typeof item === 'string' ? item : JSON.stringify(item));
    if (seen.size > limits.forEachItems) {
      throw new LimitExceededError('forEachItems', `ForEach 'values' has ${list.length} items`, limits);
    }
  }
  return [...seen];
}
