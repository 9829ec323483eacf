import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { InputDef } from '../flow/types.ts';
import { childUri, inputPrefix, LocalDiskStorage } from '../storage/index.ts';
import { InputValidationError, type InputProblem } from './errors.ts';
import { resolveInputs, type InputContext } from './resolve-inputs.ts';

/**
 * A FAKE of the engine's Pebble renderer: the real one lives in engine/template and is handed in
 * by the engine. Each template this suite uses is spelled out as a function of the variables, so
 * the tests check what resolveInputs passes in and what it does with the result.
 */
function fakePebble(templates: Record<string, (vars: { inputs: Record<string, any> }) => unknown>) {
  const calls: Array<{ template: string; variables: Record<string, unknown> }> = [];
  const render: NonNullable<InputContext['render']> = async (template, variables) => {
    calls.push({ template, variables: structuredClone(variables) });
    const fn = templates[template];
    if (!fn) throw new Error(`Unable to render \`${template}\``);
    return fn(variables as { inputs: Record<string, any> });
  };
  return { render, calls };
}

async function problemsOf(promise: Promise<unknown>): Promise<readonly InputProblem[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof InputValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected an InputValidationError');
}

describe('resolveInputs', () => {
  test('no definitions, no inputs', async () => {
    expect(await resolveInputs(undefined, { anything: 1 })).toEqual({});
    expect(await resolveInputs([], {})).toEqual({});
  });

  test('submitted strings are coerced to each type', async () => {
    const defs: InputDef[] = [
      { id: 'name', type: 'STRING' },
      { id: 'year', type: 'INT' },
      { id: 'ratio', type: 'FLOAT' },
      { id: 'dry', type: 'BOOLEAN' },
      { id: 'when', type: 'DATETIME' },
      { id: 'day', type: 'DATE' },
      { id: 'at', type: 'TIME' },
      { id: 'wait', type: 'DURATION' },
      { id: 'env', type: 'SELECT', values: ['dev', 'prod'] },
      { id: 'regions', type: 'MULTISELECT', values: ['eu', 'us', 'asia'] },
      { id: 'columns', type: 'ARRAY', itemType: 'STRING' },
      { id: 'config', type: 'JSON' },
      { id: 'spec', type: 'YAML' },
      { id: 'site', type: 'URI' },
      { id: 'owner', type: 'EMAIL' },
      { id: 'token', type: 'SECRET' },
    ];
    const inputs = await resolveInputs(defs, {
      name: 'Ada',
      year: '2024',
      ratio: '0.25',
      dry: 'true',
      when: '2024-01-15T11:30:00+02:00',
      day: '2024-01-15',
      at: '08:30:00',
      wait: 'PT90S',
      env: 'prod',
      regions: '["eu","us"]',
      columns: '["brand","price"]',
      config: '{"retries":3}',
      spec: 'replicas: 2\n',
      site: 'https://kestra.io',
      owner: 'ada@example.com',
      token: 's3cr3t',
    });
    expect(inputs).toEqual({
      name: 'Ada',
      year: 2024,
      ratio: 0.25,
      dry: true,
      when: '2024-01-15T09:30:00Z',
      day: '2024-01-15',
      at: '08:30',
      wait: 'PT1M30S',
      env: 'prod',
      regions: ['eu', 'us'],
      columns: ['brand', 'price'],
      config: { retries: 3 },
      spec: { replicas: 2 },
      site: 'https://kestra.io',
      owner: 'ada@example.com',
      token: 's3cr3t',
    });
    expect(Object.keys(inputs)).toEqual(defs.map((d) => d.id));
  });

  test('native JSON values are accepted as they are', async () => {
    const inputs = await resolveInputs(
      [
        { id: 'n', type: 'INT' },
        { id: 'b', type: 'BOOL' },
        { id: 'list', type: 'ARRAY', itemType: 'INT' },
        { id: 'obj', type: 'JSON' },
      ],
      { n: 7, b: false, list: [1, 2], obj: { a: [1] } },
    );
    expect(inputs).toEqual({ n: 7, b: false, list: [1, 2], obj: { a: [1] } });
  });

  describe('defaults and required', () => {
    test('defaults are used when nothing is submitted, and parsed with the type', async () => {
      const inputs = await resolveInputs(
        [
          { id: 'year', type: 'INT', defaults: 2020 },
          { id: 'yearText', type: 'INT', defaults: '2021' },
          { id: 'columns', type: 'ARRAY', itemType: 'STRING', defaults: ['brand', 'price'] },
          { id: 'dry', type: 'BOOLEAN', defaults: false },
          { id: 'when', type: 'DATETIME', defaults: '2024-01-01T01:00:00+01:00' },
          { id: 'cfg', type: 'JSON', defaults: '{"a":1}' },
        ],
        {},
      );
      expect(inputs).toEqual({
        year: 2020,
        yearText: 2021,
        columns: ['brand', 'price'],
        dry: false,
        when: '2024-01-01T00:00:00Z',
        cfg: { a: 1 },
      });
    });

    test('a submitted value wins over the default; null means not submitted', async () => {
      const defs: InputDef[] = [{ id: 'year', type: 'INT', defaults: 2020 }];
      expect(await resolveInputs(defs, { year: '1999' })).toEqual({ year: 1999 });
      expect(await resolveInputs(defs, { year: null })).toEqual({ year: 2020 });
    });

    test('a bad default is reported like a bad value', async () => {
      const problems = await problemsOf(resolveInputs([{ id: 'year', type: 'INT', defaults: 'soon' }], {}));
      expect(problems).toEqual([{ inputId: 'year', message: "Invalid input 'year': expected INT, got 'soon'" }]);
    });

    test('required by default: missing with no default is an error', async () => {
      const problems = await problemsOf(resolveInputs([{ id: 'x', type: 'STRING' }], {}));
      expect(problems).toEqual([{ inputId: 'x', message: "Missing required input 'x'" }]);
    });

    test('an optional input left out is present as null', async () => {
      const inputs = await resolveInputs(
        [{ id: 'note', type: 'STRING', required: false }, { id: 'n', type: 'INT', required: false }],
        {},
      );
      expect(inputs).toEqual({ note: null, n: null });
      expect(Object.hasOwn(inputs, 'note')).toBe(true);
    });

    test('an optional input with a default takes the default', async () => {
      expect(await resolveInputs([{ id: 'n', type: 'INT', required: false, defaults: 3 }], {})).toEqual({ n: 3 });
    });

    test('the empty string is a value, not an absence', async () => {
      expect(await resolveInputs([{ id: 's', type: 'STRING' }], { s: '' })).toEqual({ s: '' });
      const problems = await problemsOf(resolveInputs([{ id: 'n', type: 'INT', required: false }], { n: '' }));
      expect(problems[0].message).toBe("Invalid input 'n': expected INT, got ''");
    });
  });

  test('submitted keys that match no input are ignored', async () => {
    expect(await resolveInputs([{ id: 'a', type: 'STRING' }], { a: 'x', stray: 'y', 'a.b': 1 })).toEqual({ a: 'x' });
  });

  test('every bad input is reported at once, in declaration order', async () => {
    const error = await resolveInputs(
      [
        { id: 'year', type: 'INT' },
        { id: 'ok', type: 'STRING' },
        { id: 'email', type: 'EMAIL' },
        { id: 'missing', type: 'DATE' },
        { id: 'env', type: 'SELECT', values: ['dev', 'prod'] },
      ],
      { year: 'abc', ok: 'fine', email: 'nope', env: 'staging' },
    ).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InputValidationError);
    const { problems, message } = error as InputValidationError;
    expect(problems).toEqual([
      { inputId: 'year', message: "Invalid input 'year': expected INT, got 'abc'" },
      { inputId: 'email', message: "Invalid input 'email': expected an email address, got 'nope'" },
      { inputId: 'missing', message: "Missing required input 'missing'" },
      { inputId: 'env', message: "Invalid input 'env': must be one of [dev, prod], got 'staging'" },
    ]);
    expect(message).toContain('4 invalid inputs');
    expect(message).toContain("Missing required input 'missing'");
  });

  test('duplicate ids are reported', async () => {
    const problems = await problemsOf(resolveInputs([{ id: 'a', type: 'STRING' }, { id: 'a', type: 'INT' }], { a: 'x' }));
    expect(problems).toEqual([{ inputId: 'a', message: "Duplicate input id 'a'" }]);
  });

  describe('dotted ids', () => {
    const defs: InputDef[] = [
      { id: 'nested.more.int', type: 'INT' },
      { id: 'nested.string', type: 'STRING' },
      { id: 'top', type: 'STRING', required: false },
    ];

    test('produce nested maps', async () => {
      expect(await resolveInputs(defs, { 'nested.more.int': '1', 'nested.string': 's' })).toEqual({
        nested: { more: { int: 1 }, string: 's' },
        top: null,
      });
    });

    test('may also be submitted as nested maps', async () => {
      expect(await resolveInputs(defs, { nested: { more: { int: 2 }, string: 't' } })).toEqual({
        nested: { more: { int: 2 }, string: 't' },
        top: null,
      });
    });

    test('an id that is also a prefix of another one clashes', async () => {
      const problems = await problemsOf(resolveInputs(
        [{ id: 'a', type: 'JSON' }, { id: 'a.b', type: 'INT' }],
        { a: '{"c":1}', 'a.b': 1 },
      ));
      expect(problems).toEqual([{ inputId: 'a.b', message: "Invalid input 'a.b': its id clashes with another input's nested id" }]);
    });
  });

  describe('dependsOn', () => {
    const pebble = () => fakePebble({
      "{{ inputs.mode == 'advanced' }}": ({ inputs }) => inputs.mode === 'advanced',
      "{{ inputs.cloud.provider == 'AWS' }}": ({ inputs }) => inputs.cloud?.provider === 'AWS',
      '{{ inputs.level > 1 }}': ({ inputs }) => String(inputs.level > 1),
      '{{ inputs.mode }}': ({ inputs }) => inputs.mode,
      '{{ regions[inputs.cloud.provider] }}': ({ inputs }) => ({ AWS: ['us-east-1', 'eu-west-1'], GCP: ['europe-west1'] } as Record<string, string[]>)[inputs.cloud.provider],
      "{{ inputs.mode ~ '-suffix' }}": ({ inputs }) => `${inputs.mode}-suffix`,
    });

    test('a true condition keeps the input, a false one leaves it out', async () => {
      const defs: InputDef[] = [
        { id: 'mode', type: 'SELECT', values: ['simple', 'advanced'] },
        { id: 'threads', type: 'INT', defaults: 4, dependsOn: { inputs: ['mode'], condition: "{{ inputs.mode == 'advanced' }}" } },
      ];
      const { render, calls } = pebble();
      expect(await resolveInputs(defs, { mode: 'advanced' }, { render })).toEqual({ mode: 'advanced', threads: 4 });
      expect(calls).toEqual([{ template: "{{ inputs.mode == 'advanced' }}", variables: { inputs: { mode: 'advanced' } } }]);
      expect(await resolveInputs(defs, { mode: 'simple', threads: 'not even an int' }, { render })).toEqual({ mode: 'simple' });
    });

    test('a disabled required input is not reported missing', async () => {
      const defs: InputDef[] = [
        { id: 'mode', type: 'STRING' },
        { id: 'secretKey', type: 'SECRET', dependsOn: { inputs: ['mode'], condition: "{{ inputs.mode == 'advanced' }}" } },
      ];
      expect(await resolveInputs(defs, { mode: 'simple' }, pebble())).toEqual({ mode: 'simple' });
    });

    test('only a true result enables: the string "true" does, anything else does not', async () => {
      const defs = (condition: string): InputDef[] => [
        { id: 'level', type: 'INT' },
        { id: 'mode', type: 'STRING', required: false },
        { id: 'x', type: 'STRING', defaults: 'on', dependsOn: { inputs: ['level', 'mode'], condition } },
      ];
      const { render } = pebble();
      expect(await resolveInputs(defs('{{ inputs.level > 1 }}'), { level: 2 }, { render })).toMatchObject({ x: 'on' });
      expect(await resolveInputs(defs('{{ inputs.level > 1 }}'), { level: 1 }, { render })).not.toHaveProperty('x');
      expect(await resolveInputs(defs('{{ inputs.mode }}'), { level: 1, mode: 'yes' }, { render })).not.toHaveProperty('x');
      expect(await resolveInputs(defs('{{ inputs.mode }}'), { level: 1, mode: 'TRUE' }, { render })).not.toHaveProperty('x');
      expect(await resolveInputs(defs('{{ inputs.mode }}'), { level: 1, mode: 'true' }, { render })).toMatchObject({ x: 'on' });
    });

    test('dependencies are resolved first, whatever the declaration order', async () => {
      const defs: InputDef[] = [
        { id: 'region', type: 'SELECT', expression: '{{ regions[inputs.cloud.provider] }}', dependsOn: { inputs: ['cloud.provider'] } },
        { id: 'bucket', type: 'STRING', dependsOn: { inputs: ['cloud.provider'], condition: "{{ inputs.cloud.provider == 'AWS' }}" } },
        { id: 'cloud.provider', type: 'SELECT', values: ['AWS', 'GCP'] },
      ];
      const { render } = pebble();
      expect(await resolveInputs(defs, { 'cloud.provider': 'AWS', region: 'eu-west-1', bucket: 'b' }, { render })).toEqual({
        region: 'eu-west-1',
        bucket: 'b',
        cloud: { provider: 'AWS' },
      });
      const problems = await problemsOf(resolveInputs(defs, { 'cloud.provider': 'GCP', region: 'eu-west-1' }, { render }));
      expect(problems).toEqual([{ inputId: 'region', message: "Invalid input 'region': must be one of [europe-west1], got 'eu-west-1'" }]);
    });

    test('inputs depending on a disabled input are disabled too', async () => {
      const defs: InputDef[] = [
        { id: 'mode', type: 'STRING' },
        { id: 'a', type: 'STRING', defaults: 'A', dependsOn: { inputs: ['mode'], condition: "{{ inputs.mode == 'advanced' }}" } },
        { id: 'b', type: 'STRING', defaults: 'B', dependsOn: { inputs: ['a'] } },
      ];
      expect(await resolveInputs(defs, { mode: 'simple' }, pebble())).toEqual({ mode: 'simple' });
      expect(await resolveInputs(defs, { mode: 'advanced' }, pebble())).toEqual({ mode: 'advanced', a: 'A', b: 'B' });
    });

    test('an input whose dependency failed is not reported again', async () => {
      const defs: InputDef[] = [
        { id: 'mode', type: 'INT' },
        { id: 'x', type: 'STRING', dependsOn: { inputs: ['mode'], condition: "{{ inputs.mode == 'advanced' }}" } },
      ];
      const problems = await problemsOf(resolveInputs(defs, { mode: 'abc' }, pebble()));
      expect(problems).toEqual([{ inputId: 'mode', message: "Invalid input 'mode': expected INT, got 'abc'" }]);
    });

    test('cycles are reported', async () => {
      const defs: InputDef[] = [
        { id: 'a', type: 'STRING', dependsOn: { inputs: ['b'] } },
        { id: 'b', type: 'STRING', dependsOn: { inputs: ['c'] } },
        { id: 'c', type: 'STRING', dependsOn: { inputs: ['a'] } },
        { id: 'free', type: 'STRING', defaults: 'ok' },
      ];
      const problems = await problemsOf(resolveInputs(defs, { a: '1', b: '2', c: '3' }));
      expect(problems).toEqual([{ inputId: 'a', message: "Invalid input 'a': dependsOn cycle a -> b -> c -> a" }]);
    });

    test('unknown and self dependencies are ignored, as Kestra does', async () => {
      const defs: InputDef[] = [{ id: 'a', type: 'STRING', dependsOn: { inputs: ['a', 'ghost'] } }];
      expect(await resolveInputs(defs, { a: 'x' })).toEqual({ a: 'x' });
    });

    test('a condition that cannot be rendered is an error on that input', async () => {
      const defs: InputDef[] = [
        { id: 'mode', type: 'STRING' },
        { id: 'x', type: 'STRING', dependsOn: { inputs: ['mode'], condition: '{{ inputs.nope.deeper }}' } },
      ];
      const problems = await problemsOf(resolveInputs(defs, { mode: 'a', x: 'y' }, pebble()));
      expect(problems).toEqual([
        { inputId: 'x', message: "Invalid input 'x': cannot render dependsOn.condition: Unable to render `{{ inputs.nope.deeper }}`" },
      ]);
    });

    test('a condition without a renderer is an error, not a silent pass', async () => {
      const defs: InputDef[] = [{ id: 'x', type: 'STRING', dependsOn: { condition: '{{ true }}' } }];
      const problems = await problemsOf(resolveInputs(defs, { x: 'y' }));
      expect(problems).toEqual([{ inputId: 'x', message: "Invalid input 'x': dependsOn.condition needs a template renderer" }]);
    });
  });

  describe('rendered definitions', () => {
    test('a SELECT expression renders the allowed values', async () => {
      const { render } = fakePebble({ "{{ kv('regions') }}": () => ['eu', 'us', null] });
      const defs: InputDef[] = [{ id: 'region', type: 'SELECT', expression: "{{ kv('regions') }}" }];
      expect(await resolveInputs(defs, { region: 'us' }, { render })).toEqual({ region: 'us' });
      expect((await problemsOf(resolveInputs(defs, { region: 'asia' }, { render })))[0].message)
        .toBe("Invalid input 'region': must be one of [eu, us], got 'asia'");
    });

    test('an expression that is not a list is an error', async () => {
      const { render } = fakePebble({ '{{ 42 }}': () => 42 });
      const problems = await problemsOf(resolveInputs([{ id: 'm', type: 'MULTISELECT', expression: '{{ 42 }}' }], { m: ['a'] }, { render }));
      expect(problems[0].message).toBe("Invalid input 'm': expression must render to a list, got number");
    });

    test('a templated default is rendered with the inputs resolved so far', async () => {
      const { render, calls } = fakePebble({ "{{ inputs.mode ~ '-suffix' }}": ({ inputs }) => `${inputs.mode}-suffix` });
      const defs: InputDef[] = [
        { id: 'mode', type: 'STRING' },
        { id: 'name', type: 'STRING', defaults: "{{ inputs.mode ~ '-suffix' }}", dependsOn: { inputs: ['mode'] } },
      ];
      expect(await resolveInputs(defs, { mode: 'fast' }, { render })).toEqual({ mode: 'fast', name: 'fast-suffix' });
      expect(calls[0].variables).toEqual({ inputs: { mode: 'fast' } });
      expect(await resolveInputs(defs, { mode: 'fast', name: 'given' }, { render })).toEqual({ mode: 'fast', name: 'given' });
    });

    test('without a renderer a templated default is taken literally', async () => {
      expect(await resolveInputs([{ id: 's', type: 'STRING', defaults: '{{ x }}' }], {})).toEqual({ s: '{{ x }}' });
    });
  });

  describe('FILE', () => {
    let dir: string;
    let storage: LocalDiskStorage;
    let ctx: InputContext;
    const prefix = inputPrefix('company.team', 'upload_flow', 'exec1', 'data');

    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'baton-inputs-'));
      storage = new LocalDiskStorage(path.join(dir, 'storage'));
      ctx = {
        storeFile: (inputId, fileName, data) =>
          storage.put(childUri(inputPrefix('company.team', 'upload_flow', 'exec1', inputId), fileName), data),
      };
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test('a kestra:// URI is kept', async () => {
      const uri = 'kestra:///company/team/other/executions/e0/tasks/t/r/out.csv';
      expect(await resolveInputs([{ id: 'data', type: 'FILE' }], { data: uri }, ctx)).toEqual({ data: uri });
    });

    test('uploaded bytes, text and local files are stored and replaced by their URI', async () => {
      const local = path.join(dir, 'local.csv');
      await writeFile(local, 'a,b\n1,2\n');
      const defs: InputDef[] = [
        { id: 'data', type: 'FILE' },
        { id: 'text', type: 'FILE' },
        { id: 'fromDisk', type: 'FILE' },
      ];
      const inputs = await resolveInputs(defs, {
        data: { fileName: 'my data.bin', data: Buffer.from([1, 2, 3]) },
        text: { fileName: 'notes.txt', data: 'hello' },
        fromDisk: { fileName: 'local.csv', data: { file: local } },
      }, ctx);
      expect(inputs.data).toBe(`${prefix}/my%20data.bin`);
      expect(await storage.readBuffer(inputs.data as string)).toEqual(Buffer.from([1, 2, 3]));
      expect((await storage.readBuffer(inputs.text as string)).toString()).toBe('hello');
      expect((await storage.readBuffer(inputs.fromDisk as string)).toString()).toBe('a,b\n1,2\n');
    });

    test('a hostile upload name keeps only its last part', async () => {
      const inputs = await resolveInputs([{ id: 'data', type: 'FILE' }], {
        data: { fileName: '../../../etc/passwd', data: 'x' },
      }, ctx);
      expect(inputs.data).toBe(`${prefix}/passwd`);
      const dots = await resolveInputs([{ id: 'data', type: 'FILE', extension: 'csv' }], { data: { fileName: 'a/..', data: 'x' } }, ctx);
      expect(dots.data).toBe(`${prefix}/data.csv`);
    });

    test('an upload with nowhere to store it, or a failing store, is an input error', async () => {
      const upload = { fileName: 'a.txt', data: 'x' };
      expect(await problemsOf(resolveInputs([{ id: 'f', type: 'FILE' }], { f: upload }))).toEqual([
        { inputId: 'f', message: "Invalid input 'f': file uploads cannot be stored here" },
      ]);
      const failing: InputContext = { storeFile: async () => { throw new Error('disk full'); } };
      expect(await problemsOf(resolveInputs([{ id: 'f', type: 'FILE' }], { f: upload }, failing))).toEqual([
        { inputId: 'f', message: "Invalid input 'f': cannot store the uploaded file 'a.txt': disk full" },
      ]);
    });

    test('a local path string is refused (uploads must say so)', async () => {
      const problems = await problemsOf(resolveInputs([{ id: 'f', type: 'FILE' }], { f: '/etc/passwd' }, ctx));
      expect(problems[0].message).toBe("Invalid input 'f': expected FILE (a kestra:// URI or an uploaded file), got '/etc/passwd'");
    });
  });
});
