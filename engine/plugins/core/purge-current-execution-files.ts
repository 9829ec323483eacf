import { Empty, Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';

/** io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles: deletes this execution's files. */
export const purgeCurrentExecutionFiles = defineTask({
  type: 'io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles',
  aliases: ['io.kestra.core.tasks.storages.PurgeCurrentExecutionFiles', 'io.kestra.plugin.core.storage.PurgeExecution'],
  kind: 'runnable',
  title: "Delete the current execution's files",
  description: "Deletes every file this execution put in internal storage (downloads, output files, uploaded inputs), usually as the flow's last task once the files are no longer needed.",
  properties: Empty(),
  outputs: Type.Object({ uris: Type.Array(Type.String(), { description: 'The kestra:// URIs deleted.' }) }),
  examples: [{ title: 'Clean up at the end', code: 'id: purge\ntype: io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles' }],
  async run(ctx) {
    const uris = await ctx.storage.purgeExecution();
    ctx.logger.info(`Purged ${uris.length} file(s)`);
    return { outputs: { uris } };
  },
});
