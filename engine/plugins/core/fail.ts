import { Empty, Type } from '../../contract/index.ts';
import { isTruthy } from '../../truthy.ts';
import { TaskFailure, defineTask } from '../types.ts';

/** io.kestra.plugin.core.execution.Fail: fails (when `condition`, if given, is true). */
export const fail = defineTask({
  type: 'io.kestra.plugin.core.execution.Fail',
  aliases: ['io.kestra.core.tasks.executions.Fail'],
  kind: 'runnable',
  title: 'Fail the execution',
  description: 'Fails the task, and so the execution, with `errorMessage` — always, or only when `condition` renders to a truthy value. Useful to stop a flow on a check of inputs or outputs.',
  properties: Type.Object({
    condition: Type.Optional(Type.Union([Type.String(), Type.Boolean()], { description: 'Fail only when this renders truthy.' })),
    errorMessage: Type.Optional(Type.String({ description: "The failure's message; 'Task failure' by default." })),
  }),
  outputs: Empty(),
  examples: [{ title: 'Fail on a bad input', code: 'id: check\ntype: io.kestra.plugin.core.execution.Fail\ncondition: "{{ flow.namespace == \'forbidden\' }}"\nerrorMessage: this namespace may not run it' }],
  async run(ctx) {
    if (ctx.props.condition !== undefined && !isTruthy(ctx.props.condition)) return;
    throw new TaskFailure(ctx.props.errorMessage ?? 'Task failure');
  },
});
