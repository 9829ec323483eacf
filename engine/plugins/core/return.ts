import { Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';

/** io.kestra.plugin.core.debug.Return: renders `format` into the `value` output. */
export const debugReturn = defineTask({
  type: 'io.kestra.plugin.core.debug.Return',
  aliases: ['io.kestra.core.tasks.debugs.Return'],
  kind: 'runnable',
  title: 'Return a rendered value',
  description: 'Renders `format` and makes the result available to later tasks as `outputs.<id>.value`: the simplest way to compute a value once and reuse it.',
  properties: Type.Object({ format: Type.Optional(Type.String({ description: 'The text to render.' })) }),
  outputs: Type.Object({ value: Type.Union([Type.String(), Type.Null()], { description: 'The rendered `format`.' }) }),
  examples: [{ title: 'Return the execution id', code: 'id: ret\ntype: io.kestra.plugin.core.debug.Return\nformat: "{{ execution.id }}"' }],
  async run(ctx) {
    return { outputs: { value: ctx.props.format ?? null } };
  },
});
