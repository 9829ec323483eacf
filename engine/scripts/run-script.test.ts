import { readFile, symlink, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskFailure } from '../plugins/types.ts';
import { runScript, type ScriptSpec } from './run-script.ts';
import { createTempDirTaskContext, type TempDirTaskContext } from './temp-dir-task-context.ts';

const open: Array<TempDirTaskContext<unknown>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.cleanup()));
});

async function context(options?: Parameters<typeof createTempDirTaskContext>[1]) {
  const t = await createTempDirTaskContext<unknown>({}, options);
  open.push(t);
  return t;
}

async function failure(promise: Promise<unknown>): Promise<TaskFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TaskFailure);
  return error as TaskFailure;
}

const PROCESS = { taskRunner: { type: 'io.kestra.plugin.core.runner.Process' } } satisfies Partial<ScriptSpec>;

describe('runScript', () => {
  it('logs stdout lines as INFO and returns exitCode, empty vars and outputFiles', async () => {
    const t = await context();
    const result = await runScript(t.ctx, { ...PROCESS, commands: ['echo hello', 'echo world'] });
    expect(result.state).toBe('SUCCESS');
    expect(result.outputs).toEqual({ exitCode: 0, vars: {}, outputFiles: {} });
    expect(t.logs.filter((l) => l.level === 'INFO').map((l) => l.message)).toEqual(['hello', 'world']);
  });

  it('collects protocol outputs into vars and metrics onto the result, without logging those lines', async () => {
    const t = await context();
    const result = await runScript(t.ctx, {
      commands: [
        `echo '::{"outputs":{"test":"value","int":2,"bool":true,"float":3.65}}::'`,
        `echo '::{"metrics":[{"name":"count","type":"counter","value":1,"tags":{"tag1":"i"}}]}::'`,
        `echo '::{"outputs":{"int":3}}::'`,
      ],
    });
    expect(result.outputs.vars).toEqual({ test: 'value', int: 3, bool: true, float: 3.65 });
    expect(result.metrics).toEqual([{ name: 'count', type: 'counter', value: 1, tags: { tag1: 'i' } }]);
    expect(t.logs.some((l) => l.message.includes('::'))).toBe(false);
  });

  it('ends in WARNING when stderr was written, unless warningOnStdErr is false', async () => {
    const t = await context();
    const warned = await runScript(t.ctx, { commands: ['echo oops >&2'] });
    expect(warned.state).toBe('WARNING');
    expect(t.logs).toContainEqual({ level: 'ERROR', message: 'oops' });
    const quiet = await runScript(t.ctx, { commands: ['echo oops >&2'], warningOnStdErr: false });
    expect(quiet.state).toBe('SUCCESS');
  });

  it('fails with the exit code, keeping the vars sent before the failure', async () => {
    const t = await context();
    const error = await failure(runScript(t.ctx, { commands: [`echo '::{"outputs":{"before":1}}::'`, 'exit 3'] }));
    expect(error.message).toBe('Command failed with exit code 3');
    expect(error.outputs).toEqual({ exitCode: 3, vars: { before: 1 }, outputFiles: {} });
  });

  it('stops at the first failing command with failFast, and runs on without it', async () => {
    const t = await context();
    const error = await failure(runScript(t.ctx, { commands: ['false', 'echo after'] }));
    expect(error.message).toBe('Command failed with exit code 1');
    expect(t.logs.some((l) => l.message === 'after')).toBe(false);
    const result = await runScript(t.ctx, { commands: ['false', 'echo after'], failFast: false });
    expect(result.state).toBe('SUCCESS');
    expect(t.logs.some((l) => l.message === 'after')).toBe(true);
  });

  it('runs beforeCommands first, then plugin setup lines come before them', async () => {
    const t = await context();
    await runScript(t.ctx, { setupCommands: ['echo setup'], beforeCommands: ['echo before'], commands: ['echo main'] });
    expect(t.logs.filter((l) => l.level === 'INFO').map((l) => l.message)).toEqual(['setup', 'before', 'main']);
  });

  it('honours a custom interpreter, and runs commands as argv when the interpreter is empty', async () => {
    const t = await context();
    await runScript(t.ctx, { interpreter: ['/bin/bash', '-c'], commands: ['echo "${BASH_VERSION:+bash}"'] });
    expect(t.logs.at(-1)).toEqual({ level: 'INFO', message: 'bash' });
    await runScript(t.ctx, { interpreter: [], commands: ['/bin/echo', 'a b', '$HOME'] });
    expect(t.logs.at(-1)).toEqual({ level: 'INFO', message: 'a b $HOME' });
  });

  it('gives the task env plus WORKING_DIR and OUTPUT_DIR (a subdirectory)', async () => {
    const t = await context();
    const result = await runScript(t.ctx, {
      env: { GREETING: 'hi there', WORKING_DIR: 'overridden?' },
      commands: ['echo "$GREETING"', 'echo "$WORKING_DIR"', 'echo "$OUTPUT_DIR"', 'pwd'],
    });
    const [greeting, workingDir, outputDir, pwd] = t.logs.filter((l) => l.level === 'INFO').map((l) => l.message);
    const expected = await t.ctx.workingDirectory();
    expect(greeting).toBe('hi there');
    expect(workingDir).toBe(expected);
    expect(pwd).toBe(expected);
    expect(outputDir.startsWith(expected + '/')).toBe(true);
    expect(result.outputs.outputFiles).toEqual({});
  });

  it('renders {{workingDir}}, {{outputDir}} and {{outputFiles}} in commands', async () => {
    const t = await context();
    const result = await runScript(t.ctx, {
      outputFiles: ['named.txt'],
      commands: [
        'echo "{{ workingDir }}"',
        'echo first > {{ outputDir }}/first.txt',
        'echo odd > "{{ outputDir }}/100% sure.txt"',
        `echo named > {{ outputFiles['named.txt'] }}`,
      ],
    });
    expect(t.logs.find((l) => l.level === 'INFO')?.message).toBe(await t.ctx.workingDirectory());
    expect(Object.keys(result.outputs.outputFiles).sort()).toEqual(['100% sure.txt', 'first.txt', 'named.txt']);
    expect(result.outputs.outputFiles['100% sure.txt']).toMatch(/\/100%25%20sure\.txt$/);
    expect(await readFile(t.storagePath(result.outputs.outputFiles['first.txt']), 'utf8')).toBe('first\n');
  });

  it('writes inputFiles: text, nested paths and kestra:// files', async () => {
    const t = await context();
    const uri = await t.putStorageFile('data.csv', 'a,b\n1,2\n');
    await runScript(t.ctx, {
      inputFiles: { 'plain.txt': 'hello {{ flow.id }}', 'dir/sub/nested.txt': 'deep', 'data.csv': uri, 'skipped.txt': null },
      commands: ['echo "$(cat plain.txt)"', 'echo "$(cat dir/sub/nested.txt)"', 'wc -l < data.csv | tr -d " "', 'test ! -e skipped.txt && echo no-null-file'],
    });
    expect(t.logs.filter((l) => l.level === 'INFO').map((l) => l.message)).toEqual(['hello flow', 'deep', '2', 'no-null-file']);
  });

  it('accepts inputFiles as a JSON string', async () => {
    const t = await context();
    await runScript(t.ctx, { inputFiles: '{"a.txt": "from json"}', commands: ['cat a.txt'] });
    expect(t.logs.at(-1)).toEqual({ level: 'INFO', message: 'from json' });
    const error = await failure(runScript(t.ctx, { inputFiles: '[1,2]', commands: ['true'] }));
    expect(error.message).toContain('inputFiles must be a map');
  });

  it('refuses inputFiles outside the working directory before running anything', async () => {
    const t = await context();
    for (const path of ['../escape.txt', '/tmp/abs.txt', 'a/../../b.txt']) {
      const error = await failure(runScript(t.ctx, { inputFiles: { [path]: 'x' }, commands: ['echo ran'] }));
      expect(error.message).toMatch(/^inputFiles: /);
    }
    expect(t.logs.some((l) => l.message === 'ran')).toBe(false);
  });

  it('uploads outputFiles matching globs, including ** and Java-style **.ext', async () => {
    const t = await context();
    const result = await runScript(t.ctx, {
      outputFiles: ['*.txt', 'reports/**', '**.csv'],
      commands: [
        'echo a > a.txt',
        'mkdir -p reports/2024 deep/er',
        'echo r > reports/2024/r.json',
        'echo c > deep/er/c.csv',
        'echo root > root.csv',
        'echo no > ignored.log',
        'echo hidden > .hidden.txt',
      ],
    });
    const files = result.outputs.outputFiles;
    expect(Object.keys(files).sort()).toEqual(['.hidden.txt', 'a.txt', 'deep/er/c.csv', 'reports/2024/r.json', 'root.csv']);
    expect(await readFile(t.storagePath(files['deep/er/c.csv']), 'utf8')).toBe('c\n');
    expect(files['a.txt']).toMatch(/^kestra:\/\/\/company\/team\/flow\/executions\/exec1\/tasks\/task\/taskrun1\/[\w-]{22}-a\.txt$/);
  });

  it('uploads output files even when the command fails', async () => {
    const t = await context();
    const error = await failure(runScript(t.ctx, { outputFiles: ['out.txt'], commands: ['echo partial > out.txt', 'exit 2'] }));
    expect(Object.keys((error.outputs as { outputFiles: object }).outputFiles)).toEqual(['out.txt']);
  });

  it('does not export files outside the working directory through symlinks', async () => {
    const t = await context();
    const outside = await mkdtemp(join(tmpdir(), 'baton-secret-'));
    try {
      await writeFile(join(outside, 'secret.txt'), 'host secret');
      const result = await runScript(t.ctx, {
        outputFiles: ['*.txt'],
        commands: [`ln -s ${outside}/secret.txt leak.txt`, 'echo ok > own.txt', 'ln -s own.txt alias.txt'],
      });
      expect(Object.keys(result.outputs.outputFiles).sort()).toEqual(['alias.txt', 'own.txt']);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('refuses outputFiles patterns that leave the working directory', async () => {
    const t = await context();
    const error = await failure(runScript(t.ctx, { outputFiles: ['../*.txt'], commands: ['true'] }));
    expect(error.message).toMatch(/^outputFiles: /);
  });

  it('copies namespace files filtered by include and exclude', async () => {
    const t = await context();
    await t.putNamespaceFile('company.team', '/sql/a.sql', 'select 1');
    await t.putNamespaceFile('company.team', '/sql/skip.sql', 'select 2');
    await t.putNamespaceFile('company.team', '/scripts/run.sh', 'echo from-namespace');
    await t.putNamespaceFile('company.team', '/README.md', 'readme');
    const result = await runScript(t.ctx, {
      namespaceFiles: { enabled: true, include: ['sql/**', '/scripts/*.sh'], exclude: ['**/skip.sql'] },
      commands: ['find . -type f -not -path "./.*" | grep -v "^./[A-Za-z0-9_-]\\{16\\}/" | sort', 'sh scripts/run.sh'],
    });
    const info = t.logs.filter((l) => l.level === 'INFO').map((l) => l.message);
    expect(info).toContain('./sql/a.sql');
    expect(info).toContain('./scripts/run.sh');
    expect(info).not.toContain('./sql/skip.sql');
    expect(info).not.toContain('./README.md');
    expect(info).toContain('from-namespace');
    expect(info[0]).toMatch(/^Loaded 2 namespace files from 'company.team' in /);
    expect(result.metrics).toContainEqual({ name: 'namespacefiles.count', type: 'counter', value: 2 });
  });

  it('does not copy namespace files when enabled is false', async () => {
    const t = await context();
    await t.putNamespaceFile('company.team', '/a.txt', 'x');
    await runScript(t.ctx, { namespaceFiles: { enabled: false }, commands: ['test -e a.txt && echo present || echo absent'] });
    expect(t.logs.at(-1)?.message).toBe('absent');
  });

  it('replaces kestra:// URIs in commands by a local copy', async () => {
    const t = await context();
    const uri = await t.putStorageFile('hello%20world.txt', 'stored content\n');
    await runScript(t.ctx, { commands: [`cat ${uri}`, `echo ${uri} | grep -c "^/"`] });
    expect(t.logs.filter((l) => l.level === 'INFO').map((l) => l.message)).toEqual(['stored content', '1']);
  });

  it('writes the script file before running', async () => {
    const t = await context();
    await runScript(t.ctx, {
      scriptFile: { name: 'job.sh', content: 'echo "script in {{ flow.namespace }}"' },
      commands: ['sh job.sh'],
    });
    expect(t.logs.at(-1)).toEqual({ level: 'INFO', message: 'script in company.team' });
  });

  it('accepts commands as one JSON list string (an expression result)', async () => {
    const t = await context();
    await runScript(t.ctx, { commands: '["echo one", "echo two"]' });
    expect(t.logs.filter((l) => l.level === 'INFO').map((l) => l.message)).toEqual(['one', 'two']);
  });

  it('fails promptly when the task is killed, stopping the command', async () => {
    const t = await context();
    const started = Date.now();
    setTimeout(() => t.abort(new Error('timeout PT0.3S exceeded')), 300);
    const error = await failure(runScript(t.ctx, { commands: ['sleep 30'] }));
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(error.message).toBe('Command killed: timeout PT0.3S exceeded');
  });

  it('fails with a clear message for an unknown task runner', async () => {
    const t = await context();
    const error = await failure(runScript(t.ctx, { taskRunner: { type: 'io.kestra.plugin.scripts.runner.podman.Podman' }, commands: ['true'] }));
    expect(error.message).toContain("unknown task runner 'io.kestra.plugin.scripts.runner.podman.Podman'");
  });

  it('fails with a clear message when the interpreter cannot start', async () => {
    const t = await context();
    const error = await failure(runScript(t.ctx, { interpreter: ['/no/such/shell', '-c'], commands: ['true'] }));
    expect(error.message).toContain('/no/such/shell');
  });
});

describe('runScript with unreadable files', () => {
  it('names the inputFiles entry whose kestra:// file cannot be read', async () => {
    const t = await context();
    const missing = 'kestra:///company/team/flow/executions/exec1/inputs/none.csv';
    const error = await failure(runScript(t.ctx, { inputFiles: { 'data.csv': missing }, commands: ['true'] }));
    expect(error.message).toContain(`inputFiles: cannot copy '${missing}' to 'data.csv'`);
    const other = await failure(runScript(t.ctx, { commands: [`cat ${missing}`] }));
    expect(other.message).toContain(`cannot copy '${missing}' referenced by the commands`);
  });
});
