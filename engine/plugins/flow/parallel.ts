import { Empty, TaskList, Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';
import { concurrently } from './concurrently.ts';

/** io.kestra.plugin.core.flow.Parallel: runs each task at once (`concurrent` bounds it; 0 = no bound). */
export const parallel = defineTask({
  type: 'io.kestra.plugin.core.flow.Parallel',
  aliases: ['io.kestra.core.tasks.flows.Parallel'],
  kind: 'flowable',
  title: 'Run tasks in parallel',
  description: 'Starts each of its `tasks` at once, at most `concurrent` at a time (0, the default, means no bound). A failing task does not stop its siblings; the Parallel task then ends FAILED and its `errors` run.',
  properties: Type.Object({
    tasks: TaskList({ minItems: 1, description: 'The tasks to run at once.' }),
    errors: Type.Optional(TaskList({ description: 'Tasks to run when one of `tasks` fails.' })),
    concurrent: Type.Optional(Type.Union([Type.Integer(), Type.String()], { minimum: 0, description: 'How many run at once; 0 for all.' })),
  }),
  outputs: Empty(),
  examples: [{ title: 'Two tasks at once', code: 'id: both\ntype: io.kestra.plugin.core.flow.Parallel\ntasks:\n  - id: left\n    type: io.kestra.plugin.core.log.Log\n    message: left\n  - id: right\n    type: io.kestra.plugin.core.log.Log\n    message: right' }],
  async run(ctx) {
    // Siblings keep running when one fails, as Kestra's Parallel; the merged state is FAILED.
    await concurrently(ctx.props.tasks, Number(ctx.props.concurrent ?? 0), async (task) => {
      await ctx.runTasks([task]);
    }, () => ctx.signal.aborted);
  },
});
