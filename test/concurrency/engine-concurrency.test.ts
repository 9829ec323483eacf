/**
 * Flow `concurrency` through the engine, on both databases: never more RUNNING than the limit,
 * QUEUE keeps the order of arrival and shows QUEUED, CANCEL and FAIL end at once and say why,
 * a kill while queued frees the place, subflows count like any other execution.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { createEngine, StaticFlowSource, type Engine, type Execution, type LogEntry } from '../../engine/index.ts';
import type { FlowDef } from '../../engine/flow/types.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { waitFor } from '../support/wait-for.ts';
import { maxOverlap, runningInterval } from '../support/intervals.ts';
import { parseFlow } from '../support/fixtures.ts';
import type { Database } from '../../db/index.ts';

const flow = (source: string): FlowDef => parseFlow(source);

const limited = (behavior: string, limit = 1, id = `limited_${behavior.toLowerCase()}`, sleep = 'PT0.15S') =>
  flow(`
id: ${id}
namespace: test.concurrency
concurrency:
  limit: ${limit}
  behavior: ${behavior}
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Sleep
    duration: ${sleep}
  - id: done
    type: io.kestra.plugin.core.debug.Return
    format: "{{ execution.id }}"
`);

describeEachDatabase('flow concurrency', (open) => {
  let database: Database;
  let engine: Engine;
  const parent = flow(`
id: parent
namespace: test.concurrency
tasks:
  - id: children
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: a
        type: io.kestra.plugin.core.flow.Subflow
        namespace: test.concurrency
        flowId: limited_queue
      - id: b
        type: io.kestra.plugin.core.flow.Subflow
        namespace: test.concurrency
        flowId: limited_queue
      - id: c
        type: io.kestra.plugin.core.flow.Subflow
        namespace: test.concurrency
        flowId: limited_queue
`);

  beforeAll(async () => {
    database = await open();
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-concurrency-'));
    engine = createEngine({ db: database.db, dataDir, env: {}, flows: new StaticFlowSource([limited('QUEUE'), parent]) });
  });

  async function startMany(def: FlowDef, n: number): Promise<Execution[]> {
    // Created one after another (the order of arrival), then all started at once.
    const runs = [];
    for (let i = 0; i < n; i++) runs.push(await engine.create({ flow: def }));
    return Promise.all(runs.map((run) => engine.run(run)));
  }

  it('QUEUE: never more RUNNING than the limit', async () => {
    const def = limited('QUEUE', 1, 'queue_one');
    const ends = await startMany(def, 5);
    expect(ends.map((e) => e.state.current)).toEqual(Array(5).fill('SUCCESS'));
    expect(maxOverlap(ends.map(runningInterval))).toBe(1);
  });

  it('QUEUE keeps the order of arrival', async () => {
    const def = limited('QUEUE', 1, 'queue_order');
    const done: Promise<Execution>[] = [];
    for (let i = 0; i < 5; i++) {
      const run = await engine.create({ flow: def });
      done.push(engine.run(run));
      // The next one arrives once this one is in (running or queued).
      await waitFor(async () => (run.execution.state.current === 'CREATED' ? undefined : true), 'admission');
    }
    const ends = await Promise.all(done);
    const byStart = [...ends].sort((a, b) => runningInterval(a)[0] - runningInterval(b)[0]).map((e) => e.id);
    expect(byStart).toEqual(ends.map((e) => e.id));
    // All but the first waited as QUEUED, and the database says so too.
    const queued = ends.filter((e) => e.state.histories.some((h) => h.state === 'QUEUED'));
    expect(queued.length).toBe(4);
    const stored = await engine.findExecution(ends[4].id);
    expect(stored?.state.histories.map((h) => h.state)).toEqual(['CREATED', 'QUEUED', 'RUNNING', 'SUCCESS']);
    expect(await engine.resources.concurrency.slotsOf('test.concurrency', 'queue_order')).toEqual([]);
  });

  it('QUEUE with limit 2 runs two at a time', async () => {
    const ends = await startMany(limited('QUEUE', 2, 'queue_two'), 6);
    expect(ends.every((e) => e.state.current === 'SUCCESS')).toBe(true);
    expect(maxOverlap(ends.map(runningInterval))).toBe(2);
  });

  it('CANCEL and FAIL end at once, without running a task, and log why', async () => {
    for (const [behavior, state, level] of [['CANCEL', 'CANCELLED', 'WARN'], ['FAIL', 'FAILED', 'ERROR']] as const) {
      const logs: LogEntry[] = [];
      const stop = engine.onLog((l) => logs.push(l));
      const ends = await startMany(limited(behavior), 3);
      stop();
      expect(ends.map((e) => e.state.current).sort()).toEqual(['SUCCESS', state, state].sort());
      const refused = ends.filter((e) => e.state.current === state);
      for (const e of refused) {
        expect(e.taskRunList).toEqual([]);
        const line = logs.find((l) => l.executionId === e.id);
        expect(line?.level).toBe(level);
        expect(line?.message).toContain(`flow concurrency limit reached (1 of 1 running), behavior ${behavior}`);
      }
    }
  });

  it('a kill while queued ends it KILLED without running, and the queue moves on', async () => {
    const def = limited('QUEUE', 1, 'queue_kill', 'PT1S');
    const runs = [await engine.create({ flow: def }), await engine.create({ flow: def }), await engine.create({ flow: def })];
    // In order: the first runs, the two others queue behind it.
    const done: Promise<Execution>[] = [];
    for (const run of runs) {
      done.push(engine.run(run));
      await waitFor(async () => (run.execution.state.current === 'CREATED' ? undefined : true), 'admission');
    }
    await waitFor(async () => ((await engine.findExecution(runs[1].execution.id))?.state.current === 'QUEUED' ? true : undefined), 'the second execution queued');
    await engine.requestKill(runs[1].execution.id);
    const [first, second, third] = await Promise.all(done);
    expect(first.state.current).toBe('SUCCESS');
    expect(second.state.current).toBe('KILLED');
    expect(second.taskRunList.filter((t) => t.state.current !== 'KILLED')).toEqual([]);
    expect(second.state.histories.some((h) => h.state === 'RUNNING')).toBe(false);
    expect(third.state.current).toBe('SUCCESS');
  });

  it('subflows count against the limit like any execution', async () => {
    const end = await engine.execute({ flow: parent });
    await engine.idle();
    expect(end.state.current).toBe('SUCCESS');
    const children = await Promise.all(end.taskRunList.filter((t) => t.taskId !== 'children').map((t) => engine.findExecution(String(t.outputs?.executionId))));
    expect(children.length).toBe(3);
    expect(maxOverlap(children.map((c) => runningInterval(c!)))).toBe(1);
  });
});
