import { describe, expect, it } from 'vitest';
import type { FlowDef } from '../flow/types.ts';
import { newState, transition, type StateType } from '../state.ts';
import { TaskRunNotFoundError } from './errors.ts';
import type { TaskRun } from './model.ts';
import { planReplay, planRestart, treeOrder } from './rerun-plan.ts';

const RETURN = 'io.kestra.plugin.core.debug.Return';
const FAIL = 'io.kestra.plugin.core.execution.Fail';

/** A task run that went CREATED → RUNNING → `state` (or stayed RUNNING), with one attempt. */
function run(id: string, taskId: string, state: StateType, parent: string | null = null, value: string | null = null): TaskRun {
  let s = transition(newState('CREATED'), 'RUNNING', id);
  if (state !== 'RUNNING') s = transition(s, state, id);
  return {
    id, executionId: 'e1', namespace: 'ns', flowId: 'f', taskId, parentTaskRunId: parent, value, iteration: null,
    state: s, attempts: [{ state: s }], outputs: { value: id },
  };
}

const flow = (def: Omit<FlowDef, 'id' | 'namespace'>): FlowDef => ({ id: 'f', namespace: 'ns', ...def }) as FlowDef;

const summary = (runs: TaskRun[]) => runs.map((r) => `${r.id}:${r.state.current}`);

describe('treeOrder', () => {
  it('puts every parent before its children, siblings in creation order, whatever the list order', () => {
    const runs = [run('a', 'a', 'SUCCESS'), run('p', 'p', 'SUCCESS'), run('p1', 'p1', 'SUCCESS', 'p'), run('b', 'b', 'SUCCESS'), run('p2', 'p2', 'SUCCESS', 'p'), run('p1x', 'x', 'SUCCESS', 'p1')];
    expect(treeOrder(runs).map((r) => r.id)).toEqual(['a', 'p', 'p1', 'p1x', 'p2', 'b']);
  });
});

describe('planRestart', () => {
  const parallelFlow = flow({
    tasks: [
      { id: 'a', type: RETURN, format: 'a' },
      { id: 'par', type: 'io.kestra.plugin.core.flow.Parallel', tasks: [{ id: 'p1', type: RETURN }, { id: 'p2', type: FAIL }] },
      { id: 'b', type: RETURN },
    ],
    errors: [{ id: 'h', type: 'io.kestra.plugin.core.flow.Sequential', tasks: [{ id: 'h_inner', type: RETURN }] }],
    finally: [{ id: 'fin', type: RETURN }],
    afterExecution: [{ id: 'after', type: RETURN }],
  });

  it('resets failed task runs and their parents, keeps successful ones, drops error, finally and afterExecution runs', () => {
    const runs = [
      run('a', 'a', 'SUCCESS'), run('par', 'par', 'FAILED'), run('p1', 'p1', 'SUCCESS', 'par'), run('p2', 'p2', 'FAILED', 'par'),
      run('h', 'h', 'SUCCESS'), run('hi', 'h_inner', 'SUCCESS', 'h'), run('fin', 'fin', 'SUCCESS'), run('aft', 'after', 'SUCCESS'),
    ];
    const plan = planRestart(parallelFlow, runs);
    expect(summary(plan.taskRuns)).toEqual(['a:SUCCESS', 'par:RESTARTED', 'p1:SUCCESS', 'p2:RESTARTED']);
    expect(plan.removedIds).toEqual(['h', 'hi', 'fin', 'aft']);
    // Kept ones are the very same objects; reset ones keep id, history and attempts, lose outputs.
    expect(plan.taskRuns[0]).toBe(runs[0]);
    const p2 = plan.taskRuns[3];
    expect(p2.id).toBe('p2');
    expect(p2.outputs).toBeNull();
    expect(p2.attempts).toEqual(runs[3].attempts);
    expect(p2.state.histories.map((h) => h.state)).toEqual(['CREATED', 'RUNNING', 'FAILED', 'RESTARTED']);
    expect(p2.state.endDate).toBeUndefined();
    // The input is not modified.
    expect(runs[3].state.current).toBe('FAILED');
  });

  it('a KILLED task run is reset too; one left RUNNING by a crash is killed first', () => {
    const runs = [run('a', 'a', 'KILLED'), run('par', 'par', 'RUNNING'), run('p1', 'p1', 'RUNNING', 'par')];
    const plan = planRestart(parallelFlow, runs);
    expect(summary(plan.taskRuns)).toEqual(['a:RESTARTED', 'par:RESTARTED', 'p1:RESTARTED']);
    expect(plan.taskRuns[2].state.histories.map((h) => h.state)).toEqual(['CREATED', 'RUNNING', 'KILLED', 'RESTARTED']);
  });

  it('drops a flowable\'s own errors branch', () => {
    const def = flow({
      tasks: [{ id: 'seq', type: 'io.kestra.plugin.core.flow.Sequential', tasks: [{ id: 's1', type: FAIL }], errors: [{ id: 'local', type: RETURN }] }],
    });
    const plan = planRestart(def, [run('seq', 'seq', 'FAILED'), run('s1', 's1', 'FAILED', 'seq'), run('local', 'local', 'SUCCESS', 'seq')]);
    expect(summary(plan.taskRuns)).toEqual(['seq:RESTARTED', 's1:RESTARTED']);
    expect(plan.removedIds).toEqual(['local']);
  });

  it('a WorkingDirectory that runs again runs all its children again (their shared directory is gone)', () => {
    const def = flow({
      tasks: [{ id: 'wd', type: 'io.kestra.plugin.core.flow.WorkingDirectory', tasks: [{ id: 'w1', type: RETURN }, { id: 'w2', type: FAIL }] }],
    });
    const plan = planRestart(def, [run('wd', 'wd', 'FAILED'), run('w1', 'w1', 'SUCCESS', 'wd'), run('w2', 'w2', 'FAILED', 'wd')]);
    expect(summary(plan.taskRuns)).toEqual(['wd:RESTARTED']);
    expect(plan.removedIds).toEqual(['w1', 'w2']);
  });
});

describe('planReplay', () => {
  const loopFlow = flow({
    tasks: [
      { id: 'first', type: RETURN },
      { id: 'each', type: 'io.kestra.plugin.core.flow.ForEach', values: ['x', 'y'], tasks: [{ id: 't1', type: RETURN }, { id: 't2', type: RETURN }] },
      { id: 'last', type: RETURN },
    ],
  });
  const runs = [
    run('first', 'first', 'SUCCESS'),
    run('each', 'each', 'SUCCESS'),
    run('t1x', 't1', 'SUCCESS', 'each', 'x'), run('t2x', 't2', 'SUCCESS', 'each', 'x'),
    run('t1y', 't1', 'SUCCESS', 'each', 'y'), run('t2y', 't2', 'SUCCESS', 'each', 'y'),
    run('last', 'last', 'SUCCESS'),
  ];

  it('copies what comes before the task run, resets it and its ancestors, drops what follows; new ids, same tree', () => {
    const copies = planReplay(loopFlow, { id: 'e1', taskRunList: runs }, 't1y', 'e2');
    expect(copies.map((c) => [c.taskId, c.value, c.state.current])).toEqual([
      ['first', null, 'SUCCESS'],
      ['each', null, 'RESTARTED'],
      ['t1', 'x', 'SUCCESS'],
      ['t2', 'x', 'SUCCESS'],
      ['t1', 'y', 'RESTARTED'],
    ]);
    expect(copies.every((c) => c.executionId === 'e2' && !runs.some((r) => r.id === c.id))).toBe(true);
    expect(new Set(copies.map((c) => c.id)).size).toBe(5);
    const each = copies[1];
    expect(copies.slice(2).every((c) => c.parentTaskRunId === each.id)).toBe(true);
    expect(copies[0].outputs).toEqual({ value: 'first' });
    expect(copies[1].outputs).toBeNull();
    // The originals are untouched.
    expect(runs[1].state.current).toBe('SUCCESS');
    expect(runs[0].id).toBe('first');
  });

  it('from a flowable: its children run again', () => {
    const copies = planReplay(loopFlow, { id: 'e1', taskRunList: runs }, 'each', 'e2');
    expect(copies.map((c) => [c.taskId, c.state.current])).toEqual([['first', 'SUCCESS'], ['each', 'RESTARTED']]);
  });

  it('refuses a task run the execution does not have', () => {
    expect(() => planReplay(loopFlow, { id: 'e1', taskRunList: runs }, 'nope', 'e2')).toThrow(TaskRunNotFoundError);
  });
});
