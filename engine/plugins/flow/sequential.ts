import type { TaskDef } from '../../flow/types.ts';
import type { TaskPlugin } from '../types.ts';
import { optionalTaskListSchema, taskListSchema } from './task-list-schema.ts';

/** io.kestra.plugin.core.flow.Sequential: runs its tasks one after the other. */
export const sequential: TaskPlugin<{ tasks: TaskDef[] }> = {
  type: 'io.kestra.plugin.core.flow.Sequential',
  aliases: ['io.kestra.core.tasks.flows.Sequential'],
  kind: 'flowable',
  title: 'Run tasks in order',
  properties: { tasks: taskListSchema, errors: optionalTaskListSchema },
  required: ['tasks'],
  taskLists: [{ property: 'tasks', shape: 'list' }, { property: 'errors', shape: 'list' }],
  async run(ctx) {
    await ctx.runTasks(ctx.props.tasks);
  },
};
