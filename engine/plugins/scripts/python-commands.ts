import { Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';
import { runScript } from '../../scripts/index.ts';
import { EXEC_SCRIPT_PROPERTIES, EXEC_SCRIPT_UNRENDERED, SCRIPT_OUTPUTS, dynamic, execScriptSpec } from './exec-script.ts';
import { PYTHON_DEFAULT_IMAGE, PYTHON_ENV, PYTHON_PROPERTIES, pythonSetup } from './python-environment.ts';

/** io.kestra.plugin.scripts.python.Commands: runs commands (e.g. `python main.py`) with `dependencies` installed first. */
export const pythonCommands = defineTask({
  type: 'io.kestra.plugin.scripts.python.Commands',
  // The plugin's first name, renamed to Commands early on.
  aliases: ['io.kestra.plugin.scripts.python.Command'],
  kind: 'runnable',
  title: 'Run Python commands',
  description: 'Runs `commands` (such as `python main.py`) on a task runner after installing `dependencies` with uv or pip into the working directory. The image defaults to python:3.13-slim; the rest works as for shell Commands.',
  properties: Type.Object({
    ...EXEC_SCRIPT_PROPERTIES,
    ...PYTHON_PROPERTIES,
    commands: dynamic(Type.Array(Type.String(), { minItems: 1 }), { description: 'The commands to run.' }),
  }),
  outputs: SCRIPT_OUTPUTS,
  examples: [{ title: 'Run a namespace file', code: 'id: main\ntype: io.kestra.plugin.scripts.python.Commands\nnamespaceFiles:\n  enabled: true\ndependencies: ["requests"]\ncommands:\n  - python main.py' }],
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
});
