import { Empty, TaskList, Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';

/** io.kestra.plugin.core.flow.Sequential: runs its tasks one after the other. */
export const sequential = defineTask({
  type: 'io.kestra.plugin.core.flow.Sequential',
  aliases: ['io.kestra.core.tasks.flows.Sequential'],
  kind: 'flowable',
  title: 'Run tasks in order',
  description: 'Runs its `tasks` one after the other, stopping at the first failure; `errors` run when one fails. Groups tasks, for instance as one branch of a Parallel.',
  properties: Type.Object({
    tasks: TaskList({ minItems: 1, description: 'The tasks to run in order.' }),
    errors: Type.Optional(TaskList({ description: 'Tasks to run when one of `tasks` fails.' })),
  }),
  outputs: Empty(),
  examples: [{ title: 'Two steps in order', code: 'id: steps\ntype: io.kestra.plugin.core.flow.Sequential\ntasks:\n  - id: first\n    type: io.kestra.plugin.core.log.Log\n    message: one\n  - id: second\n    type: io.kestra.plugin.core.log.Log\n    message: two' }],
  async run(ctx) {
    await ctx.runTasks(ctx.props.tasks);
  },
});
