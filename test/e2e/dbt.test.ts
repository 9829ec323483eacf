/**
 * flows/03_postgres_dbt.yaml (the seed's Part 11) end to end: WorkingDirectory → git.Clone of a dbt
 * project from the real local git server → DbtCLI on the Process runner.
 *
 * Two substitutions, both outside the flow's own behaviour:
 * - github.com is unreachable here, so the clone URL (the seed's placeholder
 *   `https://github.com/your-repo/dbt-project`) is pointed at a repository on the local git server;
 * - dbt cannot be installed here (no PyPI, not in Debian), so a STAND-IN `dbt`
 *   (engine/plugins/dbt/dbt-stand-in/) is put first on PATH and the Process runner is forced. The
 *   stand-in takes dbt's flags, reads the project and profiles.yml, prints dbt's JSON log events and
 *   writes run_results.json/manifest.json shaped like dbt 1.8's; it runs no SQL.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngine, type Engine, type Execution, type LogEntry } from '../../engine/index.ts';
import { formatProblem, validateFlowSource } from '../../engine/flow/index.ts';
import type { FlowDef } from '../../engine/flow/types.ts';
import { DEFAULT_RUNNER_VARIABLE, PROCESS_RUNNER_TYPE } from '../../engine/runners/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createRepo, gitService, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const FLOW_FILE = join(REPO_ROOT, 'flows', '03_postgres_dbt.yaml');
const DBT_STAND_IN_DIR = join(REPO_ROOT, 'engine', 'plugins', 'dbt', 'dbt-stand-in');
const SEED_PROJECT_URL = 'https://github.com/your-repo/dbt-project';

/** A small dbt project as the course builds it: staging and core models, a seed, a data test, its own profiles.yml. */
const DBT_PROJECT: Record<string, string> = {
  'dbt_project.yml': "name: 'taxi_rides_ny'\nversion: '1.0.0'\nprofile: 'taxi_rides_ny'\nmodel-paths: ['models']\n",
  'profiles.yml': 'taxi_rides_ny:\n  outputs:\n    dev:\n      type: duckdb\n      path: taxi.duckdb\n  target: dev\n',
  'seeds/taxi_zone_lookup.csv': 'locationid,borough,zone,service_zone\n1,EWR,Newark Airport,EWR\n2,Queens,Jamaica Bay,Boro Zone\n',
  'models/staging/stg_green_tripdata.sql': "select * from {{ source('staging', 'green_tripdata') }}\n",
  'models/staging/stg_yellow_tripdata.sql': "select * from {{ source('staging', 'yellow_tripdata') }}\n",
  'models/core/fact_trips.sql': "select * from {{ ref('stg_green_tripdata') }} union all select * from {{ ref('stg_yellow_tripdata') }}\n",
  'tests/assert_positive_fare.sql': 'select * from {{ ref("fact_trips") }} where fare_amount < 0\n',
};

gitService.describe('e2e: 03_postgres_dbt', () => {
  describeEachDatabase('03_postgres_dbt with a stand-in dbt', (openDb) => {
    let server: GitServer;
    let repo: TestRepo;
    let engine: Engine;
    let dataDir: string;
    let flow: FlowDef;
    const saved = { path: process.env.PATH, runner: process.env[DEFAULT_RUNNER_VARIABLE] };

    beforeAll(async () => {
      server = await startGitServer();
      repo = await createRepo(server, 'dbt-project', DBT_PROJECT);
      const source = await readFile(FLOW_FILE, 'utf8');
      expect(source).toContain(`url: ${SEED_PROJECT_URL}\n`);
      const { flow: parsed, problems } = validateFlowSource(source.replace(SEED_PROJECT_URL, repo.url), FLOW_FILE);
      expect(problems.map(formatProblem)).toEqual([]);
      flow = parsed!;

      process.env.PATH = `${DBT_STAND_IN_DIR}:${saved.path ?? '/usr/bin:/bin'}`;
      process.env[DEFAULT_RUNNER_VARIABLE] = PROCESS_RUNNER_TYPE;
      const { db } = await openDb();
      dataDir = await mkdtemp(join(tmpdir(), 'baton-e2e-dbt-'));
      engine = createEngine({ db, dataDir, env: {} });
    });
    afterAll(async () => {
      process.env.PATH = saved.path;
      if (saved.runner === undefined) delete process.env[DEFAULT_RUNNER_VARIABLE];
      else process.env[DEFAULT_RUNNER_VARIABLE] = saved.runner;
      await server?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    async function run(inputs: Record<string, unknown>): Promise<{ execution: Execution; logs: LogEntry[] }> {
      const logs: LogEntry[] = [];
      const stop = engine.onLog((l) => logs.push(l));
      try {
        const execution = await engine.execute({ flow, inputs });
        await engine.idle();
        return { execution, logs };
      } finally {
        stop();
      }
    }
    const runOf = (execution: Execution, taskId: string) => execution.taskRunList.find((t) => t.taskId === taskId)!;
    const messagesOf = (logs: LogEntry[], taskId: string) => logs.filter((l) => l.taskId === taskId).map((l) => `${l.level} ${l.message}`);

    it('dbt build (the default input): clones, builds every node, stores run_results.json and manifest.json', async () => {
      const { execution, logs } = await run({});
      expect(execution.state.current).toBe('SUCCESS');
      expect(execution.inputs).toEqual({ dbt_command: 'dbt build' });
      expect(runOf(execution, 'git_clone').outputs?.directory).toEqual(expect.any(String));

      const dbt = runOf(execution, 'dbt_run');
      expect(dbt.state.current).toBe('SUCCESS');
      expect(dbt.outputs).toMatchObject({
        exitCode: 0,
        vars: {},
        outputFiles: { 'run_results.json': expect.stringMatching(/^kestra:\/\/\/zoomcamp\/03-postgres-dbt\/executions\/.*\/run_results\.json$/), 'manifest.json': expect.any(String) },
      });
      const lines = messagesOf(logs, 'dbt_run');
      for (const node of ['seed.taxi_rides_ny.taxi_zone_lookup', 'model.taxi_rides_ny.stg_green_tripdata', 'model.taxi_rides_ny.fact_trips', 'test.taxi_rides_ny.assert_positive_fare']) {
        expect(lines.some((l) => l.startsWith(`INFO ${node} => `))).toBe(true);
      }
      expect(lines.some((l) => l.includes('[Type: StatsLine] Done. PASS=5 WARN=0 ERROR=0 SKIP=0 TOTAL=5'))).toBe(true);
    });

    it('dbt test: only the tests run', async () => {
      const { execution, logs } = await run({ dbt_command: 'dbt test' });
      expect(execution.state.current).toBe('SUCCESS');
      const nodeLines = messagesOf(logs, 'dbt_run').filter((l) => l.includes(' => '));
      expect(nodeLines).toEqual(['INFO test.taxi_rides_ny.assert_positive_fare => pass in 0.01s']);
    });

    it('a failing model fails dbt_run and the execution, with the model named in the logs', async () => {
      await repo.commit({ 'models/core/fact_trips.sql': '-- stand-in: error\nselect broken\n' }, 'break fact_trips');
      const { execution, logs } = await run({ dbt_command: 'dbt run' });
      expect(execution.state.current).toBe('FAILED');
      const dbt = runOf(execution, 'dbt_run');
      expect(dbt.state.current).toBe('FAILED');
      expect(dbt.outputs).toMatchObject({ exitCode: 1, outputFiles: { 'run_results.json': expect.any(String) } });
      expect(messagesOf(logs, 'dbt_run')).toContain('ERROR model.taxi_rides_ny.fact_trips => error in 0.01s');
    });
  });
});
