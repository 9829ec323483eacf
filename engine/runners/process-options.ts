/** The Process task runner's definition in the plugin contract (its behaviour is process.ts). */
import { Empty, Type, type PluginDefinition } from '../contract/index.ts';

/** Kestra's Process runner has no properties of its own. */
export const PROCESS_RUNNER_PROPERTIES = Type.Object({}, { additionalProperties: false });

export const PROCESS_RUNNER_DEFINITION: PluginDefinition<typeof PROCESS_RUNNER_PROPERTIES> = {
  type: 'io.kestra.plugin.core.runner.Process',
  aliases: ['io.kestra.core.models.tasks.runners.types.ProcessTaskRunner'],
  title: 'Run commands on this host',
  description: "Runs a script task's commands as processes on the worker's host, as the unprivileged task user (BATON_TASK_USER) when Baton runs as root, with only a minimal environment. No image is needed: the host's tools are used. Baton's fallback when no Docker engine answers.",
  properties: PROCESS_RUNNER_PROPERTIES,
  outputs: Empty(),
  examples: [{ title: 'On the host', code: 'type: io.kestra.plugin.core.runner.Process' }],
};
