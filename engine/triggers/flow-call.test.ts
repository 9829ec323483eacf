import { describe, expect, it } from 'vitest';
import type { FlowDef, TriggerDef } from '../flow/types.ts';
import type { TemplateServices } from '../template/index.ts';
import {
  flowTriggerListens, flowTriggerStart, preconditionIds, preconditionsMet, recordInWindow, windowAt, type PreconditionsDef, type UpstreamExecution,
} from './flow-call.ts';

const services: TemplateServices = {};
const flow = { id: 'downstream', namespace: 'team.b', tasks: [] } as unknown as FlowDef;
const context = { flow, revision: 3, services, now: new Date('2026-11-25T10:00:00Z') };
const upstream = (over: Partial<UpstreamExecution> = {}): UpstreamExecution => ({
  id: 'exec1', namespace: 'team.a', flowId: 'extract', flowRevision: 2, state: 'SUCCESS', labels: { env: 'prod' }, outputs: { rows: 42 }, ...over,
});
const trigger = (props: Record<string, unknown> = {}): TriggerDef => ({ id: 'on_upstream', type: 'io.kestra.plugin.core.trigger.Flow', ...props });
const at = (iso: string) => Date.parse(iso);

describe('flowTriggerListens', () => {
  it('listens to terminal states by default, to the listed states otherwise', async () => {
    expect(await flowTriggerListens(trigger(), upstream({ state: 'FAILED' }), context)).toBe(true);
    expect(await flowTriggerListens(trigger(), upstream({ state: 'RUNNING' }), context)).toBe(false);
    expect(await flowTriggerListens(trigger({ states: ['SUCCESS'] }), upstream({ state: 'FAILED' }), context)).toBe(false);
    expect(await flowTriggerListens(trigger({ states: ['RUNNING'] }), upstream({ state: 'RUNNING' }), context)).toBe(true);
  });

  it('evaluates ExecutionFlow, ExecutionNamespace and ExecutionStatus conditions on the upstream execution', async () => {
    const conditions = [
      { type: 'io.kestra.plugin.core.condition.ExecutionFlow', namespace: 'team.a', flowId: 'extract' },
      { type: 'io.kestra.plugin.core.condition.ExecutionNamespace', namespace: 'team', comparison: 'PREFIX' },
      { type: 'io.kestra.plugin.core.condition.ExecutionStatus', in: ['SUCCESS', 'WARNING'] },
    ];
    expect(await flowTriggerListens(trigger({ conditions }), upstream(), context)).toBe(true);
    expect(await flowTriggerListens(trigger({ conditions }), upstream({ flowId: 'other' }), context)).toBe(false);
    expect(await flowTriggerListens(trigger({ conditions }), upstream({ namespace: 'ops' }), context)).toBe(false);
    expect(await flowTriggerListens(trigger({ conditions }), upstream({ state: 'FAILED' }), context)).toBe(false);
  });

  it('never lets a flow trigger itself', async () => {
    expect(await flowTriggerListens(trigger(), upstream({ namespace: 'team.b', flowId: 'downstream' }), context)).toBe(false);
  });
});

describe('flowTriggerStart', () => {
  it('renders inputs with trigger.outputs and gives trigger.* of the upstream execution', async () => {
    const start = await flowTriggerStart(trigger({ inputs: { count: '{{ trigger.outputs.rows }}', from: '{{ trigger.flowId }}/{{ trigger.state }}' } }), upstream(), context);
    expect(start.inputs).toEqual({ count: '42', from: 'extract/SUCCESS' });
    expect(start.variables).toMatchObject({ executionId: 'exec1', namespace: 'team.a', flowId: 'extract', flowRevision: 2, state: 'SUCCESS', outputs: { rows: 42 } });
  });
});

describe('preconditions', () => {
  const preconditions: PreconditionsDef = {
    id: 'both',
    flows: [
      { namespace: 'team.a', flowId: 'extract', states: ['SUCCESS'] },
      { namespace: 'team.a', flowId: 'load', labels: { env: 'prod' } },
    ],
    where: [{ id: 'not_dev', filters: [{ field: 'NAMESPACE', type: 'STARTS_WITH', value: 'team.' }, { field: 'FLOW_ID', type: 'NOT_IN', values: ['scratch'] }] }],
  };

  it('names conditions as Kestra does and says which an execution meets', async () => {
    expect(preconditionIds(preconditions)).toEqual(['condition_1', 'condition_2', 'condition_3_not_dev']);
    const t = trigger({ preconditions });
    expect(await preconditionsMet(t, upstream(), context)).toEqual(['condition_1', 'condition_3_not_dev']);
    expect(await preconditionsMet(t, upstream({ flowId: 'load' }), context)).toEqual(['condition_2', 'condition_3_not_dev']);
    expect(await preconditionsMet(t, upstream({ flowId: 'load', labels: { env: 'dev' } }), context)).toEqual(['condition_3_not_dev']);
    expect(await preconditionsMet(t, upstream({ state: 'FAILED' }), context)).toEqual(['condition_3_not_dev']);
    expect(await preconditionsMet(t, upstream({ flowId: 'scratch' }), context)).toEqual([]);
  });

  it('an OR operand needs one filter; EXPRESSION filters render with trigger.*', async () => {
    const t = trigger({
      preconditions: { id: 'p', where: [{ id: 'w', operand: 'OR', filters: [{ field: 'STATE', type: 'EQUAL_TO', value: 'FAILED' }, { field: 'EXPRESSION', type: 'IS_TRUE', value: '{{ trigger.outputs.rows > 40 }}' }] }] },
    });
    expect(await preconditionsMet(t, upstream(), context)).toEqual(['condition_1_w']);
    expect(await preconditionsMet(t, upstream({ outputs: { rows: 1 } }), context)).toEqual([]);
  });

  it('fires once every condition is met in the window, then starts over (resetOnSuccess)', () => {
    const p: PreconditionsDef = { id: 'p', flows: [{ namespace: 'a', flowId: 'x' }, { namespace: 'a', flowId: 'y' }] };
    const now = at('2026-11-25T10:00:00Z');
    const first = recordInWindow(p, undefined, ['condition_1'], { id: 'e1', date: '2026-11-25T10:00:00Z' }, now);
    expect(first.fire).toBe(false);
    expect(first.state).toMatchObject({ start: at('2026-11-25T00:00:00Z'), end: at('2026-11-26T00:00:00Z') });
    const second = recordInWindow(p, first.state, ['condition_2'], { id: 'e2', date: '2026-11-25T11:00:00Z' }, now + 3_600_000);
    expect(second.fire).toBe(true);
    expect(second.state?.met).toEqual({});
    const third = recordInWindow(p, second.state, ['condition_2'], { id: 'e3', date: '2026-11-25T12:00:00Z' }, now + 7_200_000);
    expect(third.fire).toBe(false);
  });

  it('keeps firing on each new match without resetOnSuccess', () => {
    const p: PreconditionsDef = { id: 'p', resetOnSuccess: false, flows: [{ namespace: 'a', flowId: 'x' }] };
    const now = at('2026-11-25T10:00:00Z');
    const first = recordInWindow(p, undefined, ['condition_1'], { id: 'e1', date: '2026-11-25T10:00:00Z' }, now);
    expect(first.fire).toBe(true);
    expect(recordInWindow(p, first.state, ['condition_1'], { id: 'e2', date: '2026-11-25T10:01:00Z' }, now + 60_000).fire).toBe(true);
  });

  it('a new window forgets what the previous one collected', () => {
    const p: PreconditionsDef = { id: 'p', flows: [{ namespace: 'a', flowId: 'x' }, { namespace: 'a', flowId: 'y' }], timeWindow: { window: 'PT1H' } };
    const first = recordInWindow(p, undefined, ['condition_1'], { id: 'e1', date: '2026-11-25T10:50:00Z' }, at('2026-11-25T10:50:00Z'));
    expect(first.state).toMatchObject({ start: at('2026-11-25T10:00:00Z'), end: at('2026-11-25T11:00:00Z') });
    const next = recordInWindow(p, first.state, ['condition_2'], { id: 'e2', date: '2026-11-25T11:05:00Z' }, at('2026-11-25T11:05:00Z'));
    expect(next.fire).toBe(false);
    expect(Object.keys(next.state!.met)).toEqual(['condition_2']);
  });

  it('a sliding window keeps only what happened within `window` before now', () => {
    const p: PreconditionsDef = { id: 'p', flows: [{ namespace: 'a', flowId: 'x' }, { namespace: 'a', flowId: 'y' }], timeWindow: { type: 'SLIDING_WINDOW', window: 'PT1H' } };
    const first = recordInWindow(p, undefined, ['condition_1'], { id: 'e1', date: '2026-11-25T10:00:00Z' }, at('2026-11-25T10:00:00Z'));
    expect(recordInWindow(p, first.state, ['condition_2'], { id: 'e2', date: '2026-11-25T10:59:00Z' }, at('2026-11-25T10:59:00Z')).fire).toBe(true);
    expect(recordInWindow(p, first.state, ['condition_2'], { id: 'e2', date: '2026-11-25T11:01:00Z' }, at('2026-11-25T11:01:00Z')).fire).toBe(false);
  });
});

describe('windowAt', () => {
  const now = at('2026-11-25T10:20:00Z');
  it('DURATION_WINDOW: a day from midnight by default, shifted by windowAdvance, aligned windows of hours or minutes', () => {
    expect(windowAt(undefined, now)).toEqual({ start: at('2026-11-25T00:00:00Z'), end: at('2026-11-26T00:00:00Z') });
    expect(windowAt({ window: 'PT6H', windowAdvance: 'PT6H' }, now)).toEqual({ start: at('2026-11-25T06:00:00Z'), end: at('2026-11-25T12:00:00Z') });
    expect(windowAt({ window: 'PT6H', windowAdvance: 'PT6H' }, at('2026-11-25T03:00:00Z'))).toEqual({ start: at('2026-11-25T00:00:00Z'), end: at('2026-11-25T06:00:00Z') });
    expect(windowAt({ window: 'PT15M' }, now)).toEqual({ start: at('2026-11-25T10:15:00Z'), end: at('2026-11-25T10:30:00Z') });
  });
  it('DAILY_TIME_DEADLINE counts from midnight until the deadline, nothing after', () => {
    expect(windowAt({ type: 'DAILY_TIME_DEADLINE', deadline: '11:00:00' }, now)).toEqual({ start: at('2026-11-25T00:00:00Z'), end: at('2026-11-25T11:00:00Z') });
    expect(windowAt({ type: 'DAILY_TIME_DEADLINE', deadline: '09:00:00Z' }, now)).toBeNull();
  });
  it('DAILY_TIME_WINDOW counts between startTime and endTime', () => {
    expect(windowAt({ type: 'DAILY_TIME_WINDOW', startTime: '10:00:00', endTime: '12:00:00' }, now)).toEqual({ start: at('2026-11-25T10:00:00Z'), end: at('2026-11-25T12:00:00Z') });
    expect(windowAt({ type: 'DAILY_TIME_WINDOW', startTime: '06:00:00+02:00', endTime: '09:00:00+02:00' }, now)).toBeNull();
  });
});
