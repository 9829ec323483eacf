import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { executions, openDatabase, type Db } from '../db/index.ts';
import { createEngine, newState, transition, type LogEntry, type LogLevel, type StateType, type TaskRun } from '../engine/index.ts';
import { createApp } from '../server/index.ts';
import { createSyncer, FlowStore, syncConfigFromEnv } from '../sync/index.ts';
import { median, printBench } from './report.ts';

const EXECUTIONS = 10_000;
const LOG_LINES = 100_000;
const WARMUP = 10;
const ROUNDS = 20;
/**
 * Kestra's anchor: the execution page froze the browser for about a second on executions with many
 * log lines (kestra-io/kestra#2189, "UI freeze with large logs"). We take 1000 ms as the baseline.
 */
const KESTRA_FREEZE_MS = 1000;
const GOAL_MS = 50;

const STATES: StateType[] = ['SUCCESS', 'SUCCESS', 'SUCCESS', 'FAILED', 'WARNING', 'KILLED', 'RUNNING'];
const LEVELS: LogLevel[] = ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR'];

/** 10k executions over 20 namespaces and a year of start dates, most terminal, some running. */
async function seedExecutions(db: Db): Promise<void> {
  const base = Date.UTC(2024, 0, 1);
  const rows: (typeof executions.$inferInsert)[] = [];
  for (let i = 0; i < EXECUTIONS; i++) {
    const start = new Date(base + i * 3_137_000);
    const current = STATES[i % STATES.length];
    let state = transition(newState('CREATED', start), 'RUNNING', 'bench', start);
    if (current !== 'RUNNING') state = transition(state, current, 'bench', new Date(start.getTime() + 1000 + (i % 97) * 100));
    rows.push({
      id: `bench-${String(i).padStart(5, '0')}`,
      namespace: `bench.team${i % 20}`,
      flowId: `flow-${i % 50}`,
      flowRevision: 1 + (i % 3),
      state: current,
      stateDetail: state,
      startDate: state.startDate,
      endDate: state.endDate ?? null,
      inputs: { n: i },
      labels: [{ key: 'env', value: i % 2 ? 'prod' : 'dev' }],
    });
    if (rows.length === 1000) await db.insert(executions).values(rows.splice(0));
  }
}

/** One execution with a few task runs (two retried) and 100k log lines. */
async function seedLoggedExecution(app: { engine: ReturnType<typeof createEngine> }, id: string): Promise<void> {
  const repository = app.engine.resources.repository;
  const start = new Date(Date.UTC(2025, 0, 1));
  let state = transition(newState('CREATED', start), 'RUNNING', 'bench', start);
  state = transition(state, 'SUCCESS', 'bench', new Date(start.getTime() + 600_000));
  const taskRunList: TaskRun[] = Array.from({ length: 6 }, (_, t) => {
    const from = new Date(start.getTime() + t * 100_000);
    const to = new Date(from.getTime() + 90_000);
    const tries = t % 3 === 0 ? 2 : 1;
    const attempts = Array.from({ length: tries }, (_, a) => {
      const aFrom = new Date(from.getTime() + a * 45_000);
      return { state: transition(newState('RUNNING', aFrom), a < tries - 1 ? 'FAILED' : 'SUCCESS', 'bench', new Date(aFrom.getTime() + 40_000)) };
    });
    return {
      id: `bench-run-${t}`, executionId: id, namespace: 'bench.logs', flowId: 'noisy', taskId: `step-${t}`, parentTaskRunId: null,
      value: null, iteration: null, state: transition(transition(newState('CREATED', from), 'RUNNING', 'bench', from), 'SUCCESS', 'bench', to),
      attempts, outputs: { rows: t * 1000, uri: `kestra:///bench/logs/noisy/executions/${id}/tasks/step-${t}/bench-run-${t}/out.csv` },
    };
  });
  await repository.saveExecution({
    id, namespace: 'bench.logs', flowId: 'noisy', flowRevision: 1, state, inputs: { size: 'large' }, outputs: null, labels: [],
    variables: null, trigger: null, taskRunList: [], originalId: null, parentExecutionId: null, parentTaskRunId: null, commitSha: null, attemptNumber: 1,
  });
  await repository.saveTaskRuns(taskRunList.map((taskRun, seq) => ({ taskRun, seq })));
  const batch: LogEntry[] = [];
  for (let i = 0; i < LOG_LINES; i++) {
    const t = Math.floor((i / LOG_LINES) * 6);
    batch.push({
      executionId: id, taskRunId: `bench-run-${t}`, taskId: `step-${t}`, attemptNumber: 1,
      timestamp: new Date(start.getTime() + i * 6).toISOString(), level: LEVELS[i % LEVELS.length],
      message: `row ${i} processed: ${'x'.repeat(i % 80)}`,
    });
    if (batch.length === 5000) await repository.appendLogs(batch.splice(0));
  }
}

async function timeRequests(app: Hono, path: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const started = performance.now();
    const res = await app.request(path);
    const body = await res.text();
    const elapsed = performance.now() - started;
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${body.slice(0, 200)}`);
    if (i >= WARMUP) samples.push(elapsed);
  }
  return median(samples);
}

/**
 * Server-side render time of the dashboard where Kestra's UI struggles: the executions list with
 * 10k executions in the database and an execution page whose execution has 100k log lines
 * (PGlite on disk, `app.request()`, p50 of 20 requests after warm-up).
 */
export async function run(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-bench-ui-'));
  const database = await openDatabase({ dataDir: join(dataDir, 'db') });
  try {
    const db = database.db;
    const flows = new FlowStore(db);
    const engine = createEngine({ db, dataDir, flows: flows.flowSource(), namespaceFiles: flows.namespaceFiles(), env: {} });
    // The syncer is never started: the pages only need it to exist.
    const env = { BATON_GIT_URL: join(dataDir, 'no-repo'), BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0' };
    const config = syncConfigFromEnv(env);
    const syncer = await createSyncer({ db, config, dataDir, env });
    const app = createApp({ db, engine, flows, syncer, sync: config, branch: 'main', repository: 'bench' });

    await seedExecutions(db);
    await seedLoggedExecution({ engine }, 'bench-logs');

    const list = await timeRequests(app, '/ui/executions');
    printBench({ name: 'ui_executions_list_ms', ours: list, baseline: KESTRA_FREEZE_MS, unit: 'ms(p50)', goal: `<=${GOAL_MS}`, goalMet: list <= GOAL_MS });
    const pageMs = await timeRequests(app, '/ui/executions/bench-logs');
    printBench({ name: 'ui_execution_page_100k_logs_ms', ours: pageMs, baseline: KESTRA_FREEZE_MS, unit: 'ms(p50)', goal: `<=${GOAL_MS}`, goalMet: pageMs <= GOAL_MS });
  } finally {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
