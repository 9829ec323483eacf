import { DEFAULT_LIMITS, LimitExceededError, type Limits } from '../../../config/index.ts';
import { isFailure } from '../../state.ts';
import { Empty, TaskList, Type } from '../../contract/index.ts';
import { TaskFailure, defineTask } from '../types.ts';
import { concurrently } from './concurrently.ts';

/**
 * io.kestra.plugin.core.flow.ForEach: runs its tasks once per value; children see the value as
 * `taskrun.value` and their outputs nest as `outputs.<task>[<value>]`. More values than
 * `limits.forEachItems` fail the task before any runs.
 */
export const forEach = defineTask({
  type: 'io.kestra.plugin.core.flow.ForEach',
  kind: 'flowable',
  title: 'Loop over values',
  description: "Runs its `tasks` once per value of `values` (a list, or a JSON array string), de-duplicated, at most `concurrencyLimit` iterations at once (1 by default, 0 for all). Each iteration's tasks see the value as `taskrun.value` and their outputs nest by value: `outputs.<task>[<value>]`.",
  properties: Type.Object({
    values: Type.Union([Type.String(), Type.Array(Type.Unknown())], { description: 'The values to loop over.' }),
    tasks: TaskList({ minItems: 1, description: 'The tasks run for each value.' }),
    errors: Type.Optional(TaskList({ description: 'Tasks to run when an iteration fails.' })),
    concurrencyLimit: Type.Optional(Type.Union([Type.Integer(), Type.String()], { minimum: 0, description: 'Iterations at once; 0 for all (default 1).' })),
  }),
  outputs: Empty(),
  examples: [{ title: 'Once per region', code: 'id: each\ntype: io.kestra.plugin.core.flow.ForEach\nvalues: ["eu", "us"]\nconcurrencyLimit: 0\ntasks:\n  - id: region\n    type: io.kestra.plugin.core.log.Log\n    message: "{{ taskrun.value }}"' }],
  async run(ctx) {
    const values = iterationValues(ctx.props.values, ctx.limits);
    let failed = false;
    await concurrently(values, Number(ctx.props.concurrencyLimit ?? 1), async (value, index) => {
      const state = await ctx.runTasks(ctx.props.tasks, { value, iteration: index });
      if (isFailure(state)) failed = true;
    }, () => failed || ctx.signal.aborted);
  },
});

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
