import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../db/index.ts';
import { createEngine, type Engine } from '../engine/index.ts';
import { SecretMasker } from '../engine/secrets/index.ts';
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

/**
 * Masking one log line, as the log path does for every line: 200k typical lines against 50 secrets
 * (each masked in ~15 spellings: base64 at 3 offsets, hex, URL encoding, JSON escapes), against the
 * same lines with one secret. Issue #12 finding 5 multiplied the spellings; the line cost must stay small.
 */
function maskLineMicros(secrets: number): number {
  const masker = new SecretMasker();
  for (let i = 0; i < secrets; i++) masker.add(randomBytes(18).toString('base64'));
  const lines = Array.from({ length: 200_000 }, (_, i) => `2026-01-01T00:00:00Z line ${i}: processed ${i % 100} rows from table_${i % 7} in ${i % 13} ms, status=ok`);
  const round = () => {
    const started = performance.now();
    let chars = 0;
    for (const line of lines) chars += masker.mask(line).length;
    if (chars === 0) throw new Error('nothing masked');
    return ((performance.now() - started) * 1000) / lines.length;
  };
  for (let w = 0; w < WARMUP; w++) round();
  return median(Array.from({ length: 5 }, round));
}

/** 40 sequential Return tasks, and 40 shell tasks against 40 bare `sh -c true` spawns. */
export async function run(): Promise<void> {
  const many = maskLineMicros(50);
  const one = maskLineMicros(1);
  printBench({ name: 'mask_line_us', ours: many, baseline: one, unit: 'us/line', goal: '<=5', goalMet: many <= 5 });

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
