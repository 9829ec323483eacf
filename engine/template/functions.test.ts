import { describe, expect, it } from 'vitest';
import { TemplateError, renderTemplate, renderTyped } from './index.ts';

const r = (template: string, variables: Record<string, unknown> = {}) => renderTemplate(template, variables);
const typed = (template: string, variables: Record<string, unknown> = {}) => renderTyped(template, variables);

async function failure(template: string, variables: Record<string, unknown> = {}): Promise<string> {
  try {
    await renderTemplate(template, variables);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return (err as Error).message;
  }
  throw new Error(`expected ${template} to fail`);
}

describe('fromJson and json', () => {
  it('parses JSON strings into values', async () => {
    expect(await r(`{{ fromJson('{"a": [1, 2]}').a[1] }}`)).toBe('2');
    expect(await typed(`{{ json('[1, "x"]') }}`)).toEqual([1, 'x']);
    expect(await typed('{{ fromJson(payload) }}', { payload: '{"k":{"v":true}}' })).toEqual({ k: { v: true } });
    expect(await failure(`{{ fromJson('{bad') }}`)).toContain('Invalid json');
  });
});

describe('yaml', () => {
  it('parses YAML strings', async () => {
    expect(await r("{{ yaml('a: 1\nb: [x, y]').b[1] }}")).toBe('y');
  });
});

describe('now', () => {
  it('prints the current time as ISO-8601 with microseconds by default', async () => {
    const before = Date.now();
    const out = await r('{{ now() }}');
    expect(out).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/);
    expect(Math.abs(Date.parse(out) - before)).toBeLessThan(5000);
  });

  it('takes a format and a time zone', async () => {
    expect(await r("{{ now('yyyy', 'UTC') }}")).toBe(String(new Date().getUTCFullYear()));
    expect(await r("{{ now(format='XXX', timeZone='Asia/Tokyo') }}")).toBe('+09:00');
    expect(await r("{{ now() | date('yyyy', timeZone='UTC') }}")).toBe(String(new Date().getUTCFullYear()));
  });
});

describe('currentEachOutput', () => {
  it('navigates outputs by the current ForEach value', async () => {
    const variables = {
      outputs: { t: { a: { value: 'A' }, b: { value: 'B' } } },
      taskrun: { value: 'b' },
    };
    expect(await r('{{ currentEachOutput(outputs.t).value }}', variables)).toBe('B');
  });

  it('navigates nested loops through the parents values, outermost first', async () => {
    const variables = {
      outputs: { t: { o1: { i1: { v: 1 }, i2: { v: 2 } }, o2: { i2: { v: 3 } } } },
      parents: [{ taskrun: { value: 'o2' } }, { taskrun: {} }],
      taskrun: { value: 'i2' },
    };
    expect(await r('{{ currentEachOutput(outputs.t).v }}', variables)).toBe('3');
  });

  it('fails when the path has no outputs', async () => {
    const variables = { outputs: { t: { o1: {} } }, parents: [{ taskrun: { value: 'zz' } }], taskrun: { value: 'x' } };
    expect(await failure('{{ currentEachOutput(outputs.t) }}', variables)).toContain('No execution outputs for the current task runs path');
    expect(await failure("{{ currentEachOutput('x') }}", variables)).toContain("expects an argument 'outputs' with type map");
  });
});

describe('uuid, id, printContext, randomInt, range, max, min', () => {
  it('uuid() and id() generate fresh identifiers', async () => {
    const a = await r('{{ uuid() }}');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await r('{{ uuid() }}')).not.toBe(a);
    expect(await r('{{ id() }}')).toMatch(/^[0-9A-Za-z]{22}$/);
  });

  it('printContext() prints the variables as JSON', async () => {
    expect(await r('{{ printContext() }}', { inputs: { a: 1 }, flow: { id: 'f' } })).toBe('{"inputs":{"a":1},"flow":{"id":"f"}}');
  });

  it('randomInt, range, max and min', async () => {
    expect(await r('{{ randomInt(4, 5) }}')).toBe('4');
    expect(await r('{{ range(1, 5, 2) }} {{ range(3, 1, -1) }} {{ max(1, 5, 3) }} {{ min(4, 2) }}')).toBe('[1,3,5] [3,2,1] 5 2');
    expect(await failure('{{ randomInt(5, 5) }}')).toContain("expects 'upper' to be greater than 'lower'");
  });
});

describe('function arguments', () => {
  it('binds positional and named arguments, rejecting unknown names', async () => {
    expect(await r("{{ now(format='yyyy', timeZone='UTC') }}")).toMatch(/^\d{4}$/);
    expect(await failure("{{ now(colour='red') }}")).toContain("The argument 'colour' is not supported by the function 'now'");
    expect(await failure('{{ uuid(1) }}')).toContain("The function 'uuid' takes at most 0 argument(s)");
  });
});
