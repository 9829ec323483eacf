import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { fixtureEngine, runFixture, runOf, runsOf } from '../support/fixtures.ts';

const DB_PASSWORD = 's3cr3t-passw0rd';

describeEachDatabase('engine fixtures', (open) => {
  let engine: Engine;
  beforeAll(async () => {
    const { db } = await open();
    engine = await fixtureEngine(db, { env: { SECRET_DB_PASSWORD: Buffer.from(DB_PASSWORD).toString('base64'), KESTRA_STAGE: 'ci' } });
  });

  it('log-return: logs, Return and chained outputs', async () => {
    const { execution, logs } = await runFixture(engine, 'log-return');
    expect(execution.state.current).toBe('SUCCESS');
    expect(logs.find((l) => l.taskId === 'hello')?.message).toBe('Hello from log-return in baton.tests');
    expect(runOf(execution, 'ret').outputs).toEqual({ value: 'ret > true' });
    expect(runOf(execution, 'chained').outputs).toEqual({ value: 'got ret > true' });
    const hello = logs.find((l) => l.taskId === 'hello')!;
    expect(hello).toMatchObject({ executionId: execution.id, taskRunId: runOf(execution, 'hello').id, attemptNumber: 1, level: 'INFO' });
    expect(execution.state.histories.map((h) => h.state)).toEqual(['CREATED', 'RUNNING', 'SUCCESS']);
  });

  it('inputs-typed: defaults typed as Kestra', async () => {
    const { execution } = await runFixture(engine, 'inputs-typed');
    expect(execution.state.current).toBe('SUCCESS');
    expect(execution.inputs).toMatchObject({ taxi: 'yellow', year: 2020, ratio: 0.5, flag: false, columns_to_keep: ['brand', 'price'], optional: null });
    expect(runOf(execution, 'show').outputs?.value).toBe('yellow-2021-false-["brand","price"]-2019/03-none');
  });

  it('inputs-typed: submitted strings are coerced', async () => {
    const { execution } = await runFixture(engine, 'inputs-typed', { taxi: 'green', year: '2019', flag: 'true', optional: 'x' });
    expect(runOf(execution, 'show').outputs?.value).toBe('green-2020-true-["brand","price"]-2019/03-x');
  });

  it('inputs-typed: bad values are refused before anything runs, naming every input', async () => {
    await expect(runFixture(engine, 'inputs-typed', { taxi: 'purple', year: 'abc' })).rejects.toMatchObject({
      problems: expect.arrayContaining([
        expect.objectContaining({ inputId: 'taxi' }),
        expect.objectContaining({ inputId: 'year' }),
      ]),
    });
  });

  it('variables-render: vars stay raw, render() renders recursively', async () => {
    const { execution } = await runFixture(engine, 'variables-render');
    expect(runOf(execution, 'raw').outputs?.value).toBe('{{ inputs.taxi }}_tripdata_{{ inputs.year }}-{{ inputs.month }}.csv');
    expect(runOf(execution, 'rendered').outputs?.value).toBe('green_tripdata_2019-3.csv');
    // render() repeats until stable; renderOnce() stops after one pass.
    expect(runOf(execution, 'recursive').outputs?.value).toBe('green_tripdata_2019-3.csv into public.green_tripdata');
    expect(runOf(execution, 'once').outputs?.value).toBe('green_tripdata_2019-3.csv into public.{{ inputs.taxi }}_tripdata');
  });

  it('output-values: values keep their types', async () => {
    const { execution } = await runFixture(engine, 'output-values');
    expect(runOf(execution, 'values').outputs).toEqual({ values: { greeting: 'hello output-values', count: 3, list: ['a', 'b'] } });
    expect(runOf(execution, 'read').outputs?.value).toBe('hello output-values/3');
  });

  it('errors-flow: failure stops the list, flow errors run, state stays FAILED', async () => {
    const { execution, logs } = await runFixture(engine, 'errors-flow');
    expect(execution.state.current).toBe('FAILED');
    expect(runOf(execution, 'boom').state.current).toBe('FAILED');
    expect(runsOf(execution, 'never')).toHaveLength(0);
    expect(runOf(execution, 'handler').state.current).toBe('SUCCESS');
    expect(logs.some((l) => l.taskId === 'boom' && l.level === 'ERROR' && l.message === 'boom in boom')).toBe(true);
  });

  it('allow-failure: the failed task turns WARNING and the flow goes on', async () => {
    const { execution } = await runFixture(engine, 'allow-failure');
    expect(runOf(execution, 'tolerated').state.current).toBe('WARNING');
    expect(runOf(execution, 'after').state.current).toBe('SUCCESS');
    expect(execution.state.current).toBe('WARNING');
  });

  it('allow-warning: WARNING becomes SUCCESS', async () => {
    const { execution } = await runFixture(engine, 'allow-warning');
    expect(execution.state.current).toBe('SUCCESS');
  });

  it('run-if-disabled: runIf false → SKIPPED, disabled → no task run', async () => {
    const { execution } = await runFixture(engine, 'run-if-disabled');
    expect(runOf(execution, 'skipped').state.current).toBe('SKIPPED');
    expect(runsOf(execution, 'off')).toHaveLength(0);
    expect(runOf(execution, 'ran').state.current).toBe('SUCCESS');
    expect(execution.state.current).toBe('SUCCESS');
  });

  it('retry-constant: fails twice then succeeds on attempt 3', async () => {
    const { execution } = await runFixture(engine, 'retry-constant');
    const run = runOf(execution, 'flaky');
    expect(run.attempts.map((a) => a.state.current)).toEqual(['FAILED', 'FAILED', 'SUCCESS']);
    expect(run.state.current).toBe('SUCCESS');
    expect(run.state.histories.map((h) => h.state)).toEqual(['CREATED', 'RUNNING', 'RETRYING', 'RUNNING', 'RETRYING', 'RUNNING', 'SUCCESS']);
  });

  it('retry-warning: warningOnRetry turns a retried success into WARNING', async () => {
    const { execution } = await runFixture(engine, 'retry-warning');
    expect(runOf(execution, 'flaky').attempts).toHaveLength(2);
    expect(execution.state.current).toBe('WARNING');
  });

  it('retry-exhausted: maxAttempt counts every attempt', async () => {
    const { execution } = await runFixture(engine, 'retry-exhausted');
    expect(runOf(execution, 'always').attempts).toHaveLength(3);
    expect(execution.state.current).toBe('FAILED');
  });

  it('timeout: the attempt is stopped and fails', async () => {
    const started = Date.now();
    const { execution, logs } = await runFixture(engine, 'timeout');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(execution.state.current).toBe('FAILED');
    expect(logs.some((l) => l.taskId === 'slow' && /timed out after PT0.2S/.test(l.message))).toBe(true);
  });

  it('parallel: children run, later tasks see their outputs', async () => {
    const { execution } = await runFixture(engine, 'parallel');
    expect(execution.state.current).toBe('SUCCESS');
    const [a, b] = [runOf(execution, 'a'), runOf(execution, 'b')];
    // a and b overlap: concurrent: 2.
    expect(Date.parse(a.state.startDate)).toBeLessThan(Date.parse(b.state.endDate!));
    expect(Date.parse(b.state.startDate)).toBeLessThan(Date.parse(a.state.endDate!));
    expect(runOf(execution, 'fan').state.current).toBe('SUCCESS');
    expect(runOf(execution, 'a').parentTaskRunId).toBe(runOf(execution, 'fan').id);
    expect(runOf(execution, 'after').outputs?.value).toBe('c');
  });

  it('if-switch: branches, case and defaults', async () => {
    const { execution } = await runFixture(engine, 'if-switch');
    expect(runOf(execution, 'check').outputs).toEqual({ evaluationResult: true });
    expect(runsOf(execution, 'else_task')).toHaveLength(0);
    expect(runOf(execution, 'then_task').state.current).toBe('SUCCESS');
    expect(runOf(execution, 'route').outputs).toEqual({ value: 'green', defaults: false });
    expect(runsOf(execution, 'yellow_task')).toHaveLength(0);
    expect(runOf(execution, 'green_task').outputs?.value).toBe('green');
    expect(runOf(execution, 'fallback').outputs).toEqual({ value: 'purple', defaults: true });
    expect(runOf(execution, 'fallback_task').state.current).toBe('SUCCESS');
  });

  it('for-each: values de-duplicated, outputs nested by value, nested loops', async () => {
    const { execution } = await runFixture(engine, 'for-each');
    expect(execution.state.current).toBe('SUCCESS');
    expect(runsOf(execution, 'item').map((t) => t.value).sort()).toEqual(['green', 'yellow', '{"k":1}'].sort());
    const green = runsOf(execution, 'echo').find((t) => t.value === 'green')!;
    expect(green.outputs?.value).toBe('item green!');
    expect(runOf(execution, 'pick').outputs?.value).toBe('item green');
    expect(runsOf(execution, 'cell').map((t) => t.outputs?.value).sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(runOf(execution, 'grid').outputs?.value).toBe('b2');
  });

  it('subflow-parent: waits for the child and reads its typed outputs', async () => {
    const { execution } = await runFixture(engine, 'subflow-parent');
    expect(execution.state.current).toBe('SUCCESS');
    const call = runOf(execution, 'call');
    expect(call.outputs).toMatchObject({ state: 'SUCCESS', outputs: { greeting: 'hello from subflow-parent' } });
    expect(runOf(execution, 'use').outputs?.value).toBe('hello from subflow-parent');
  });

  it('subflow-failing: a failed child fails the Subflow task (transmitFailed)', async () => {
    const { execution } = await runFixture(engine, 'subflow-failing');
    expect(execution.state.current).toBe('FAILED');
    expect(runOf(execution, 'call').outputs).toMatchObject({ state: 'FAILED' });
  });

  it('finally: runs after a failure and sees task states', async () => {
    const { execution } = await runFixture(engine, 'finally');
    expect(execution.state.current).toBe('FAILED');
    expect(runOf(execution, 'cleanup').outputs?.value).toBe('cleaned after FAILED');
  });

  it('flowable-errors: local errors run, the flowable stays FAILED', async () => {
    const { execution } = await runFixture(engine, 'flowable-errors');
    expect(runOf(execution, 'group').state.current).toBe('FAILED');
    expect(runOf(execution, 'local_handler').parentTaskRunId).toBe(runOf(execution, 'group').id);
    expect(execution.state.current).toBe('FAILED');
  });

  it('plugin-defaults: prefix match fills, forced overrides', async () => {
    const { execution } = await runFixture(engine, 'plugin-defaults');
    expect(runOf(execution, 'uses_default').outputs?.value).toBe('from defaults');
    expect(runOf(execution, 'overrides').outputs?.value).toBe('mine');
    expect(runOf(execution, 'forced').outputs).toEqual({ values: { a: 'forced' } });
  });

  it('kv: Set, Get, kv() and Delete', async () => {
    const { execution } = await runFixture(engine, 'kv');
    expect(execution.state.current).toBe('SUCCESS');
    expect(runOf(execution, 'get').outputs).toEqual({ value: 'zoomcamp-kv' });
    expect(runOf(execution, 'fn').outputs?.value).toBe('zoomcamp-kv/43/none');
    expect(runOf(execution, 'delete').outputs).toEqual({ deleted: true });
    expect(runOf(execution, 'after_delete').outputs).toEqual({ value: null });
  });

  it('secret: values from SECRET_ env are masked in logs and outputs', async () => {
    const { execution, logs } = await runFixture(engine, 'secret');
    expect(execution.state.current).toBe('SUCCESS');
    const line = logs.find((l) => l.taskId === 'leak')!;
    expect(line.message).toBe('the password is ******');
    expect(JSON.stringify(execution)).not.toContain(DB_PASSWORD);
    expect(JSON.stringify(logs)).not.toContain(DB_PASSWORD);
  });

  it('flow-outputs: typed from flow outputs', async () => {
    const { execution } = await runFixture(engine, 'flow-outputs');
    expect(execution.outputs).toEqual({ answer: 42, text: '41' });
  });

  it('labels: flow labels in execution and templates', async () => {
    const { execution } = await runFixture(engine, 'labels');
    expect(execution.labels).toEqual(expect.arrayContaining([{ key: 'team', value: 'data' }, { key: 'env', value: 'test' }]));
    expect(runOf(execution, 'show').outputs?.value).toBe('data-test');
  });

  it('envs-taskrun: KESTRA_ env vars, taskrun.value/iteration, parents; Subflow without wait', async () => {
    const { execution } = await runFixture(engine, 'envs-taskrun');
    expect(execution.state.current).toBe('SUCCESS');
    expect(runOf(execution, 'env').outputs?.value).toBe('ci');
    expect(runsOf(execution, 'info').map((t) => t.outputs?.value)).toEqual(['x:0:none:true', 'y:1:none:true']);
    const child = runOf(execution, 'fire_and_forget').outputs as { executionId: string; state?: string };
    expect(child.state).toBeUndefined();
    const stored = await engine.resources.repository.findExecution(child.executionId);
    expect(stored?.state.current).toBe('SUCCESS');
    expect(stored?.parentExecutionId).toBe(execution.id);
  });

  it('executions are stored: the repository returns the same execution', async () => {
    const { execution } = await runFixture(engine, 'log-return');
    const stored = await engine.resources.repository.findExecution(execution.id);
    expect(stored?.state.current).toBe('SUCCESS');
    expect(stored?.taskRunList.map((t) => t.taskId)).toEqual(['hello', 'ret', 'chained']);
    const logs = await engine.resources.repository.findLogs(execution.id);
    expect(logs.map((l) => l.message)).toContain('Hello from log-return in baton.tests');
  });
});

describe('fixture loading', () => {
  it('an unknown fixture name fails loudly', async () => {
    const { loadFixture } = await import('../support/fixtures.ts');
    await expect(loadFixture('does-not-exist')).rejects.toThrow(/does-not-exist/);
  });
});
