import { describe, expect, it } from 'vitest';
import { childTaskLists, tasksById, validateFlowSource, walkTasks, type FlowDef, type TaskDef } from './index.ts';

const FLOW = `
id: tree
namespace: company.team
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: if
        type: io.kestra.plugin.core.flow.If
        condition: "{{ true }}"
        then:
          - id: then-1
            type: io.kestra.plugin.core.log.Log
            message: a
        else:
          - id: else-1
            type: io.kestra.plugin.core.log.Log
            message: b
    errors:
      - id: seq-error
        type: io.kestra.plugin.core.log.Log
        message: c
  - id: switch
    type: io.kestra.plugin.core.flow.Switch
    value: x
    cases:
      x:
        - id: case-x
          type: io.kestra.plugin.core.log.Log
          message: d
    defaults:
      - id: default-1
        type: io.kestra.plugin.core.log.Log
        message: e
errors:
  - id: flow-error
    type: io.kestra.plugin.core.log.Log
    message: f
finally:
  - id: flow-finally
    type: io.kestra.plugin.core.log.Log
    message: g
afterExecution:
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: h
`;

function flow(): FlowDef {
  const { flow, problems } = validateFlowSource(FLOW);
  expect(problems).toEqual([]);
  return flow!;
}

describe('walkTasks', () => {
  it('visits every task depth first, in source order, with its path and parent', () => {
    const seen: [string, string, string | undefined][] = [];
    walkTasks(flow(), (task, path, parent) => {
      seen.push([task.id, path, parent?.id]);
    });
    expect(seen).toEqual([
      ['seq', 'tasks[0]', undefined],
      ['if', 'tasks[0].tasks[0]', 'seq'],
      ['then-1', 'tasks[0].tasks[0].then[0]', 'if'],
      ['else-1', 'tasks[0].tasks[0].else[0]', 'if'],
      ['seq-error', 'tasks[0].errors[0]', 'seq'],
      ['switch', 'tasks[1]', undefined],
      ['case-x', 'tasks[1].cases.x[0]', 'switch'],
      ['default-1', 'tasks[1].defaults[0]', 'switch'],
      ['flow-error', 'errors[0]', undefined],
      ['flow-finally', 'finally[0]', undefined],
      ['after', 'afterExecution[0]', undefined],
    ]);
  });

  it('skips the children of a task when visit returns false', () => {
    const seen: string[] = [];
    walkTasks(flow(), (task) => {
      seen.push(task.id);
      return task.id === 'seq' ? false : undefined;
    });
    expect(seen).toEqual(['seq', 'switch', 'case-x', 'default-1', 'flow-error', 'flow-finally', 'after']);
  });

  it('indexes tasks by id', () => {
    const byId = tasksById(flow());
    expect([...byId.keys()]).toHaveLength(11);
    expect(byId.get('case-x')?.message).toBe('d');
  });
});

describe('childTaskLists', () => {
  it('lists the child lists a plugin declares, maps of lists included', () => {
    const switchTask = flow().tasks[1] as TaskDef;
    expect(childTaskLists(switchTask).map((l) => [l.segments, l.items.length])).toEqual([
      [['cases', 'x'], 1],
      [['defaults'], 1],
    ]);
  });

  it('adds errors and finally of a flowable, and nothing for runnable or unknown types', () => {
    const sequential = { id: 's', type: 'io.kestra.plugin.core.flow.Sequential', tasks: [], finally: [{ id: 'f' }] };
    expect(childTaskLists(sequential).map((l) => l.segments)).toEqual([['tasks'], ['finally']]);
    expect(childTaskLists({ id: 'l', type: 'io.kestra.plugin.core.log.Log', errors: [{ id: 'x' }] })).toEqual([]);
    expect(childTaskLists({ id: 'u', type: 'com.example.Unknown', tasks: [{ id: 'x' }] })).toEqual([]);
  });
});
