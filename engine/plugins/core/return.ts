import type { TaskPlugin } from '../types.ts';

/** io.kestra.plugin.core.debug.Return: renders `format` into the `value` output. */
export const debugReturn: TaskPlugin<{ format?: string }> = {
  type: 'io.kestra.plugin.core.debug.Return',
  aliases: ['io.kestra.core.tasks.debugs.Return'],
  kind: 'runnable',
  title: 'Return a rendered value',
  properties: { format: { type: 'string' } },
  async run(ctx) {
    return { outputs: { value: ctx.props.format ?? null } };
  },
};
