import { describe, expect, it } from 'vitest';
import { newState } from '../state.ts';
import type { TaskRun } from './model.ts';
import { buildOutputs } from './outputs.ts';

function run(id: string, taskId: string, parent: string | null, value: string | null, outputs: Record<string, unknown> | null): TaskRun {
  return { id, executionId: 'e', namespace: 'n', flowId: 'f', taskId, parentTaskRunId: parent, value, iteration: null, state: newState(), attempts: [], outputs };
}

describe('buildOutputs', () => {
  it('plain task runs by id; loop children nested by value; nested loops by each value', () => {
    const runs = [
      run('1', 'plain', null, null, { v: 1 }),
      run('2', 'loop', null, null, null),
      run('3', 'item', '2', 'a', { v: 'a' }),
      run('4', 'item', '2', 'b', { v: 'b' }),
      run('5', 'inner', '2', 'a', null),
      run('6', 'cell', '5', '1', { v: 'a1' }),
      // A Sequential inside a loop inherits the value: it adds no level.
      run('7', 'seq', '2', 'b', null),
      run('8', 'deep', '7', 'b', { v: 'deep-b' }),
    ];
    expect(buildOutputs(runs)).toEqual({
      plain: { v: 1 },
      item: { a: { v: 'a' }, b: { v: 'b' } },
      cell: { a: { '1': { v: 'a1' } } },
      deep: { b: { v: 'deep-b' } },
    });
  });
});
