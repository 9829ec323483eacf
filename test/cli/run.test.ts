import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_FLOWS } from '../support/fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let dataDir: string;

function baton(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'baton.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, BATON_DATA_DIR: dataDir, DATABASE_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const fixture = (name: string) => join(FIXTURE_FLOWS, `${name}.yaml`);

/** The `baton run` contract other tools depend on: JSON shape, exit codes, messages. */
describe('baton run', () => {
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'baton-cli-'));
  });

  it('--json prints exactly one document with the execution and its logs; exit 0 on SUCCESS', async () => {
    const r = await baton(['run', fixture('log-return'), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc).sort()).toEqual(['execution', 'logs']);
    const e = doc.execution;
    expect(e).toMatchObject({ namespace: 'baton.tests', flowId: 'log-return', flowRevision: 1, inputs: {}, labels: [] });
    expect(e.state).toMatchObject({ current: 'SUCCESS' });
    expect(e.state.histories.map((h: { state: string }) => h.state)).toEqual(['CREATED', 'RUNNING', 'SUCCESS']);
    expect(typeof e.state.startDate).toBe('string');
    expect(typeof e.state.endDate).toBe('string');
    expect(e.state.duration).toMatch(/^PT/);
    expect(e.taskRunList).toHaveLength(3);
    const tr = e.taskRunList[1];
    expect(tr).toMatchObject({ executionId: e.id, taskId: 'ret', parentTaskRunId: null, value: null, outputs: { value: 'ret > true' } });
    expect(tr.state.current).toBe('SUCCESS');
    expect(tr.attempts[0].state).toMatchObject({ current: 'SUCCESS' });
    expect(typeof tr.attempts[0].state.startDate).toBe('string');
    expect(doc.logs[0]).toEqual({
      executionId: e.id,
      taskRunId: e.taskRunList[0].id,
      taskId: 'hello',
      attemptNumber: 1,
      timestamp: expect.any(String),
      level: 'INFO',
      message: 'Hello from log-return in baton.tests',
    });
  });

  it('without --json prints live log lines and a summary', async () => {
    const r = await baton(['run', fixture('log-return')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/INFO  \[hello\] Hello from log-return in baton.tests/);
    expect(r.stdout).toMatch(/SUCCESS/);
  });

  it('exit 1 for a FAILED execution', async () => {
    const r = await baton(['run', fixture('errors-flow'), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).execution.state.current).toBe('FAILED');
  });

  it('--input values are typed; bad inputs exit 2 naming each input', async () => {
    const ok = await baton(['run', fixture('inputs-typed'), '--json', '--input', 'taxi=green', '--input', 'year=2019']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).execution.inputs).toMatchObject({ taxi: 'green', year: 2019 });
    const bad = await baton(['run', fixture('inputs-typed'), '--input', 'taxi=red', '--input', 'year=abc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/taxi/);
    expect(bad.stderr).toMatch(/year/);
    expect(bad.stdout).toBe('');
  });

  it('an invalid flow exits 2 with path:line:col: error: lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-cli-bad-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'id: bad\nnamespace: baton.tests\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.nope.Nope\n');
    const r = await baton(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:\\d+: error: .*unknown task type`, 'm'));
  });

  it('usage and IO errors exit 2', async () => {
    expect((await baton(['run'])).code).toBe(2);
    expect((await baton(['run', '/no/such/file.yaml'])).code).toBe(2);
    expect((await baton(['run', fixture('log-return'), '--bogus'])).code).toBe(2);
  });

  it('--flows makes a folder of flows callable by Subflow', async () => {
    const r = await baton(['run', fixture('subflow-parent'), '--flows', FIXTURE_FLOWS, '--json']);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout).execution;
    expect(e.taskRunList.find((t: { taskId: string }) => t.taskId === 'use').outputs.value).toBe('hello from subflow-parent');
  });

  it('--namespace-files serves read() and namespaceFiles', async () => {
    const files = await mkdtemp(join(tmpdir(), 'baton-cli-ns-'));
    await mkdir(join(files, 'sql'));
    await mkdir(join(files, 'scripts'));
    await writeFile(join(files, 'sql', 'query.sql'), 'SELECT 42;\n');
    await writeFile(join(files, 'scripts', 'hello.sh'), 'echo hi from ns\n');
    const r = await baton(['run', fixture('namespace-files'), '--namespace-files', files, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.execution.taskRunList[0].outputs.value).toBe('SELECT 42;');
    expect(doc.logs.some((l: { message: string }) => l.message === 'hi from ns')).toBe(true);
  });
});
