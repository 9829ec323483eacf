import type { TaskPlugin } from '../types.ts';
import { runScript } from '../../scripts/index.ts';
import { EXEC_SCRIPT_PROPERTIES, EXEC_SCRIPT_UNRENDERED, execScriptSpec, type ExecScriptProps } from './exec-script.ts';
import { SHELL_DEFAULT_IMAGE } from './shell-commands.ts';

/**
 * io.kestra.plugin.scripts.shell.Script: runs an inline shell script. As in Kestra, the script is
 * passed to the interpreter after `set -e` and `beforeCommands`, as one more command.
 */
export const shellScript: TaskPlugin<ExecScriptProps & { script: string }> = {
  type: 'io.kestra.plugin.scripts.shell.Script',
  kind: 'runnable',
  title: 'Run an inline shell script',
  properties: {
    ...EXEC_SCRIPT_PROPERTIES,
    script: { type: 'string', minLength: 1 },
  },
  required: ['script'],
  unrendered: [...EXEC_SCRIPT_UNRENDERED, 'script'],
  async run(ctx) {
    return runScript(ctx, { ...execScriptSpec(ctx.props, SHELL_DEFAULT_IMAGE), commands: [ctx.props.script] });
  },
};
