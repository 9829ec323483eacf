import { describe, expect, it } from 'vitest';
import { coerceProps, coerceValue } from './coerce.ts';
import { Dynamic, Enum, Type } from './schema.ts';

describe('coerceProps: rendered values brought to their schema types', () => {
  const schema = Type.Object({
    flag: Type.Optional(Type.Boolean()),
    count: Type.Optional(Type.Integer()),
    ratio: Type.Optional(Type.Number()),
    names: Type.Optional(Type.Array(Type.String())),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    nested: Type.Optional(Type.Object({ on: Type.Boolean(), size: Type.Integer() })),
    text: Type.Optional(Type.String()),
    mode: Type.Optional(Enum(['A', 'B'])),
    dynamicFlag: Type.Optional(Dynamic(Type.Boolean())),
    messages: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    tasks: Type.Optional(Type.Array(Type.Unknown())),
    vars: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]))),
  });

  it('converts text that reads unambiguously as the declared type', () => {
    expect(coerceProps(schema, {
      flag: 'TRUE', count: '3', ratio: '0.5', names: '["a","b"]', env: '{"A": 1}', nested: { on: 'false', size: '2' }, text: 42, dynamicFlag: 'false',
    })).toEqual({ flag: true, count: 3, ratio: 0.5, names: ['a', 'b'], env: { A: '1' }, nested: { on: false, size: 2 }, text: '42', dynamicFlag: false });
  });

  it('leaves whatever does not read as the type, and what the plugin reads itself, as rendered', () => {
    const props = { flag: 'yes', count: '2.5', names: 'not a list', mode: 'A', messages: '["kept as text"]', tasks: '[1]', vars: { A: '1.0' } };
    expect(coerceProps(schema, props, new Set(['tasks']))).toEqual(props);
    expect(coerceValue(undefined, 'x')).toBe('x');
    expect(coerceValue(Type.Integer(), '')).toBe('');
  });
});
