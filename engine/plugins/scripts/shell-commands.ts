import { Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';
import { runScript } from '../../scripts/index.ts';
import { EXEC_SCRIPT_PROPERTIES, EXEC_SCRIPT_UNRENDERED, SCRIPT_OUTPUTS, dynamic, execScriptSpec } from './exec-script.ts';

/** Kestra's default image for shell tasks (used by container runners). */
export const SHELL_DEFAULT_IMAGE = 'ubuntu';

/** io.kestra.plugin.scripts.shell.Commands: runs shell commands, one script joined by newlines. */
export const shellCommands = defineTask({
  type: 'io.kestra.plugin.scripts.shell.Commands',
  // The plugin's first name, renamed to Commands early on.
  aliases: ['io.kestra.plugin.scripts.shell.Command'],
  kind: 'runnable',
  title: 'Run shell commands',
  description: 'Runs `commands` as one shell script (joined by newlines, after `set -e` unless `failFast: false`) on a task runner: Docker with `containerImage` (ubuntu by default), or the Process runner on this host. Files come in through `inputFiles` and `namespaceFiles` and go out through `outputFiles`; a line `::{"outputs": {…}}::` on stdout sets outputs.',
  properties: Type.Object({
    ...EXEC_SCRIPT_PROPERTIES,
    commands: dynamic(Type.Array(Type.String(), { minItems: 1 }), { description: 'The commands to run.' }),
  }),
  outputs: SCRIPT_OUTPUTS,
  examples: [{ title: 'On this host', code: 'id: hello\ntype: io.kestra.plugin.scripts.shell.Commands\ntaskRunner:\n  type: io.kestra.plugin.core.runner.Process\ncommands:\n  - echo "::{\\"outputs\\":{\\"n\\":1}}::"' }],
  unrendered: [...EXEC_SCRIPT_UNRENDERED],
  async run(ctx) {
    return runScript(ctx, { ...execScriptSpec(ctx.props, SHELL_DEFAULT_IMAGE), commands: ctx.props.commands });
  },
});
