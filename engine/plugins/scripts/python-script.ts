import { randomBytes } from 'node:crypto';
import { Type } from '../../contract/index.ts';
import { defineTask } from '../types.ts';
import { runScript } from '../../scripts/index.ts';
import { EXEC_SCRIPT_PROPERTIES, EXEC_SCRIPT_UNRENDERED, SCRIPT_OUTPUTS, execScriptSpec } from './exec-script.ts';
import {
  PYTHON_DEFAULT_IMAGE, PYTHON_ENV, PYTHON_PROPERTIES, PYTHON_VARIABLE, pythonSetup,
} from './python-environment.ts';

/**
 * io.kestra.plugin.scripts.python.Script: writes `script` to a `.py` file in the working directory
 * and runs it with `python` (or `python3` where only that exists). The script is used as written:
 * Kestra adds no prelude to it.
 */
export const pythonScript = defineTask({
  type: 'io.kestra.plugin.scripts.python.Script',
  kind: 'runnable',
  title: 'Run an inline Python script',
  description: 'Writes `script` to a .py file in the working directory and runs it with Python on a task runner, after installing `dependencies`. Outputs are sent by printing `::{"outputs": {…}}::` (what Kestra.outputs() does).',
  properties: Type.Object({
    ...EXEC_SCRIPT_PROPERTIES,
    ...PYTHON_PROPERTIES,
    script: Type.String({ minLength: 1, description: 'The Python script.' }),
  }),
  outputs: SCRIPT_OUTPUTS,
  examples: [{ title: 'Send an output', code: 'id: compute\ntype: io.kestra.plugin.scripts.python.Script\ntaskRunner:\n  type: io.kestra.plugin.core.runner.Process\nscript: |\n  import json\n  print("::" + json.dumps({"outputs": {"answer": 42}}) + "::")' }],
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
});
