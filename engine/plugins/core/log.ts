import { Empty, Enum, Type } from '../../contract/index.ts';
import { LOG_LEVELS } from '../../logs/types.ts';
import { defineTask } from '../types.ts';

/** io.kestra.plugin.core.log.Log: writes one log line per message. */
export const log = defineTask({
  type: 'io.kestra.plugin.core.log.Log',
  aliases: ['io.kestra.core.tasks.log.Log'],
  kind: 'runnable',
  title: 'Log a message',
  description: 'Writes a message, or each message of a list, to the execution\'s logs at the given level (INFO by default). Messages are rendered first, so they may hold expressions such as `{{ inputs.name }}`.',
  properties: Type.Object({
    message: Type.Union([Type.String(), Type.Array(Type.String())], { description: 'The message, or a list of messages, to log.' }),
    level: Type.Optional(Enum(LOG_LEVELS, { description: 'The level of the log lines; INFO by default.' })),
  }),
  outputs: Empty(),
  examples: [{ title: 'Log a greeting', code: 'id: hello\ntype: io.kestra.plugin.core.log.Log\nmessage: "Hello, {{ flow.id }}"\nlevel: WARN' }],
  async run(ctx) {
    const level = ctx.props.level ?? 'INFO';
    const messages = Array.isArray(ctx.props.message) ? ctx.props.message : [ctx.props.message];
    for (const m of messages) ctx.logger.log(level, String(m));
  },
});
