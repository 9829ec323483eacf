import type { TaskPlugin } from '../types.ts';

/** io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles: deletes this execution's files. */
export const purgeCurrentExecutionFiles: TaskPlugin<Record<string, never>> = {
  type: 'io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles',
  aliases: ['io.kestra.core.tasks.storages.PurgeCurrentExecutionFiles', 'io.kestra.plugin.core.storage.PurgeExecution'],
  kind: 'runnable',
  title: "Delete the current execution's files",
  properties: {},
  async run(ctx) {
    const uris = await ctx.storage.purgeExecution();
    ctx.logger.info(`Purged ${uris.length} file(s)`);
    return { outputs: { uris } };
  },
};
