import type { TaskPlugin } from '../types.ts';
import { runScript } from '../../scripts/index.ts';
import { EXEC_SCRIPT_PROPERTIES, EXEC_SCRIPT_UNRENDERED, dynamic, execScriptSpec, type ExecScriptProps } from './exec-script.ts';
import { PYTHON_DEFAULT_IMAGE, PYTHON_ENV, PYTHON_PROPERTIES, pythonSetup, type PythonProps } from './python-environment.ts';

/** io.kestra.plugin.scripts.python.Commands: runs commands (e.g. `python main.py`) with `dependencies` installed first. */
export const pythonCommands: TaskPlugin<ExecScriptProps & PythonProps & { commands: string[] | string }> = {
  type: 'io.kestra.plugin.scripts.python.Commands',
  // The plugin's first name, renamed to Commands early on.
  aliases: ['io.kestra.plugin.scripts.python.Command'],
  kind: 'runnable',
  title: 'Run Python commands',
  properties: {
    ...EXEC_SCRIPT_PROPERTIES,
    ...PYTHON_PROPERTIES,
    commands: dynamic({ type: 'array', items: { type: 'string' }, minItems: 1 }),
  },
  required: ['commands'],
  unrendered: [...EXEC_SCRIPT_UNRENDERED],
  async run(ctx) {
    const spec = execScriptSpec(ctx.props, PYTHON_DEFAULT_IMAGE);
    return runScript(ctx, {
      ...spec,
      env: { ...(spec.env ?? {}), ...PYTHON_ENV },
      // Commands call `python` themselves; the selected interpreter only installs `dependencies`
      // and is left in $BATON_PYTHON for commands that want the same one.
      setupCommands: pythonSetup(ctx.props),
      commands: ctx.props.commands,
    });
  },
};
