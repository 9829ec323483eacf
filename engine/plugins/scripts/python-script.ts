import { randomBytes } from 'node:crypto';
import type { TaskPlugin } from '../types.ts';
import { runScript } from '../../scripts/index.ts';
import { EXEC_SCRIPT_PROPERTIES, EXEC_SCRIPT_UNRENDERED, execScriptSpec, type ExecScriptProps } from './exec-script.ts';
import {
  PYTHON_DEFAULT_IMAGE, PYTHON_ENV, PYTHON_PROPERTIES, PYTHON_VARIABLE, pythonSetup, type PythonProps,
} from './python-environment.ts';

/**
 * io.kestra.plugin.scripts.python.Script: writes `script` to a `.py` file in the working directory
 * and runs it with `python` (or `python3` where only that exists). The script is used as written:
 * Kestra adds no prelude to it.
 */
export const pythonScript: TaskPlugin<ExecScriptProps & PythonProps & { script: string }> = {
  type: 'io.kestra.plugin.scripts.python.Script',
  kind: 'runnable',
  title: 'Run an inline Python script',
  properties: {
    ...EXEC_SCRIPT_PROPERTIES,
    ...PYTHON_PROPERTIES,
    script: { type: 'string', minLength: 1 },
  },
  required: ['script'],
  unrendered: [...EXEC_SCRIPT_UNRENDERED, 'script'],
  async run(ctx) {
    const spec = execScriptSpec(ctx.props, PYTHON_DEFAULT_IMAGE);
    // A random name like Kestra's temp file, so it cannot clash with the task's own files.
    const name = `${randomBytes(8).toString('hex')}.py`;
    return runScript(ctx, {
      ...spec,
      env: { ...(spec.env ?? {}), ...PYTHON_ENV },
      setupCommands: pythonSetup(ctx.props),
      scriptFile: { name, content: ctx.props.script },
      commands: [`"$${PYTHON_VARIABLE}" "$WORKING_DIR/${name}"`],
    });
  },
};
