import { setTimeout as sleepFor } from 'node:timers/promises';
import { parseIsoDuration } from '../../duration.ts';
import { Empty, Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';

/** A timer's longest delay (~24.8 days): Node fires a longer one after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** io.kestra.plugin.core.flow.Sleep: waits `duration` (ISO-8601), stopping at once on kill or timeout. */
export const sleep = defineTask({
  type: 'io.kestra.plugin.core.flow.Sleep',
  aliases: ['io.kestra.core.tasks.flows.Sleep'],
  kind: 'runnable',
  title: 'Wait for a duration',
  description: 'Waits for an ISO-8601 `duration` (`PT30S`, `PT2H`) and succeeds. A kill or the task\'s timeout ends the wait at once.',
  properties: Type.Object({ duration: Type.String({ format: 'duration', description: 'How long to wait, as an ISO-8601 duration.' }) }),
  outputs: Empty(),
  examples: [{ title: 'Wait half a minute', code: 'id: wait\ntype: io.kestra.plugin.core.flow.Sleep\nduration: PT30S' }],
  async run(ctx) {
    let remaining = parseIsoDuration(ctx.props.duration);
    try {
      do {
        const step = Math.min(remaining, MAX_TIMER_MS);
        await sleepFor(step, undefined, { signal: ctx.signal });
        remaining -= step;
      } while (remaining > 0);
    } catch (error) {
      // The kill or timeout itself, as every task reports it.
      ctx.signal.throwIfAborted();
      throw error;
    }
  },
});
