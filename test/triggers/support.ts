/**
 * What the trigger suites share: flows made live the way a Git sync makes them (`applyCommit`), an
 * engine and a scheduler on one database, and a clock the test moves by hand.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import { executions, triggers, type Database, type Db } from '../../db/index.ts';
import { createEngine, ExecutionRepository, Scheduler, type Engine, type Execution, type SchedulerOptions } from '../../engine/index.ts';
import { formatProblem, validateFlowSource } from '../../engine/flow/index.ts';
import type { Hono } from 'hono';
import { createApp } from '../../server/index.ts';
import { applyCommit } from '../../sync/apply.ts';
import { createSyncer, FlowStore, syncConfigFromEnv } from '../../sync/index.ts';

/** A clock that only moves when told to. */
export class ManualClock {
  private time: number;

  constructor(start: string) {
    this.time = Date.parse(start);
  }

  readonly now = (): Date => new Date(this.time);

  set(iso: string): void {
    this.time = Date.parse(iso);
  }

  advance(ms: number): void {
    this.time += ms;
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** Makes flows live as successive commits would: each commit holds every published flow. */
export class FlowPublisher {
  private readonly published = new Map<string, string>();
  private commits = 0;

  constructor(private readonly db: Db) {}

  async publish(...sources: string[]): Promise<void> {
    for (const source of sources) {
      const { flow, problems } = validateFlowSource(source);
      const errors = problems.filter((p) => p.severity === 'error');
      if (!flow || errors.length) throw new Error(`invalid test flow:\n${errors.map(formatProblem).join('\n')}`);
      this.published.set(`${flow.namespace}/${flow.id}`, source);
    }
    await this.commit();
  }

  /** Exactly these flows are live afterwards (the others are deleted, as a commit without them would). */
  async only(...sources: string[]): Promise<void> {
    this.published.clear();
    await this.publish(...sources);
  }

  async unpublish(namespace: string, id: string): Promise<void> {
    this.published.delete(`${namespace}/${id}`);
    await this.commit();
  }

  /** The sha of the last commit. */
  get sha(): string {
    return this.commits.toString(16).padStart(40, '0');
  }

  private async commit(): Promise<void> {
    this.commits++;
    await applyCommit(this.db, {
      commit: { sha: this.sha, author: 'Test', email: 'test@example.com', message: `commit ${this.commits}`, date: new Date().toISOString() },
      flows: [...this.published.entries()].map(([key, source]) => ({ path: `flows/${key}.yaml`, source, definition: validateFlowSource(source).flow! })),
      files: [],
      repository: 'test',
      branch: 'main',
      reason: 'test',
      startedAt: new Date(),
    });
  }
}

/** An engine over synced flows, as `baton server` builds it. */
export async function flowEngine(db: Db, env: Record<string, string> = {}, listen?: Database['listen']): Promise<Engine> {
  const flows = new FlowStore(db);
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-triggers-'));
  return createEngine({ db, listen, dataDir, flows: flows.flowSource(), namespaceFiles: flows.namespaceFiles(), env });
}

/** A scheduler on `database` with its own engine (as another process would have) and the test's clock. */
export async function testScheduler(
  database: Database,
  clock: ManualClock,
  options: Partial<SchedulerOptions> = {},
): Promise<{ scheduler: Scheduler; engine: Engine; logs: string[] }> {
  const engine = options.engine ?? (await flowEngine(database.db));
  const store = new FlowStore(database.db);
  const logs: string[] = [];
  const scheduler = new Scheduler({
    database,
    engine,
    flows: { latestRevisions: () => store.latestRevisions(), ...store.flowSource() },
    now: clock.now,
    defaultTimeZone: 'UTC',
    log: (level, message) => logs.push(`${level}: ${message}`),
    ...options,
  });
  return { scheduler, engine, logs };
}

/** Ticks, then waits for the executions the tick started. */
export async function tickAndSettle(scheduler: Scheduler): Promise<void> {
  await scheduler.tick();
  await scheduler.idle();
}

/** Executions of a flow, oldest first (by creation), as stored. */
export async function executionsOf(db: Db, flowId: string): Promise<Execution[]> {
  const rows = await db.select({ id: executions.id }).from(executions).where(eq(executions.flowId, flowId)).orderBy(asc(executions.createdAt), asc(executions.startDate));
  const repository = new ExecutionRepository(db);
  const found = await Promise.all(rows.map((r) => repository.findExecution(r.id)));
  return found.filter((e): e is Execution => e !== undefined);
}

/** The `trigger.date` of each execution, oldest first. */
export async function firedDates(db: Db, flowId: string): Promise<string[]> {
  return (await executionsOf(db, flowId)).map((e) => String(e.trigger?.date));
}

/** The stored state of one trigger. */
export async function triggerRow(db: Db, flowId: string, triggerId: string) {
  const [row] = await db.select().from(triggers).where(and(eq(triggers.flowId, flowId), eq(triggers.triggerId, triggerId)));
  return row;
}

/** A flow with one Schedule trigger (`trigger` is YAML indented under the trigger's list item). */
export function scheduledFlow(id: string, trigger: string, options: { namespace?: string; tasks?: string; extra?: string } = {}): string {
  return [
    `id: ${id}`,
    `namespace: ${options.namespace ?? 'tests.triggers'}`,
    ...(options.extra ? [options.extra] : []),
    'tasks:',
    options.tasks ?? '  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: "{{ trigger.date }}"',
    'triggers:',
    '  - id: schedule',
    '    type: io.kestra.plugin.core.trigger.Schedule',
    ...trigger.split('\n').map((line) => `    ${line}`),
    '',
  ].join('\n');
}

export const API_TOKEN = 'trigger-tests-token';

/**
 * The whole HTTP app over `engine`'s database, behind API_TOKEN (or open to all with `open`, as on loopback). Its syncer is never started: flows
 * are published with FlowPublisher.
 */
export async function testApp(db: Db, engine: Engine, options: { open?: boolean } = {}): Promise<Hono> {
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-triggers-app-'));
  const env = { BATON_GIT_URL: 'http://127.0.0.1:9/never-fetched.git', BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0' };
  const config = syncConfigFromEnv(env);
  const syncer = await createSyncer({ db, config, dataDir, env });
  return createApp({ db, engine, flows: new FlowStore(db), syncer, sync: config, branch: 'main', repository: 'test', apiToken: options.open ? undefined : API_TOKEN });
}

/** A JSON request with the API token. */
export function apiRequest(method: string, body?: unknown): RequestInit {
  return {
    method,
    headers: { authorization: `Bearer ${API_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}
