import { describe, expect, it } from 'vitest';
import { TemplateError, UndefinedVariableError, checkTemplateSyntax, renderTemplate, renderTyped, renderValue, type TemplateServices } from './index.ts';

const seed = {
  flow: { id: 'taxi', namespace: 'company.team' },
  inputs: { taxi: 'yellow', year: '2019', month: '01', cols: ['brand', 'price'], count: 3, flag: true, nothing: null },
  vars: {
    file: '{{ inputs.taxi }}_tripdata_{{ inputs.year }}-{{ inputs.month }}.csv',
    data: "{{ outputs.extract.outputFiles[inputs.taxi ~ '_tripdata_' ~ inputs.year ~ '-' ~ inputs.month ~ '.csv'] }}",
  },
  outputs: {
    extract: { outputFiles: { 'yellow_tripdata_2019-01.csv': 'kestra:///company/team/taxi/abc/yellow_tripdata_2019-01.csv' } },
    t: { vars: { k: 'v' } },
  },
  trigger: { date: '2019-03-01T09:00:00Z' },
};

const r = (template: string, variables: Record<string, unknown> = seed, services?: TemplateServices) => renderTemplate(template, variables, services);

async function renderError(template: string, variables: Record<string, unknown> = seed, services?: TemplateServices): Promise<TemplateError> {
  try {
    await renderTemplate(template, variables, services);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return err as TemplateError;
  }
  throw new Error(`expected ${template} to fail`);
}

describe('seed flow expressions', () => {
  it('renders the file name from inputs', async () => {
    expect(await r('{{ inputs.taxi }}_tripdata_{{ inputs.year }}-{{ inputs.month }}.csv')).toBe('yellow_tripdata_2019-01.csv');
  });

  it('does not render variables recursively without render()', async () => {
    expect(await r('{{ vars.file }}')).toBe('{{ inputs.taxi }}_tripdata_{{ inputs.year }}-{{ inputs.month }}.csv');
  });

  it('render() renders vars.file and vars.data with the current scope', async () => {
    expect(await r('{{ render(vars.file) }}')).toBe('yellow_tripdata_2019-01.csv');
    expect(await r('{{ render(vars.data) }}')).toBe('kestra:///company/team/taxi/abc/yellow_tripdata_2019-01.csv');
  });

  it('formats the trigger date with Java patterns', async () => {
    expect(await r("{{ trigger.date | date('yyyy') }}")).toBe('2019');
    expect(await r("{{ trigger.date | date('MM') }}")).toBe('03');
  });

  it('reads nested outputs', async () => {
    expect(await r('{{ outputs.t.vars.k }}')).toBe('v');
    expect(await r("{{ outputs.t['vars']['k'] }}")).toBe('v');
  });
});

describe('output formatting', () => {
  it('writes lists and maps as JSON, booleans and numbers like Java, null as nothing', async () => {
    expect(await r('{{ inputs.cols }}')).toBe('["brand","price"]');
    expect(await r("{{ {'a': 1, 'b': [true, null]} }}")).toBe('{"a":1,"b":[true,null]}');
    expect(await r('{{ inputs.flag }}|{{ false }}')).toBe('true|false');
    expect(await r('[{{ inputs.nothing }}][{{ null }}]')).toBe('[][]');
    expect(await r('{{ 3 }} {{ 2.5 }} {{ 12345678.5 }} {{ 0.0001 }}')).toBe('3 2.5 1.23456785E7 1.0E-4');
  });

  it('drops null map entries like Kestra’s NON_NULL Jackson mapper', async () => {
    expect(await r("{{ {'a': null, 'b': 2} }}")).toBe('{"b":2}');
  });

  it('does not escape HTML and preserves whitespace and newlines', async () => {
    expect(await r("<b>{{ '<i>&' }}</b>\n  {{ inputs.taxi }}\n")).toBe('<b><i>&</b>\n  yellow\n');
  });

  it('supports whitespace control and comments', async () => {
    expect(await r('a  {{- inputs.taxi -}}  b{# note #}c')).toBe('ayellowbc');
  });

  it('returns strings without { untouched', async () => {
    expect(await r('plain text, no template %} }}', {})).toBe('plain text, no template %} }}');
  });
});

describe('raw blocks', () => {
  it('keeps raw content as is', async () => {
    expect(await r('{% raw %}{{ inputs.taxi }}{% endraw %} {{ inputs.taxi }}')).toBe('{{ inputs.taxi }} yellow');
  });

  it('protects raw blocks through recursive render() and strips the tags at the end', async () => {
    const variables = { ...seed, vars: { raw: '{% raw %}{{ not.rendered }}{% endraw %}-{{ inputs.year }}' } };
    expect(await r('{{ render(vars.raw) }}', variables)).toBe('{{ not.rendered }}-2019');
  });

  it('supports multi-line raw blocks and verbatim', async () => {
    expect(await r('{% raw %}\n{{ a }}\n{% endraw %}')).toBe('\n{{ a }}\n');
    expect(await r('{% verbatim %}{{ a }}{% endverbatim %}')).toBe('{{ a }}');
  });
});

describe('operators', () => {
  it('concatenates with ~ using Java string forms', async () => {
    expect(await r("{{ 'a' ~ 1 ~ true ~ null ~ inputs.cols }}")).toBe('a1true[brand, price]');
  });

  it('binds ~ tighter than filters, as Pebble does', async () => {
    expect(await r("{{ 'a' ~ 'b' | upper }}")).toBe('AB');
  });

  it('does arithmetic with Java long and double rules', async () => {
    expect(await r('{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 10 / 4 }} {{ 10 % 3 }} {{ 7.5 / 2 }} {{ -inputs.count }}')).toBe('7 9 2 1 3.75 -3');
    expect(await r("{{ 'n' + 1 }}")).toBe('n1');
    expect((await renderError('{{ 1 / 0 }}')).message).toContain('/ by zero');
    expect((await renderError('{{ inputs.cols * 2 }}')).message).toContain('invalid operands for mathematical operation');
  });

  it('compares with ==, equals, !=, <, >, <=, >=', async () => {
    expect(await r("{{ inputs.taxi == 'yellow' }} {{ inputs.taxi equals 'green' }} {{ inputs.count != 3 }}")).toBe('true false false');
    expect(await r('{{ 1 < 2 }} {{ 2 > 3 }} {{ 3 <= 3 }} {{ 4 >= 5 }} {{ 2 == 2.0 }}')).toBe('true false true false true');
    expect(await r("{{ 'abc' < 'abd' }} {{ inputs.cols == ['brand', 'price'] }}")).toBe('true true');
    expect(await r('{{ inputs.nothing < 1 }}')).toBe('false');
  });

  it('combines conditions with and, or, not', async () => {
    expect(await r('{{ true and false }} {{ true or false }} {{ not false }} {{ not (1 == 1) }}')).toBe('false true true false');
    expect((await renderError('{{ inputs.nothing and true }}')).message).toContain('null value used in and operator');
  });

  it('evaluates the ternary operator', async () => {
    expect(await r("{{ inputs.flag ? 'yes' : 'no' }} {{ inputs.count > 5 ? 'big' : 'small' }}")).toBe('yes small');
    expect(await r("{{ false ? 1 : true ? 2 : 3 }}")).toBe('2');
  });

  it('?? falls back on undefined or null, ??? on undefined only', async () => {
    expect(await r("{{ inputs.missing ?? 'd' }}|{{ inputs.nothing ?? 'd' }}|{{ inputs.taxi ?? 'd' }}")).toBe('d|d|yellow');
    expect(await r("{{ inputs.missing ??? 'd' }}|{{ inputs.nothing ??? 'd' }}")).toBe('d|');
    expect(await r("{{ unknown.deep.path ?? other ?? 'last' }}")).toBe('last');
    expect(await r("{{inputs.missing??'d e'}}|{{inputs.flag?'y':'n'}}|{{inputs.nothing???'x'}}")).toBe('d e|y|');
  });

  it('tests with is defined, is null, is empty, is not', async () => {
    expect(await r('{{ inputs.taxi is defined }} {{ inputs.missing is defined }} {{ inputs.missing is not defined }}')).toBe('true false true');
    expect(await r("{{ inputs.nothing is null }} {{ inputs.taxi is not null }} {{ '  ' is empty }} {{ [] is empty }} {{ inputs.cols is empty }}")).toBe(
      'true true true true false',
    );
    expect(await r('{{ 4 is even }} {{ 3 is odd }} {{ inputs.cols is iterable }} {{ inputs is map }}')).toBe('true true true true');
    expect(await r('{{ \'{"a":1}\' is json }} {{ \'nope\' is json }}')).toBe('true false');
  });

  it('supports contains and in', async () => {
    expect(await r("{{ inputs.cols contains 'brand' }} {{ 'hello' contains 'ell' }} {{ inputs contains 'taxi' }} {{ inputs.cols contains ['price', 'brand'] }}")).toBe(
      'true true true true',
    );
    expect(await r("{{ 'brand' in inputs.cols }} {{ 'x' in inputs.cols }} {{ 3 in ['3'] }} {{ 'x' not in inputs.cols }}")).toBe('true false true true');
  });

  it('builds ranges and literals', async () => {
    expect(await r('{{ 1..3 }} {{ [1, 2][1] }} {{ {"k": "v"}.k }}')).toBe('[1,2,3] 2 v');
    expect(await r('{% for i in 0..2 %}{{ i }}{% endfor %}')).toBe('012');
    expect(await r("{{ {'a': {'b': [1]}} }}|{% set m = {'x': {'y': 2}} %}{{ m.x.y }}")).toBe('{"a":{"b":[1]}}|2');
  });

  it('evaluates map keys as expressions, as Pebble does', async () => {
    expect(await r("{{ {inputs.taxi: 1} }}")).toBe('{"yellow":1}');
    await expect(r('{{ {not_defined: 1} }}')).rejects.toBeInstanceOf(UndefinedVariableError);
  });

  it('resolves Java-style attributes and methods', async () => {
    expect(await r("{{ inputs.cols.size }} {{ inputs.cols.size() }} {{ inputs.taxi.length() }} {{ inputs.taxi.toUpperCase() }} {{ inputs.taxi.substring(1, 3) }}")).toBe(
      '2 2 6 YELLOW el',
    );
    expect(await r("{{ outputs.t.vars.containsKey('k') }} {{ inputs.cols.get(0) }} {{ inputs.cols[0] }} {{ inputs.cols['1'] }}")).toBe('true brand brand price');
  });
});

describe('strict variables', () => {
  it('names the missing path and the expression, Kestra style', async () => {
    const err = await renderError('{{ inputs.foo }}');
    expect(err).toBeInstanceOf(UndefinedVariableError);
    expect(err.message).toBe('Unable to find `inputs.foo` used in the expression `{{ inputs.foo }}` at line 1');
    expect(err.line).toBe(1);
    expect(err.column).toBe(4);
  });

  it('fails on an undefined root variable, attribute of null, or out-of-range index', async () => {
    expect((await renderError('{{ nope }}')).message).toContain('`nope`');
    expect((await renderError('{{ inputs.nothing.deeper }}')).message).toContain('`inputs.nothing.deeper`');
    expect((await renderError('{{ inputs.cols[5] }}')).message).toContain('`inputs.cols[5]`');
  });

  it('shows evaluated dynamic keys in the missing path', async () => {
    const err = await renderError("{{ outputs.extract.outputFiles[inputs.taxi ~ '.csv'] }}");
    expect(err.message).toContain("`outputs.extract.outputFiles['yellow.csv']`");
  });

  it('reports the line of the failing expression in a multi-line template', async () => {
    const err = await renderError('line one\n\nvalue: {{ inputs.nope }}');
    expect(err.line).toBe(3);
    expect(err.message).toContain('at line 3');
  });

  it('renders a defined null without error', async () => {
    expect(await r('[{{ inputs.nothing }}]')).toBe('[]');
  });

  it('does not let ?? swallow errors that are not missing variables', async () => {
    expect((await renderError("{{ (1 / 0) ?? 'x' }}")).message).toContain('/ by zero');
  });
});

describe('statements', () => {
  it('runs if / elseif / else', async () => {
    const t = "{% if inputs.count > 5 %}big{% elseif inputs.count > 2 %}medium{% else %}small{% endif %}";
    expect(await r(t)).toBe('medium');
    // Pebble casts strings to booleans by emptiness and numbers by zero.
    expect(await r("{% if 'false' %}a{% endif %}{% if '' %}b{% endif %}{% if 0 %}c{% endif %}{% if 2 %}d{% endif %}")).toBe('ad');
  });

  it('loops over lists and maps with Pebble loop variables', async () => {
    expect(await r('{% for c in inputs.cols %}{{ loop.index }}/{{ loop.length }}:{{ c }}{% if loop.last %}.{% endif %} {% endfor %}')).toBe(
      '0/2:brand 1/2:price. ',
    );
    expect(await r("{% for e in {'a': 1, 'b': 2} %}{{ e.key }}={{ e.value }};{% endfor %}")).toBe('a=1;b=2;');
    expect(await r("{% for k, v in {'a': 1} %}{{ k }}{{ v }}{% endfor %}")).toBe('a1');
    expect(await r('{% for x in [] %}x{% else %}empty{% endfor %}')).toBe('empty');
  });

  it('sets variables and defines macros', async () => {
    expect(await r("{% set greeting = 'hi ' ~ inputs.taxi %}{{ greeting }}")).toBe('hi yellow');
    expect(await r("{% macro tag(name, suffix='!') %}<{{ name }}{{ suffix }}>{% endmacro %}{{ tag('a') }}{{ tag('b', '?') }}")).toBe('<a!><b?>');
  });

  it('applies filter blocks', async () => {
    expect(await r('{% filter upper %}hello {{ inputs.taxi }}{% endfilter %}')).toBe('HELLO YELLOW');
  });
});

describe('syntax errors', () => {
  it('reports line and column without rendering', () => {
    expect(checkTemplateSyntax('{{ inputs.taxi }}')).toBeNull();
    expect(checkTemplateSyntax('no template at all')).toBeNull();
    const err = checkTemplateSyntax('first line\nsecond {{ inputs.taxi + }}');
    expect(err).not.toBeNull();
    expect(err!.line).toBe(2);
    expect(err!.column).toBe(25);
  });

  it('reports an unclosed expression at the end of the template', () => {
    const err = checkTemplateSyntax('abc {{ inputs.taxi');
    expect(err).not.toBeNull();
    expect(err!.line).toBe(1);
  });

  it('rejects unknown filters, tests and tags that Kestra removes', () => {
    expect(checkTemplateSyntax("{{ x | nosuchfilter }}")!.message).toContain('Filter [nosuchfilter] does not exist.');
    expect(checkTemplateSyntax('{{ x is purple }}')!.message).toContain('Test [purple] does not exist.');
    expect(checkTemplateSyntax("{% include 'x' %}")!.message).toContain('Unknown tag "include"');
    expect(checkTemplateSyntax('{{ a ? b }}')!.message).toContain('expected ":"');
  });

  it('throws TemplateError from render with position', async () => {
    const err = await renderError('{{ 1 + }}');
    expect(err.line).toBe(1);
    expect(err.column).toBe(8);
  });

  it('reports an unknown function at render time', async () => {
    expect((await renderError('{{ nope() }}')).message).toContain('Function or Macro [nope] does not exist.');
  });

  it('reports input the parser leaves holes in as a syntax error, not a crash (found by test/hardening/template-fuzz)', async () => {
    expect((await renderError('{{|.@}}')).message).toBe('An expression is missing ({{|.@}})');
    expect((await renderError('{{|()}}')).message).toBe('Invalid template syntax ({{|()}}:1)');
    expect(checkTemplateSyntax('{{|()}}')!.message).toBe('Invalid template syntax ({{|()}}:1)');
  });
});

describe('render recursion', () => {
  it('render() renders until stable and renderOnce() / render(x, false) do one pass', async () => {
    const variables = { ...seed, vars: { a: '{{ vars.b }}', b: '{{ vars.c }}', c: 'end' } };
    expect(await r('{{ render(vars.a) }}', variables)).toBe('end');
    expect(await r('{{ renderOnce(vars.a) }}', variables)).toBe('{{ vars.c }}');
    expect(await r('{{ render(vars.a, false) }}', variables)).toBe('{{ vars.c }}');
    expect(await r('{{ render(vars.a, recursive=false) }}', variables)).toBe('{{ vars.c }}');
  });

  it('stops after 100 passes with "Too many rendering attempts"', async () => {
    const variables = { vars: { grow: "{{ '{{ vars.grow }}' ~ 'x' }}" } };
    const err = await renderError('{{ render(vars.grow) }}', variables);
    expect(err.message).toBe('Too many rendering attempts');
  });

  it('does not let ?? hide a missing variable inside render()', async () => {
    const variables = { vars: { bad: '{{ missing }}' } };
    const err = await renderError("{{ render(vars.bad) ?? 'fallback' }}", variables);
    expect(err).not.toBeInstanceOf(UndefinedVariableError);
    expect(err.message).toContain('`missing`');
  });

  it('rejects a non-string template argument', async () => {
    expect((await renderError('{{ render(inputs.count) }}')).message).toContain("expects an argument 'template' with type string");
  });
});

describe('async services', () => {
  const kvStore = new Map<string, unknown>([
    ['company.team/GCP_PROJECT_ID', 'my-project'],
    ['company/SHARED', 'from-parent'],
    ['other/KEY', { nested: true }],
  ]);
  const services: TemplateServices = {
    async kv(key, namespace, errorOnMissing) {
      const ns = namespace ?? 'company.team';
      if (kvStore.has(`${ns}/${key}`)) return kvStore.get(`${ns}/${key}`);
      return errorOnMissing ? undefined : null;
    },
    async secret(name) {
      return ({ API_TOKEN: 's3cr3t', JSON_SECRET: '{"user":"bob","port":5432}' } as Record<string, string>)[name];
    },
    async read(path) {
      if (path === 'queries/q.sql') return 'SELECT 1';
      throw new Error(`file not found: ${path}`);
    },
    async fileSize(uri) {
      return uri.length;
    },
  };

  it('kv() reads values, by namespace, with errorOnMissing', async () => {
    expect(await r("{{ kv('GCP_PROJECT_ID') }}", seed, services)).toBe('my-project');
    expect(await r("{{ kv('KEY', 'other') }}", seed, services)).toBe('{"nested":true}');
    expect(await r("[{{ kv('NOPE', errorOnMissing=false) }}]", seed, services)).toBe('[]');
    expect(await r("{{ kv('NOPE', errorOnMissing=false) ?? 'dflt' }}", seed, services)).toBe('dflt');
    const err = await renderError("{{ kv('NOPE') }}", seed, services);
    expect(err.message).toContain("The key 'NOPE' does not exist in the namespace 'company.team'.");
  });

  it('secret() returns the value, sub-keys of JSON secrets, and fails when missing', async () => {
    expect(await r("{{ secret('API_TOKEN') }}", seed, services)).toBe('s3cr3t');
    expect(await r("{{ secret('JSON_SECRET', subkey='port') }}", seed, services)).toBe('5432');
    expect((await renderError("{{ secret('MISSING') }}", seed, services)).message).toContain("secret 'MISSING' not found");
  });

  it('read() and fileSize() go through the services', async () => {
    expect(await r("{{ read('queries/q.sql') }}", seed, services)).toBe('SELECT 1');
    expect(await r("{{ fileSize('kestra:///a/b') }}", seed, services)).toBe('13');
    expect((await renderError("{{ read('nope') }}", seed, services)).message).toContain('file not found: nope');
  });

  it('render() of a string that calls kv() works', async () => {
    const variables = { ...seed, vars: { project: "{{ kv('GCP_PROJECT_ID') }}-{{ inputs.year }}" } };
    expect(await r('{{ render(vars.project) }}', variables, services)).toBe('my-project-2019');
  });

  it('fails clearly when a service is not provided', async () => {
    expect((await renderError("{{ kv('X') }}", seed, {})).message).toContain("The 'kv' function is not available");
  });
});

describe('renderValue', () => {
  it('walks lists and maps, rendering strings and keys and keeping other scalars', async () => {
    const value = { '{{ inputs.taxi }}_key': ['{{ inputs.year }}', 5, true, null, { n: '{{ inputs.month }}' }], plain: 'x' };
    expect(await renderValue(value, seed)).toEqual({ yellow_key: ['2019', 5, true, null, { n: '01' }], plain: 'x' });
  });
});

describe('renderTyped', () => {
  it('keeps native types for a lone expression', async () => {
    expect(await renderTyped('{{ inputs.cols }}', seed)).toEqual(['brand', 'price']);
    expect(await renderTyped('{{ inputs.count + 1 }}', seed)).toBe(4);
    expect(await renderTyped('{{ inputs.flag }}', seed)).toBe(true);
    expect(await renderTyped('{{ inputs.nothing }}', seed)).toBeNull();
    expect(await renderTyped("{{ {'a': [1]} }}", seed)).toEqual({ a: [1] });
  });

  it('renders to a string otherwise', async () => {
    expect(await renderTyped('n={{ inputs.count }}', seed)).toBe('n=3');
    expect(await renderTyped(' {{ inputs.count }}', seed)).toBe(' 3');
    expect(await renderTyped('plain', seed)).toBe('plain');
  });
});

describe('compiled template cache', () => {
  it('a cached template never carries values from one render to the next', async () => {
    const template = '{{ inputs.taxi }}_tripdata_{{ inputs.year }}.csv';
    expect(await renderTemplate(template, { inputs: { taxi: 'yellow', year: 2019 } })).toBe('yellow_tripdata_2019.csv');
    expect(await renderTemplate(template, { inputs: { taxi: 'green', year: 2020 } })).toBe('green_tripdata_2020.csv');
    await expect(renderTemplate(template, { inputs: { taxi: 'green' } })).rejects.toThrow(/inputs.year/);
  });
});
