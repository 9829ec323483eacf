import { TaskList, Type } from '../../contract/index.ts';
import { isTruthy } from '../../truthy.ts';
import { defineTask } from '../types.ts';

/** io.kestra.plugin.core.flow.If: runs `then` when `condition` is truthy, else `else`. */
export const ifTask = defineTask({
  type: 'io.kestra.plugin.core.flow.If',
  aliases: ['io.kestra.core.tasks.flows.If'],
  kind: 'flowable',
  title: 'Branch on a condition',
  description: "Renders `condition` and runs `then` when it is truthy, `else` otherwise ('false', '0', '-0' and the empty string are falsy). The result is kept as `outputs.<id>.evaluationResult`.",
  properties: Type.Object({
    condition: Type.Union([Type.String(), Type.Boolean()], { description: 'The condition to render.' }),
    then: TaskList({ minItems: 1, description: 'Tasks run when the condition is true.' }),
    else: Type.Optional(TaskList({ description: 'Tasks run when it is false.' })),
    errors: Type.Optional(TaskList({ description: 'Tasks to run when a branch fails.' })),
  }),
  outputs: Type.Object({ evaluationResult: Type.Boolean({ description: 'Whether the condition was true.' }) }),
  examples: [{ title: 'Only on Mondays', code: "id: monday\ntype: io.kestra.plugin.core.flow.If\ncondition: \"{{ now() | date('EEEE') == 'Monday' }}\"\nthen:\n  - id: weekly\n    type: io.kestra.plugin.core.log.Log\n    message: weekly report" }],
  async run(ctx) {
    const result = isTruthy(ctx.props.condition);
    const branch = result ? ctx.props.then : ctx.props.else;
    if (branch?.length) await ctx.runTasks(branch);
    return { outputs: { evaluationResult: result } };
  },
});
