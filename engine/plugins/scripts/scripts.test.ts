import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskFailure, type TaskPlugin } from '../types.ts';
import { createTempDirTaskContext, type TempDirTaskContext } from '../../scripts/temp-dir-task-context.ts';
import { pythonCommands, pythonScript, shellCommands, shellScript } from './index.ts';

const open: Array<TempDirTaskContext<unknown>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.cleanup()));
});

/** Runs a plugin the way the executor does: props rendered except the plugin's `unrendered` ones. */
async function run(plugin: TaskPlugin, props: Record<string, unknown>) {
  const t = await createTempDirTaskContext<unknown>(props);
  open.push(t as TempDirTaskContext<unknown>);
  const result = await plugin.run(t.ctx);
  return { t, result: result as { state: string; outputs: Record<string, any>; metrics: unknown[] } };
}

async function runFailing(plugin: TaskPlugin, props: Record<string, unknown>) {
  const t = await createTempDirTaskContext<unknown>(props);
  open.push(t as TempDirTaskContext<unknown>);
  const error = await plugin.run(t.ctx).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TaskFailure);
  return { t, error: error as TaskFailure };
}

const info = (t: TempDirTaskContext<unknown>) => t.logs.filter((l) => l.level === 'INFO').map((l) => l.message);

const hasPython = (() => {
  for (const candidate of ['python', 'python3']) {
    try {
      execFileSync(candidate, ['-c', ''], { stdio: 'ignore' });
      return true;
    } catch {
      // try the next one
    }
  }
  return false;
})();

describe('plugin definitions', () => {
  it('declare the Kestra types, aliases and the deprecated AbstractExecScript properties', () => {
    expect(shellCommands.type).toBe('io.kestra.plugin.scripts.shell.Commands');
    expect(shellCommands.aliases).toEqual(['io.kestra.plugin.scripts.shell.Command']);
    expect(shellScript.type).toBe('io.kestra.plugin.scripts.shell.Script');
    expect(pythonCommands.type).toBe('io.kestra.plugin.scripts.python.Commands');
    expect(pythonScript.type).toBe('io.kestra.plugin.scripts.python.Script');
    for (const plugin of [shellCommands, shellScript, pythonCommands, pythonScript]) {
      for (const name of ['runner', 'docker', 'outputDirectory', 'containerImage', 'taskRunner', 'targetOS', 'inputFiles', 'outputFiles', 'namespaceFiles', 'warningOnStdErr', 'failFast', 'interpreter', 'beforeCommands', 'env']) {
        expect(plugin.properties.properties, `${plugin.type}.${name}`).toHaveProperty(name);
      }
      expect(plugin.unrendered).toEqual(expect.arrayContaining(['commands', 'beforeCommands', 'interpreter', 'inputFiles']));
    }
    expect(Object.keys(pythonScript.properties.properties)).toEqual(expect.arrayContaining(['dependencies', 'pythonVersion', 'packageManager', 'dependencyCacheEnabled', 'script']));
  });
});

describe('shell.Commands', () => {
  it('runs commands on the Process runner and returns Kestra ScriptOutput', async () => {
    const { t, result } = await run(shellCommands, {
      taskRunner: { type: 'io.kestra.plugin.core.runner.Process' },
      commands: ['echo "hello"', `echo '::{"outputs":{"answer":42}}::'`, 'echo 1 >> {{ outputDir }}/first.txt'],
    });
    expect(result.state).toBe('SUCCESS');
    expect(result.outputs.exitCode).toBe(0);
    expect(result.outputs.vars).toEqual({ answer: 42 });
    expect(Object.keys(result.outputs.outputFiles)).toEqual(['first.txt']);
    expect(info(t)).toEqual(['hello']);
  });

  it('accepts the deprecated runner: PROCESS and string booleans from expressions', async () => {
    const { result } = await run(shellCommands, { runner: 'PROCESS', warningOnStdErr: 'false', commands: ['echo warn >&2'] });
    expect(result.state).toBe('SUCCESS');
  });

  it('maps the deprecated runner: DOCKER and docker options to the Docker runner', async () => {
    // NEVER, and an image on a closed loopback registry: whether or not an engine answers, nothing is pulled.
    const image = '127.0.0.1:9/baton-test/absent:1';
    const { error } = await runFailing(shellCommands, { runner: 'DOCKER', docker: { image, pullPolicy: 'NEVER' }, commands: ['true'] });
    expect(error.message).toMatch(/Docker engine|pullPolicy is NEVER/);
  });

  it('uses env given as a map with non-string values', async () => {
    const { t } = await run(shellCommands, { env: { COUNT: 3, FLAG: true }, commands: ['echo "$COUNT $FLAG"'] });
    expect(info(t)).toEqual(['3 true']);
  });

  it('fails with the exit code', async () => {
    const { error } = await runFailing(shellCommands, { commands: ['exit 5'] });
    expect(error.message).toBe('Command failed with exit code 5');
  });
});

describe('shell.Script', () => {
  it('runs a multi-line script with set -e and beforeCommands first', async () => {
    const { t } = await run(shellScript, {
      beforeCommands: ['echo before'],
      script: 'echo "one"\nfor i in 1 2; do echo "loop $i"; done\n',
    });
    expect(info(t)).toEqual(['before', 'one', 'loop 1', 'loop 2']);
    const { error } = await runFailing(shellScript, { script: 'echo start\nfalse\necho never' });
    expect(error.message).toBe('Command failed with exit code 1');
  });
});

describe.skipIf(!hasPython)('python.Script', () => {
  it('writes the script to a .py file and runs it, Kestra-protocol outputs included', async () => {
    const { t, result } = await run(pythonScript, {
      script: [
        'import json, os, sys',
        'print("hello from python")',
        'print("::" + json.dumps({"outputs": {"sum": 1 + 2, "cwd_is_workdir": os.getcwd() == os.environ["WORKING_DIR"]}}) + "::")',
        'print("to stderr", file=sys.stderr)',
      ].join('\n'),
    });
    expect(result.outputs.vars).toEqual({ sum: 3, cwd_is_workdir: true });
    expect(result.state).toBe('WARNING');
    expect(info(t)).toEqual(['hello from python']);
    expect(t.logs).toContainEqual({ level: 'ERROR', message: 'to stderr' });
  });

  it('keeps the script as written: no true/false/null prelude', async () => {
    const { error } = await runFailing(pythonScript, { script: 'print(true)' });
    expect(error.message).toBe('Command failed with exit code 1');
  });

  it('renders {{ workingDir }} and reads input files', async () => {
    const { t } = await run(pythonScript, {
      inputFiles: { 'data/input.txt': 'file content' },
      script: 'print(open("{{ workingDir }}/data/input.txt").read())',
    });
    expect(info(t)).toEqual(['file content']);
  });

  it('falls back with a WARN line when the requested pythonVersion is missing', async () => {
    const { t, result } = await run(pythonScript, { pythonVersion: '2.1', script: 'print("ran")' });
    expect(info(t)).toEqual(['ran']);
    expect(t.logs).toContainEqual({ level: 'WARN', message: 'python2.1 is not available here, using the default Python instead' });
    expect(result.state).toBe('SUCCESS');
  });

  it('rejects a pythonVersion that is not a version', async () => {
    await expect(createTempDirTaskContext<unknown>({ pythonVersion: '3; rm -rf /', script: 'print(1)' }).then(async (t) => {
      open.push(t);
      return (pythonScript as TaskPlugin).run(t.ctx);
    })).rejects.toThrow(/pythonVersion: /);
  });

  it('installs dependencies into the working directory (a local wheel, offline) before running', async () => {
    const { t: scratch } = await run(shellCommands, { commands: ['true'] });
    const wheel = join(scratch.root, 'batonprobe-1.0-py3-none-any.whl');
    buildWheel(wheel);
    for (const packageManager of ['PIP', 'UV']) {
      const { t, result } = await run(pythonScript, {
        dependencies: [wheel],
        packageManager,
        script: 'import batonprobe, os\nprint(batonprobe.VALUE, batonprobe.__file__.startswith(os.environ["WORKING_DIR"]))',
      });
      expect(info(t), packageManager).toEqual(['42 True']);
      expect(result.state).toBe('SUCCESS');
    }
  });

  it('fails the task when a dependency cannot be installed, even without failFast', async () => {
    const { error } = await runFailing(pythonScript, {
      failFast: false,
      dependencies: ['/nonexistent/nothing-1.0-py3-none-any.whl'],
      script: 'print("should not run")',
    });
    expect(error.message).toMatch(/^Command failed with exit code [1-9]/);
  });
});

describe.skipIf(!hasPython)('python.Commands', () => {
  it('runs python commands with input files and PYTHONUNBUFFERED set', async () => {
    const { t, result } = await run(pythonCommands, {
      inputFiles: { 'main.py': 'import os\nprint("unbuffered=" + os.environ["PYTHONUNBUFFERED"])\nopen("out.csv", "w").write("a,b")' },
      outputFiles: ['*.csv'],
      commands: ['"$BATON_PYTHON" main.py'],
    });
    expect(info(t)).toEqual(['unbuffered=true']);
    expect(await readFile(t.storagePath(result.outputs.outputFiles['out.csv']), 'utf8')).toBe('a,b');
  });
});

/** A minimal pure-Python wheel, zipped by Python itself so the test needs no network and no build tools. */
function buildWheel(path: string): void {
  const script = `
import sys, zipfile
files = {
  "batonprobe/__init__.py": "VALUE = 42\\n",
  "batonprobe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: batonprobe\\nVersion: 1.0\\n",
  "batonprobe-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: baton-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = "".join(name + ",,\\n" for name in files) + "batonprobe-1.0.dist-info/RECORD,,\\n"
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for name, content in files.items():
        z.writestr(name, content)
    z.writestr("batonprobe-1.0.dist-info/RECORD", record)
`;
  for (const python of ['python3', 'python']) {
    try {
      execFileSync(python, ['-c', script, path], { stdio: 'pipe' });
      return;
    } catch {
      // try the next interpreter
    }
  }
  throw new Error('no python could build the test wheel');
}
