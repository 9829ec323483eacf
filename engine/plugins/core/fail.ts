import { isTruthy } from '../../truthy.ts';
import { TaskFailure, type TaskPlugin } from '../types.ts';

/** io.kestra.plugin.core.execution.Fail: fails (when `condition`, if given, is true). */
export const fail: TaskPlugin<{ condition?: unknown; errorMessage?: string }> = {
  type: 'io.kestra.plugin.core.execution.Fail',
  aliases: ['io.kestra.core.tasks.executions.Fail'],
  kind: 'runnable',
  title: 'Fail the execution',
  properties: {
    condition: { type: ['string', 'boolean'] },
    errorMessage: { type: 'string' },
  },
  async run(ctx) {
    if (ctx.props.condition !== undefined && !isTruthy(ctx.props.condition)) return;
    throw new TaskFailure(ctx.props.errorMessage ?? 'Task failure');
  },
};
