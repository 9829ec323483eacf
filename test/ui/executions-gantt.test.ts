import { describe, expect, it } from 'vitest';
import { newState, transition, type Execution, type StateType, type TaskRun } from '../../engine/index.ts';
import { buildGantt, formatDuration, treeOrder } from '../../server/ui/gantt.ts';

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
const at = (ms: number) => new Date(T0 + ms);

/** A state that went through `steps` ([state, ms after T0]), the first one being its start. */
function stateOf(steps: [StateType, number][]) {
  let state = newState(steps[0][0], at(steps[0][1]));
  for (const [s, ms] of steps.slice(1)) state = transition(state, s, 'test', at(ms));
  return state;
}

function taskRun(id: string, parent: string | null, steps: [StateType, number][], attempts: [StateType, number][][] = []): TaskRun {
  return {
    id, executionId: 'e', namespace: 'n', flowId: 'f', taskId: id, parentTaskRunId: parent, value: null, iteration: null,
    state: stateOf(steps), attempts: attempts.map((a) => ({ state: stateOf(a) })), outputs: null,
  };
}

function execution(steps: [StateType, number][], taskRunList: TaskRun[]): Execution {
  return {
    id: 'e', namespace: 'n', flowId: 'f', flowRevision: 1, state: stateOf(steps), inputs: {}, outputs: null, labels: [],
    variables: null, trigger: null, taskRunList, originalId: null, parentExecutionId: null, parentTaskRunId: null,
    commitSha: null, attemptNumber: 1,
  };
}

describe('buildGantt', () => {
  it('what still runs extends to now; ended attempts keep their own length', () => {
    const e = execution([['CREATED', 0], ['RUNNING', 0]], [
      taskRun('done', null, [['CREATED', 0], ['RUNNING', 0], ['SUCCESS', 2_000]], [[['RUNNING', 0], ['SUCCESS', 2_000]]]),
      taskRun('live', null, [['CREATED', 2_000], ['RUNNING', 2_000]], [[['RUNNING', 2_000], ['FAILED', 3_000]], [['RUNNING', 5_000]]]),
    ]);
    const gantt = buildGantt(e, T0 + 10_000);
    expect(gantt.totalMs).toBe(10_000);
    const [done, live] = gantt.rows;
    expect(done.attempts).toEqual([expect.objectContaining({ state: 'SUCCESS', left: 0, width: 20, running: false })]);
    expect(live.running).toBe(true);
    expect(live).toMatchObject({ left: 20, width: 80, duration: '8.00s' });
    expect(live.attempts.map((a) => [a.state, a.left, a.width, a.running])).toEqual([
      ['FAILED', 20, 10, false],
      ['RUNNING', 50, 50, true],
    ]);
    expect(live.attempts[1].title).toBe('attempt 2: RUNNING, 5.00s so far');
  });

  it('a terminal execution ends the axis at its end; an instant task still gets a visible sliver', () => {
    const e = execution([['CREATED', 0], ['RUNNING', 0], ['SUCCESS', 4_000]], [
      taskRun('instant', null, [['CREATED', 1_000], ['RUNNING', 1_000], ['SUCCESS', 1_000]], [[['RUNNING', 1_000], ['SUCCESS', 1_000]]]),
    ]);
    const gantt = buildGantt(e, T0 + 60_000);
    expect(gantt.totalMs).toBe(4_000);
    expect(gantt.rows[0].attempts[0]).toMatchObject({ left: 25, width: 0.4 });
    expect(gantt.ticks.map((t) => t.label)).toEqual(['0', '+0.5s', '+1s', '+1.5s', '+2s', '+2.5s', '+3s', '+3.5s', '+4s']);
    expect(gantt.ticks.at(-1)!.left).toBe(100);
  });

  it('flowable task runs without attempts are one segment in their own state', () => {
    const e = execution([['CREATED', 0], ['RUNNING', 0]], [
      taskRun('parallel', null, [['CREATED', 0], ['RUNNING', 0]]),
      taskRun('child', 'parallel', [['CREATED', 0], ['RUNNING', 0], ['SUCCESS', 500]], [[['RUNNING', 0], ['SUCCESS', 500]]]),
    ]);
    const [parent, child] = buildGantt(e, T0 + 1_000).rows;
    expect(parent.attempts).toEqual([expect.objectContaining({ state: 'RUNNING', left: 0, width: 100, running: true })]);
    expect(child.depth).toBe(1);
  });
});

describe('treeOrder', () => {
  it('puts children right under their parent, siblings in creation order, orphans at the top', () => {
    const runs = [
      taskRun('a', null, [['CREATED', 0]]),
      taskRun('b', null, [['CREATED', 0]]),
      taskRun('a1', 'a', [['CREATED', 0]]),
      taskRun('b1', 'b', [['CREATED', 0]]),
      taskRun('a2', 'a', [['CREATED', 0]]),
      taskRun('a1x', 'a1', [['CREATED', 0]]),
      taskRun('orphan', 'gone', [['CREATED', 0]]),
    ];
    expect(treeOrder(runs).map(({ run, depth }) => `${depth}:${run.id}`)).toEqual(['0:a', '1:a1', '2:a1x', '1:a2', '0:b', '1:b1', '0:orphan']);
  });
});

describe('formatDuration', () => {
  it('is short and human', () => {
    expect([0, 850, 1_234, 12_345, 184_000, 7_500_000].map(formatDuration)).toEqual(['0ms', '850ms', '1.23s', '12.3s', '3m 04s', '2h 05m']);
  });
});
