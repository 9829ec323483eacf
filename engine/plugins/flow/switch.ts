import { TaskList, TaskListMap, Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';

/** io.kestra.plugin.core.flow.Switch: runs the case matching `value`, else `defaults`. */
export const switchTask = defineTask({
  type: 'io.kestra.plugin.core.flow.Switch',
  aliases: ['io.kestra.core.tasks.flows.Switch'],
  kind: 'flowable',
  title: 'Branch on a value',
  description: 'Renders `value` and runs the tasks of the case with that name, or `defaults` when no case matches. Outputs the value and whether the defaults ran.',
  properties: Type.Object({
    value: Type.Unknown({ description: 'The value to match, usually an expression.' }),
    cases: Type.Optional(TaskListMap({ description: 'Task lists by the value they run for.' })),
    defaults: Type.Optional(TaskList({ description: 'Tasks run when no case matches.' })),
    errors: Type.Optional(TaskList({ description: 'Tasks to run when a branch fails.' })),
  }),
  outputs: Type.Object({
    value: Type.String({ description: 'The value matched.' }),
    defaults: Type.Boolean({ description: 'Whether no case matched.' }),
  }),
  examples: [{ title: 'By environment', code: 'id: env\ntype: io.kestra.plugin.core.flow.Switch\nvalue: "{{ flow.namespace }}"\ncases:\n  prod:\n    - id: careful\n      type: io.kestra.plugin.core.log.Log\n      message: production\ndefaults:\n  - id: relaxed\n    type: io.kestra.plugin.core.log.Log\n    message: not production' }],
  async run(ctx) {
    const value = typeof ctx.props.value === 'string' ? ctx.props.value : JSON.stringify(ctx.props.value);
    const matched = ctx.props.cases && Object.hasOwn(ctx.props.cases, value) ? ctx.props.cases[value] : undefined;
    const branch = matched ?? ctx.props.defaults;
    if (branch?.length) await ctx.runTasks(branch);
    return { outputs: { value, defaults: matched === undefined } };
  },
});
