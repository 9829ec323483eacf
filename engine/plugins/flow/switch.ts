import type { TaskDef } from '../../flow/types.ts';
import type { TaskPlugin } from '../types.ts';
import { optionalTaskListSchema, taskListSchema } from './task-list-schema.ts';

/** io.kestra.plugin.core.flow.Switch: runs the case matching `value`, else `defaults`. */
export const switchTask: TaskPlugin<{ value: unknown; cases?: Record<string, TaskDef[]>; defaults?: TaskDef[] }> = {
  type: 'io.kestra.plugin.core.flow.Switch',
  aliases: ['io.kestra.core.tasks.flows.Switch'],
  kind: 'flowable',
  title: 'Branch on a value',
  properties: {
    value: {},
    cases: { type: 'object', additionalProperties: taskListSchema },
    defaults: optionalTaskListSchema,
    errors: optionalTaskListSchema,
  },
  required: ['value'],
  taskLists: [
    { property: 'cases', shape: 'map' },
    { property: 'defaults', shape: 'list' },
    { property: 'errors', shape: 'list' },
  ],
  async run(ctx) {
    const value = typeof ctx.props.value === 'string' ? ctx.props.value : JSON.stringify(ctx.props.value);
    const matched = ctx.props.cases && Object.hasOwn(ctx.props.cases, value) ? ctx.props.cases[value] : undefined;
    const branch = matched ?? ctx.props.defaults;
    if (branch?.length) await ctx.runTasks(branch);
    return { outputs: { value, defaults: matched === undefined } };
  },
};
