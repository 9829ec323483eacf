import { parseIsoDuration } from '../../duration.ts';
import type { TaskPlugin } from '../types.ts';

/** io.kestra.plugin.core.flow.Sleep: waits `duration` (ISO-8601), stopping at once on kill or timeout. */
export const sleep: TaskPlugin<{ duration: string }> = {
  type: 'io.kestra.plugin.core.flow.Sleep',
  aliases: ['io.kestra.core.tasks.flows.Sleep'],
  kind: 'runnable',
  title: 'Wait for a duration',
  properties: { duration: { type: 'string' } },
  required: ['duration'],
  async run(ctx) {
    const ms = parseIsoDuration(ctx.props.duration);
    await new Promise<void>((resolve, reject) => {
      if (ctx.signal.aborted) return reject(ctx.signal.reason);
      const timer = setTimeout(() => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      function onAbort() {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      }
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  },
};
