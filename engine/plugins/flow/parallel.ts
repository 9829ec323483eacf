import type { TaskDef } from '../../flow/types.ts';
import type { TaskPlugin } from '../types.ts';
import { concurrently } from './concurrently.ts';
import { optionalTaskListSchema, taskListSchema } from './task-list-schema.ts';

/** io.kestra.plugin.core.flow.Parallel: runs each task at once (`concurrent` bounds it; 0 = no bound). */
export const parallel: TaskPlugin<{ tasks: TaskDef[]; concurrent?: number | string }> = {
  type: 'io.kestra.plugin.core.flow.Parallel',
  aliases: ['io.kestra.core.tasks.flows.Parallel'],
  kind: 'flowable',
  title: 'Run tasks in parallel',
  properties: { tasks: taskListSchema, errors: optionalTaskListSchema, concurrent: { type: ['integer', 'string'], minimum: 0 } },
  required: ['tasks'],
  taskLists: [{ property: 'tasks', shape: 'list' }, { property: 'errors', shape: 'list' }],
  async run(ctx) {
    // Siblings keep running when one fails, as Kestra's Parallel; the merged state is FAILED.
    await concurrently(ctx.props.tasks, Number(ctx.props.concurrent ?? 0), async (task) => {
      await ctx.runTasks([task]);
    }, () => ctx.signal.aborted);
  },
};
