import { Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';
import { runScript } from '../../scripts/index.ts';
import { EXEC_SCRIPT_PROPERTIES, EXEC_SCRIPT_UNRENDERED, SCRIPT_OUTPUTS, execScriptSpec } from './exec-script.ts';
import { SHELL_DEFAULT_IMAGE } from './shell-commands.ts';

/**
 * io.kestra.plugin.scripts.shell.Script: runs an inline shell script. As in Kestra, the script is
 * passed to the interpreter after `set -e` and `beforeCommands`, as one more command.
 */
export const shellScript = defineTask({
  type: 'io.kestra.plugin.scripts.shell.Script',
  kind: 'runnable',
  title: 'Run an inline shell script',
  description: 'Runs an inline shell `script` on a task runner (Docker, or Process on this host), after `set -e` and `beforeCommands`. Inputs, namespace files, output files and the `::{"outputs": {…}}::` protocol work as for shell Commands.',
  properties: Type.Object({
    ...EXEC_SCRIPT_PROPERTIES,
    script: Type.String({ minLength: 1, description: 'The script.' }),
  }),
  outputs: SCRIPT_OUTPUTS,
  examples: [{ title: 'A loop', code: 'id: loop\ntype: io.kestra.plugin.scripts.shell.Script\ntaskRunner:\n  type: io.kestra.plugin.core.runner.Process\nscript: |\n  for i in 1 2 3; do echo "$i"; done' }],
  unrendered: [...EXEC_SCRIPT_UNRENDERED, 'script'],
  async run(ctx) {
    return runScript(ctx, { ...execScriptSpec(ctx.props, SHELL_DEFAULT_IMAGE), commands: [ctx.props.script] });
  },
});
