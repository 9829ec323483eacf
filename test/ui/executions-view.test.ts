import { describe, expect, it } from 'vitest';
import { listFilterOf, outputTree } from '../../server/ui/executions.ts';

describe('outputTree', () => {
  it('folds objects and arrays, marks kestra:// files, and keeps other strings as text', () => {
    const uri = 'kestra:///company/team/flow/executions/E1/tasks/t/R1/out.csv';
    expect(outputTree({ rows: 3, files: { 'out.csv': uri }, list: ['a', null], note: 'kestra:// not a uri\u0000' })).toEqual([
      { key: 'rows', kind: 'value', text: '3' },
      { key: 'files', kind: 'object', text: '{1}', children: [{ key: 'out.csv', kind: 'file', uri }] },
      { key: 'list', kind: 'array', text: '[2]', children: [{ key: '0', kind: 'value', text: 'a' }, { key: '1', kind: 'value', text: 'null' }] },
      { key: 'note', kind: 'value', text: 'kestra:// not a uri\u0000' },
    ]);
  });

  it('stops at its node budget, shared by every tree of a page, and cuts long values', () => {
    const budget = { left: 5 };
    const first = outputTree(Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`k${i}`, i])), budget);
    expect(first).toHaveLength(4);
    const second = outputTree({ a: 1, b: 2, c: 3 }, budget);
    expect(second).toEqual([{ key: 'a', kind: 'value', text: '1' }, { key: '…', kind: 'value', text: 'more not shown' }]);
    const [long] = outputTree({ text: 'x'.repeat(5000) });
    expect(long.text).toMatch(/^x{2000}… \(5000 chars\)$/);
  });
});

describe('listFilterOf', () => {
  const parse = (query: Record<string, string>) => listFilterOf((name) => query[name]);

  it('reads namespace, flow, state, dates (datetime-local fields as UTC), page and size', () => {
    const { filter, problems } = parse({ namespace: ' acme ', flowId: 'etl', state: 'failed', from: '2024-03-01T10:00', to: '2024-03-02', page: '3', size: '500' });
    expect(problems).toEqual([]);
    expect(filter).toEqual({
      namespace: 'acme', flowId: 'etl', state: 'FAILED', from: '2024-03-01T10:00:00.000Z', to: '2024-03-02T00:00:00.000Z', page: 3, size: 100,
    });
  });

  it('drops what it cannot read and says so', () => {
    const { filter, problems, form } = parse({ state: 'DONE', from: 'soon', page: '-1', size: 'many' });
    expect(filter).toEqual({ page: 1, size: 25 });
    expect(problems).toEqual(["unknown state 'DONE'", "'soon' is not a date (from)"]);
    // The form shows what was typed, so it can be corrected.
    expect(form).toMatchObject({ state: 'DONE', from: 'soon' });
  });
});
