import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../db/index.ts';
import { createEngine, StaticFlowSource, type Engine, type Execution, type LogEntry } from '../../engine/index.ts';
import { formatProblem, validateFlowSource } from '../../engine/flow/index.ts';
import type { FlowDef } from '../../engine/flow/types.ts';
import type { NamespaceFiles } from '../../engine/namespace-files/types.ts';

export const FIXTURE_FLOWS = join(import.meta.dirname, '..', 'fixtures', 'flows');

/** Parses and validates flow YAML written in a test; throws naming every problem. */
export function parseFlow(source: string, file = 'test.yaml'): FlowDef {
  const { flow, problems } = validateFlowSource(source, file);
  const errors = problems.filter((p) => p.severity === 'error');
  if (!flow || errors.length) throw new Error(`${file} is invalid:\n${errors.map(formatProblem).join('\n')}`);
  return flow;
}

/** Parses and validates a fixture flow by name (`test/fixtures/flows/<name>.yaml`); throws on any problem. */
export async function loadFixture(name: string): Promise<FlowDef> {
  const file = join(FIXTURE_FLOWS, `${name}.yaml`);
  return parseFlow(await readFile(file, 'utf8'), file);
}

/** Every fixture flow, so Subflow can call any of them. */
export async function allFixtures(): Promise<StaticFlowSource> {
  const names = (await readdir(FIXTURE_FLOWS)).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
  return new StaticFlowSource(await Promise.all(names.map(loadFixture)));
}

export interface FixtureRun {
  execution: Execution;
  logs: LogEntry[];
  engine: Engine;
}

/** An engine on `db` with a fresh data dir, every fixture callable as a subflow. */
export async function fixtureEngine(db: Db, options: { env?: Record<string, string | undefined>; namespaceFiles?: NamespaceFiles } = {}): Promise<Engine> {
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-test-'));
  return createEngine({ db, dataDir, flows: await allFixtures(), env: options.env ?? {}, namespaceFiles: options.namespaceFiles });
}

/** Runs fixture `name` to its end and returns the execution with every log line it wrote. */
export async function runFixture(
  engine: Engine,
  name: string,
  inputs: Record<string, unknown> = {},
): Promise<FixtureRun> {
  const flow = await loadFixture(name);
  const logs: LogEntry[] = [];
  const stop = engine.onLog((l) => logs.push(l));
  try {
    const execution = await engine.execute({ flow, inputs });
    await engine.idle();
    return { execution, logs, engine };
  } finally {
    stop();
  }
}

/** The task runs of `taskId`, in creation order. */
export function runsOf(execution: Execution, taskId: string) {
  return execution.taskRunList.filter((t) => t.taskId === taskId);
}

/** The single task run of `taskId`; throws when there is none or several. */
export function runOf(execution: Execution, taskId: string) {
  const runs = runsOf(execution, taskId);
  if (runs.length !== 1) throw new Error(`expected one task run of ${taskId}, found ${runs.length}`);
  return runs[0];
}
