import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../db/index.ts';
import { createEngine, type Engine } from '../engine/index.ts';
import type { FlowDef } from '../engine/flow/types.ts';
import { median, printBench } from './report.ts';

const TASKS = 40;
const ROUNDS = 15;
/** Steady state is what a running server sees: JIT, template cache and query plans warmed first. */
const WARMUP = 3;

function flowOf(task: (i: number) => Record<string, unknown>): FlowDef {
  return {
    id: 'bench',
    namespace: 'baton.bench',
    tasks: Array.from({ length: TASKS }, (_, i) => ({ id: `t${i}`, ...task(i) })) as FlowDef['tasks'],
  };
}

async function timeExecution(engine: Engine, flow: FlowDef): Promise<number> {
  const started = performance.now();
  const execution = await engine.execute({ flow });
  const elapsed = performance.now() - started;
  if (execution.state.current !== 'SUCCESS') throw new Error(`bench flow ended ${execution.state.current}`);
  return elapsed;
}

function spawnTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'true'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sh exited ${code}`))));
  });
}

/** 40 sequential Return tasks, and 40 shell tasks against 40 bare `sh -c true` spawns. */
export async function run(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-bench-'));
  const database = await openDatabase({ dataDir: join(dataDir, 'db') });
  try {
    const engine = createEngine({ db: database.db, dataDir, env: {} });

    const returns = flowOf((i) => ({ type: 'io.kestra.plugin.core.debug.Return', format: `{{ task.id }}-${i}` }));
    for (let w = 0; w < WARMUP; w++) await timeExecution(engine, returns);
    const returnTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) returnTimes.push(await timeExecution(engine, returns));
    const perTask = median(returnTimes) / TASKS;
    printBench({ name: 'return_task_ms', ours: perTask, baseline: 87, unit: 'ms/task', goal: '<=2', goalMet: perTask <= 2 });

    const shell = flowOf(() => ({
      type: 'io.kestra.plugin.scripts.shell.Commands',
      taskRunner: { type: 'io.kestra.plugin.core.runner.Process' },
      commands: ['true'],
    }));
    for (let w = 0; w < WARMUP; w++) await timeExecution(engine, shell);
    const shellTimes: number[] = [];
    const bareTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      shellTimes.push(await timeExecution(engine, shell));
      const started = performance.now();
      for (let i = 0; i < TASKS; i++) await spawnTrue();
      bareTimes.push(performance.now() - started);
    }
    const ours = median(shellTimes);
    const bare = median(bareTimes);
    printBench({ name: 'shell_tasks_vs_bare_spawn', ours, baseline: bare, unit: 'ms/40tasks', goal: 'ratio<=1.5', goalMet: ours / bare <= 1.5 });
  } finally {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
