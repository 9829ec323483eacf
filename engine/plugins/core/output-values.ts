import { Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';

/** io.kestra.plugin.core.output.OutputValues: exposes rendered values as `outputs.<id>.values`. */
export const outputValues = defineTask({
  type: 'io.kestra.plugin.core.output.OutputValues',
  aliases: ['io.kestra.core.tasks.outputs.OutputValues'],
  kind: 'runnable',
  title: 'Output rendered values',
  description: 'Renders each entry of `values` and exposes the map as `outputs.<id>.values`, so later tasks and flow outputs can read them by name.',
  properties: Type.Object({ values: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Names and the values to render.' })) }),
  outputs: Type.Object({ values: Type.Record(Type.String(), Type.Unknown(), { description: 'The rendered values.' }) }),
  examples: [{ title: 'Two named values', code: 'id: out\ntype: io.kestra.plugin.core.output.OutputValues\nvalues:\n  greeting: hello\n  when: "{{ execution.startDate }}"' }],
  async run(ctx) {
    return { outputs: { values: ctx.props.values ?? {} } };
  },
});
