/**
 * Issue #12, finding 3: a big ForEach is stored, or fails at once naming the limit it exceeds. Task
 * runs are written in statements of bounded size (PostgreSQL and PGlite refuse a statement of more
 * than 65,535 parameters: ~5,000 task runs in one INSERT), the walk gives the event loop back, and
 * the per-execution limits (ForEach items, task runs, output bytes) fail the task that exceeds them.
 * On both databases, through the real engine.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Limits } from '../../config/index.ts';
import type { Database } from '../../db/index.ts';
import { createEngine, type Engine, type Execution } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { parseFlow } from '../support/fixtures.ts';

/** Minutes, not the default seconds: ten thousand task runs on a shared two-core machine. */
const LONG = 180_000;

const forEach = (id: string, values: string, concurrencyLimit = 1) =>
  parseFlow(`id: ${id}
namespace: hardening.foreach
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "${values}"
    concurrencyLimit: ${concurrencyLimit}
    tasks:
      - id: item
        type: io.kestra.plugin.core.debug.Return
        format: "item {{ taskrun.value }}"
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.item['10'].value }}"
`);

async function errorsOf(engine: Engine, execution: Execution): Promise<string[]> {
  return (await engine.resources.repository.findLogs(execution.id, { minLevel: 'ERROR' })).map((l) => l.message);
}

describeEachDatabase('big ForEach and the limits of one execution', (open) => {
  let database: Database;
  const engineWith = async (limits: Partial<Limits> = {}) =>
    createEngine({ db: database.db, dataDir: await mkdtemp(join(tmpdir(), 'baton-foreach-')), env: {}, limits: { ...DEFAULT_LIMITS, ...limits } });

  beforeAll(async () => {
    database = await open();
  });

  it('a ForEach over 100,000 values fails at once naming BATON_LIMIT_FOREACH_ITEMS; no child runs', async () => {
    const engine = await engineWith();
    const execution = await engine.execute({ flow: forEach('huge', '{{ range(1, 100000) }}') });
    expect(execution.state.current).toBe('FAILED');
    const stored = (await engine.resources.repository.findExecution(execution.id))!;
    expect(stored.state.current).toBe('FAILED');
    expect(stored.taskRunList.map((t) => [t.taskId, t.state.current])).toEqual([['each', 'FAILED']]);
    expect(await errorsOf(engine, execution)).toEqual([
      `ForEach 'values' has 100000 items: exceeds the limit of ${DEFAULT_LIMITS.forEachItems} (raise it with BATON_LIMIT_FOREACH_ITEMS)`,
    ]);
  }, LONG);

  it('a ForEach over 10,000 values runs and is stored whole (more than 65,535 parameters in all)', async () => {
    const engine = await engineWith();
    const execution = await engine.execute({ flow: forEach('ten_thousand', '{{ range(1, 10000) }}') });
    expect(await errorsOf(engine, execution)).toEqual([]);
    expect(execution.state.current).toBe('SUCCESS');
    const stored = (await engine.resources.repository.findExecution(execution.id))!;
    expect(stored.state.current).toBe('SUCCESS');
    const items = stored.taskRunList.filter((t) => t.taskId === 'item');
    expect(items).toHaveLength(10_000);
    expect(items.every((t) => t.state.current === 'SUCCESS')).toBe(true);
    expect(items.at(-1)?.outputs).toEqual({ value: 'item 10000' });
    expect(stored.taskRunList.find((t) => t.taskId === 'after')?.outputs).toEqual({ value: 'item 10' });
  }, LONG);

  it('all at once (concurrencyLimit 0), 6,000 values run and are stored, the event loop kept turning', async () => {
    const engine = await engineWith();
    // Timers keep firing while it runs: the walk never holds the event loop for the whole run.
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 50);
    const started = Date.now();
    const execution = await engine.execute({ flow: forEach('parallel', '{{ range(1, 6000) }}', 0) });
    clearInterval(ticking);
    expect(execution.state.current).toBe('SUCCESS');
    const stored = (await engine.resources.repository.findExecution(execution.id))!;
    expect(stored.taskRunList.filter((t) => t.taskId === 'item' && t.state.current === 'SUCCESS')).toHaveLength(6_000);
    // A loose bound (a loaded machine delays timers); a walk that never yields lets none fire.
    expect(ticks).toBeGreaterThan((Date.now() - started) / 50 / 10);
  }, LONG);

  it('task runs past BATON_LIMIT_EXECUTION_TASK_RUNS fail the ForEach naming the limit', async () => {
    const engine = await engineWith({ executionTaskRuns: 50 });
    const execution = await engine.execute({ flow: forEach('many_runs', '{{ range(1, 100) }}') });
    expect(execution.state.current).toBe('FAILED');
    const stored = (await engine.resources.repository.findExecution(execution.id))!;
    expect(stored.taskRunList).toHaveLength(50);
    expect(stored.taskRunList.find((t) => t.taskId === 'each')?.state.current).toBe('FAILED');
    expect(stored.taskRunList.some((t) => t.taskId === 'after')).toBe(false);
    const errors = await errorsOf(engine, execution);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^task 'item' cannot start: execution \w+ holds 50 task runs: exceeds the limit of 50 \(raise it with BATON_LIMIT_EXECUTION_TASK_RUNS\)$/);
  }, LONG);

  it('outputs past BATON_LIMIT_TASK_OUTPUT_BYTES fail their task naming the limit, and are not stored', async () => {
    const engine = await engineWith({ taskOutputBytes: 1_000 });
    const flow = parseFlow(`id: big_output
namespace: hardening.foreach
tasks:
  - id: small
    type: io.kestra.plugin.core.debug.Return
    format: "{{ range(1, 50) | join(',') }}"
  - id: big
    type: io.kestra.plugin.core.debug.Return
    format: "{{ range(1, 500) | join(',') }}"
`);
    const execution = await engine.execute({ flow });
    expect(execution.state.current).toBe('FAILED');
    const stored = (await engine.resources.repository.findExecution(execution.id))!;
    expect(stored.taskRunList.map((t) => [t.taskId, t.state.current])).toEqual([['small', 'SUCCESS'], ['big', 'FAILED']]);
    expect(stored.taskRunList[1].outputs).toBeNull();
    const errors = await errorsOf(engine, execution);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^the outputs of task 'big' \(task run \w+\) are 1\d{3} bytes as JSON: exceeds the limit of 1000 bytes \(raise it with BATON_LIMIT_TASK_OUTPUT_BYTES\)$/);
  }, LONG);
});
