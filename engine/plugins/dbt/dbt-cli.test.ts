/**
 * DbtCLI on the Process runner. dbt itself cannot be installed on this machine (no PyPI, not in
 * Debian), so these tests put a STAND-IN `dbt` on the task's PATH: dbt-stand-in/dbt, a small Node
 * script that takes dbt's flags, prints dbt's JSON log events, writes a run_results.json and a
 * manifest.json shaped like dbt 1.8's and exits 0, 1 or 2 as dbt does. It runs no SQL. What is tested
 * here is Baton's side: command lines, profiles, log relaying, artifacts, outputs and states.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTempDirTaskContext, type TempDirTaskContext } from '../../scripts/temp-dir-task-context.ts';
import { PROCESS_RUNNER_TYPE } from '../../runners/index.ts';
import { TaskFailure } from '../types.ts';
import { dbtCli, dbtCommandLine } from './dbt-cli.ts';
import { parseDbtLogLine } from './dbt-log-relay.ts';
import { nodeLogLines, nodeMetrics, nodeState, parseRunResults } from './run-results.ts';

/** Folder holding the stand-in `dbt` executable. */
const DBT_STAND_IN_DIR = join(import.meta.dirname, 'dbt-stand-in');

const PROFILES = `zoomcamp:
  outputs:
    dev:
      type: duckdb
      path: ":memory:"
  target: dev
`;

const PROJECT: Record<string, string> = {
  'dbt_project.yml': "name: 'zoomcamp'\nprofile: 'zoomcamp'\nversion: '1.0.0'\n",
  'models/staging/stg_trips.sql': 'select 1 as id\n',
  'models/core/fact_trips.sql': "select * from {{ ref('stg_trips') }}\n",
  'seeds/zones.csv': 'id,zone\n1,Newark\n2,Jamaica Bay\n',
  'tests/positive_ids.sql': 'select * from fact_trips where id < 0\n',
};

const open: Array<TempDirTaskContext<unknown>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.cleanup()));
});

interface RunOptions {
  files?: Record<string, string>;
  variables?: Record<string, unknown>;
}

async function prepare(props: Record<string, unknown>, options: RunOptions = {}) {
  const t = await createTempDirTaskContext<any>(
    {
      taskRunner: { type: PROCESS_RUNNER_TYPE },
      env: { PATH: `${DBT_STAND_IN_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}` },
      ...props,
    },
    { variables: options.variables },
  );
  open.push(t);
  const workingDir = await t.ctx.workingDirectory();
  for (const [path, content] of Object.entries(options.files ?? {})) {
    await mkdir(dirname(join(workingDir, path)), { recursive: true });
    await writeFile(join(workingDir, path), content);
  }
  return { t, workingDir };
}

async function runDbt(props: Record<string, unknown>, options: RunOptions = {}) {
  const { t, workingDir } = await prepare(props, options);
  const result = (await dbtCli.run(t.ctx))!;
  return { result, t, workingDir, outputs: result.outputs as { exitCode: number; vars: object; outputFiles: Record<string, string> } };
}

async function failDbt(props: Record<string, unknown>, options: RunOptions = {}) {
  const { t, workingDir } = await prepare(props, options);
  const error = await dbtCli.run(t.ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TaskFailure);
  return { error: error as TaskFailure, t, workingDir };
}

const messages = (t: TempDirTaskContext<unknown>, level?: string) => t.logs.filter((l) => !level || l.level === level).map((l) => l.message);

describe('dbtCommandLine', () => {
  it('adds the flags Kestra adds, once, to dbt commands only', () => {
    expect(dbtCommandLine('dbt build', { logFormat: 'JSON' })).toBe('dbt build --log-format json --log-path logs');
    expect(dbtCommandLine('dbt run --target prod', { projectDir: 'dbt', logFormat: 'JSON' })).toBe('dbt run --target prod --project-dir dbt --log-format json --log-path logs');
    expect(dbtCommandLine('dbt test --project-dir x --log-format text --log-path l', { projectDir: 'dbt', logFormat: 'JSON' })).toBe('dbt test --project-dir x --log-format text --log-path l');
    expect(dbtCommandLine('dbt deps', { logFormat: 'NONE' })).toBe('dbt deps --log-path logs');
    expect(dbtCommandLine('pip install dbt-duckdb', { projectDir: 'dbt', logFormat: 'JSON' })).toBe('pip install dbt-duckdb');
  });
});

describe('dbt log events', () => {
  it('formats dbt ≥ 1.5 events with their level, and keeps the run stats', () => {
    const line = JSON.stringify({
      info: { category: '', code: 'Q012', extra: {}, invocation_id: 'i', level: 'warn', msg: '1 of 1 WARN test t', name: 'LogTestResult', pid: 1, thread: 'Thread-1', ts: '2024-01-01T00:00:00Z' },
      data: { stats: { pass: 1, warn: 1, error: 0, skip: 0, total: 2 } },
    });
    expect(parseDbtLogLine(line)).toEqual({
      level: 'WARN',
      message: '[Date: 2024-01-01T00:00:00Z] [Thread: Thread-1] [Type: LogTestResult] 1 of 1 WARN test t',
      stats: { pass: 1, warn: 1, error: 0, skip: 0, total: 2 },
    });
  });

  it('reads the older flat events and leaves anything else alone', () => {
    const legacy = JSON.stringify({ level: 'error', msg: 'boom', ts: 't', thread_name: 'MainThread', type: 'log_line' });
    expect(parseDbtLogLine(legacy)).toMatchObject({ level: 'ERROR', message: '[Date: t] [Thread: MainThread] [Type: log_line] boom' });
    expect(parseDbtLogLine('12:00:00  Running with dbt=1.8.0')).toBeUndefined();
    expect(parseDbtLogLine('{"outputs": {}}')).toBeUndefined();
    expect(parseDbtLogLine('{ not json')).toBeUndefined();
  });
});

describe('run_results.json', () => {
  it('maps statuses and builds one summary line per node, as Kestra', () => {
    expect(['success', 'pass', 'warn', 'error', 'fail', 'runtime_error', 'skipped', 'other'].map(nodeState)).toEqual([
      'SUCCESS', 'SUCCESS', 'WARNING', 'FAILED', 'FAILED', 'FAILED', 'SKIPPED', undefined,
    ]);
    expect(nodeLogLines({ unique_id: 'model.p.a', status: 'success', execution_time: 0.123, message: 'OK' })).toEqual([
      { level: 'INFO', message: 'model.p.a => success in 0.12s' },
      { level: 'INFO', message: 'OK' },
    ]);
    expect(nodeLogLines({ unique_id: 'test.p.t', status: 'fail', failures: 1, message: null })).toEqual([{ level: 'ERROR', message: 'test.p.t => fail (1 failure)' }]);
    expect(nodeMetrics([{ unique_id: 'model.p.a', status: 'success', adapter_response: { rows_affected: 3, bytes_processed: null } }])).toEqual([
      { name: 'rows.affected', type: 'counter', value: 3, tags: { unique_id: 'model.p.a' } },
    ]);
    expect(parseRunResults('{"results": [{"status": "success"}]}')).toEqual({ ok: false, reason: 'results[0] has no unique_id or status' });
  });
});

describe('DbtCLI with the Process runner and the stand-in dbt', () => {
  it('runs dbt build: profiles.yml written, JSON logs relayed, one line per node, artifacts stored', async () => {
    const { result, t, workingDir, outputs } = await runDbt({ commands: ['dbt build'], profiles: PROFILES }, { files: PROJECT });
    expect(result.state).toBe('SUCCESS');
    expect(outputs.exitCode).toBe(0);
    expect(await readFile(join(workingDir, 'profiles.yml'), 'utf8')).toBe(PROFILES);

    const info = messages(t, 'INFO');
    expect(info.some((m) => /^\[Date: \S+\] \[Thread: MainThread\] \[Type: MainReportVersion\] Running with dbt=1\.8\.0/.test(m))).toBe(true);
    expect(info).toContain('model.zoomcamp.stg_trips => success in 0.01s');
    expect(info).toContain('model.zoomcamp.fact_trips => success in 0.01s');
    expect(info).toContain('seed.zoomcamp.zones => success in 0.01s');
    expect(info).toContain('test.zoomcamp.positive_ids => pass in 0.01s');
    // Nothing of dbt's raw JSON reaches the task logs.
    expect(messages(t).some((m) => m.startsWith('{'))).toBe(false);

    expect(Object.keys(outputs.outputFiles).sort()).toEqual(['manifest.json', 'run_results.json']);
    const stored = JSON.parse(await readFile(t.storagePath(outputs.outputFiles['run_results.json']), 'utf8'));
    expect(stored.results.map((r: { unique_id: string }) => r.unique_id)).toContain('model.zoomcamp.fact_trips');
    expect(stored.args.invocation_command).toBe('dbt build --log-format json --log-path logs');
    const manifest = JSON.parse(await readFile(t.storagePath(outputs.outputFiles['manifest.json']), 'utf8'));
    expect(Object.keys(manifest.nodes)).toContain('model.zoomcamp.stg_trips');
    expect((result as { metrics: Array<{ name: string; value: unknown }> }).metrics).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'rows.affected', value: 3 }), { name: 'total', type: 'counter', value: 4 }]),
    );
  });

  it('renders commands before adding flags, and finds a project in projectDir', async () => {
    const files = Object.fromEntries(Object.entries(PROJECT).map(([path, content]) => [`dbt/${path}`, content]));
    const { result, outputs, t } = await runDbt(
      { commands: ['{{ inputs.dbt_command }}'], profiles: PROFILES, projectDir: 'dbt' },
      { files, variables: { inputs: { dbt_command: 'dbt run' } } },
    );
    expect(result.state).toBe('SUCCESS');
    const stored = JSON.parse(await readFile(t.storagePath(outputs.outputFiles['run_results.json']), 'utf8'));
    expect(stored.args.invocation_command).toBe('dbt run --project-dir dbt --log-format json --log-path logs');
    expect(stored.results).toHaveLength(2);
  });

  it('takes the project from inputFiles and runs several commands in order', async () => {
    // inputFiles are templates (as in Kestra): dbt's own Jinja must sit in a raw block there.
    const inputFiles = { ...PROJECT, 'models/core/fact_trips.sql': "select * from {% raw %}{{ ref('stg_trips') }}{% endraw %}\n" };
    const { result, t, workingDir } = await runDbt({ commands: ['dbt deps', 'dbt seed', 'dbt run'], profiles: PROFILES, inputFiles });
    expect(result.state).toBe('SUCCESS');
    const log = messages(t).join('\n');
    expect(log.indexOf('No packages were found')).toBeLessThan(log.indexOf('OK seed zones'));
    expect(log.indexOf('OK seed zones')).toBeLessThan(log.indexOf('OK model fact_trips'));
    // run_results.json is the last command's, as with dbt.
    expect(messages(t, 'INFO')).toContain('model.zoomcamp.fact_trips => success in 0.01s');
    expect(await readFile(join(workingDir, 'models/core/fact_trips.sql'), 'utf8')).toBe("select * from {{ ref('stg_trips') }}\n");
  });

  it('a dbt warning ends the task in WARNING', async () => {
    const files = { ...PROJECT, 'tests/positive_ids.sql': '-- stand-in: warn\nselect 1\n' };
    const { result, t } = await runDbt({ commands: ['dbt test'], profiles: PROFILES }, { files });
    expect(result.state).toBe('WARNING');
    expect(messages(t, 'WARN')).toContain('test.zoomcamp.positive_ids => warn in 0.01s (1 failure)');
  });

  it('a failing model fails the task with dbt exit code, results logged and stored all the same', async () => {
    const files = { ...PROJECT, 'models/core/fact_trips.sql': '-- stand-in: error\nselect broken\n' };
    const { error, t } = await failDbt({ commands: ['dbt build'], profiles: PROFILES }, { files });
    expect(error.message).toBe('Command failed with exit code 1');
    const outputs = error.outputs as { exitCode: number; outputFiles: Record<string, string> };
    expect(outputs.exitCode).toBe(1);
    expect(Object.keys(outputs.outputFiles).sort()).toEqual(['manifest.json', 'run_results.json']);
    const errors = messages(t, 'ERROR');
    expect(errors).toContain('model.zoomcamp.fact_trips => error in 0.01s');
    expect(errors.some((m) => m.startsWith('Runtime Error in model fact_trips'))).toBe(true);
    expect(messages(t, 'INFO')).toContain('model.zoomcamp.stg_trips => success in 0.01s');
  });

  it('without profiles dbt stops early: FAILED, no run results, the manifest warning as Kestra', async () => {
    const { error, t } = await failDbt({ commands: ['dbt run'] }, { files: PROJECT });
    expect(error.message).toBe('Command failed with exit code 2');
    expect(messages(t, 'ERROR').some((m) => m.includes("Could not find profile named 'zoomcamp'"))).toBe(true);
    expect(messages(t, 'WARN').some((m) => m.startsWith('dbt manifest not found at'))).toBe(true);
    expect((error.outputs as { outputFiles: object }).outputFiles).toEqual({});
  });

  it('parseRunResults: false keeps the manifest but not the run results', async () => {
    const { outputs, t } = await runDbt({ commands: ['dbt run'], profiles: PROFILES, parseRunResults: false }, { files: PROJECT });
    expect(Object.keys(outputs.outputFiles)).toEqual(['manifest.json']);
    expect(messages(t).some((m) => m.includes('=> success'))).toBe(false);
  });

  it('logFormat NONE passes dbt text lines through', async () => {
    const { t } = await runDbt({ commands: ['dbt run'], profiles: PROFILES, logFormat: 'NONE' }, { files: PROJECT });
    expect(messages(t, 'INFO').some((m) => /^\d\d:\d\d:\d\d {2}Running with dbt=1\.8\.0/.test(m))).toBe(true);
  });

  it('storeManifest puts the manifest in the KV store; loadManifest writes it back before dbt runs', async () => {
    const first = await runDbt({ commands: ['dbt compile'], profiles: PROFILES, storeManifest: { key: 'manifest.json', namespace: 'zoomcamp' } }, { files: PROJECT });
    const entry = await first.t.ctx.kv.get('zoomcamp', 'manifest.json');
    expect(Object.keys((entry?.value as { nodes: object }).nodes)).toContain('model.zoomcamp.fact_trips');

    const { t, workingDir } = await prepare({ commands: ['echo loaded'], loadManifest: { key: 'manifest.json', namespace: 'zoomcamp' } });
    await t.ctx.kv.set('zoomcamp', 'manifest.json', { nodes: { 'model.x.y': {} } });
    await dbtCli.run(t.ctx);
    expect(JSON.parse(await readFile(join(workingDir, 'target/manifest.json'), 'utf8'))).toEqual({ nodes: { 'model.x.y': {} } });

    const { t: empty } = await prepare({ commands: ['echo none'], loadManifest: { key: 'absent', namespace: 'zoomcamp' } });
    await dbtCli.run(empty.ctx);
    expect(messages(empty, 'WARN')).toContain('Property `loadManifest` has been used but no manifest has been found in the KV Store.');
  });

  it('refuses a projectDir outside the working directory', async () => {
    const { error } = await failDbt({ commands: ['dbt run'], projectDir: '../elsewhere' });
    expect(error.message).toMatch(/^projectDir: /);
  });
});
