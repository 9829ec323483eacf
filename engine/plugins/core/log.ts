import type { TaskPlugin } from '../types.ts';
import { LOG_LEVELS, type LogLevel } from '../../logs/types.ts';

/** io.kestra.plugin.core.log.Log: writes one log line per message. */
export const log: TaskPlugin<{ message: string | string[]; level?: LogLevel }> = {
  type: 'io.kestra.plugin.core.log.Log',
  aliases: ['io.kestra.core.tasks.log.Log'],
  kind: 'runnable',
  title: 'Log a message',
  properties: {
    message: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    level: { enum: [...LOG_LEVELS] },
  },
  required: ['message'],
  async run(ctx) {
    const level = ctx.props.level ?? 'INFO';
    const messages = Array.isArray(ctx.props.message) ? ctx.props.message : [ctx.props.message];
    for (const m of messages) ctx.logger.log(level, String(m));
  },
};
