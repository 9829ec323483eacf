import type { TaskPlugin } from '../types.ts';

/** io.kestra.plugin.core.output.OutputValues: exposes rendered values as `outputs.<id>.values`. */
export const outputValues: TaskPlugin<{ values?: Record<string, unknown> }> = {
  type: 'io.kestra.plugin.core.output.OutputValues',
  aliases: ['io.kestra.core.tasks.outputs.OutputValues'],
  kind: 'runnable',
  title: 'Output rendered values',
  properties: { values: { type: 'object' } },
  async run(ctx) {
    return { outputs: { values: ctx.props.values ?? {} } };
  },
};
