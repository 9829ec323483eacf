import type { TaskDef } from '../../flow/types.ts';
import { isTruthy } from '../../truthy.ts';
import type { TaskPlugin } from '../types.ts';
import { optionalTaskListSchema, taskListSchema } from './task-list-schema.ts';

/** io.kestra.plugin.core.flow.If: runs `then` when `condition` is truthy, else `else`. */
export const ifTask: TaskPlugin<{ condition: unknown; then: TaskDef[]; else?: TaskDef[] }> = {
  type: 'io.kestra.plugin.core.flow.If',
  aliases: ['io.kestra.core.tasks.flows.If'],
  kind: 'flowable',
  title: 'Branch on a condition',
  properties: { condition: { type: ['string', 'boolean'] }, then: taskListSchema, else: optionalTaskListSchema, errors: optionalTaskListSchema },
  required: ['condition', 'then'],
  taskLists: [
    { property: 'then', shape: 'list' },
    { property: 'else', shape: 'list' },
    { property: 'errors', shape: 'list' },
  ],
  async run(ctx) {
    const result = isTruthy(ctx.props.condition);
    const branch = result ? ctx.props.then : ctx.props.else;
    if (branch?.length) await ctx.runTasks(branch);
    return { outputs: { evaluationResult: result } };
  },
};
