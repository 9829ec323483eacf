import type { TaskPlugin } from '../types.ts';
import { runScript } from '../../scripts/index.ts';
import { EXEC_SCRIPT_PROPERTIES, EXEC_SCRIPT_UNRENDERED, dynamic, execScriptSpec, type ExecScriptProps } from './exec-script.ts';

/** Kestra's default image for shell tasks (used by container runners). */
export const SHELL_DEFAULT_IMAGE = 'ubuntu';

/** io.kestra.plugin.scripts.shell.Commands: runs shell commands, one script joined by newlines. */
export const shellCommands: TaskPlugin<ExecScriptProps & { commands: string[] | string }> = {
  type: 'io.kestra.plugin.scripts.shell.Commands',
  // The plugin's first name, renamed to Commands early on.
  aliases: ['io.kestra.plugin.scripts.shell.Command'],
  kind: 'runnable',
  title: 'Run shell commands',
  properties: {
    ...EXEC_SCRIPT_PROPERTIES,
    commands: dynamic({ type: 'array', items: { type: 'string' }, minItems: 1 }),
  },
  required: ['commands'],
  unrendered: [...EXEC_SCRIPT_UNRENDERED],
  async run(ctx) {
    return runScript(ctx, { ...execScriptSpec(ctx.props, SHELL_DEFAULT_IMAGE), commands: ctx.props.commands });
  },
};
