import { describe, expect, it } from 'vitest';
import { TemplateError, renderTemplate, renderTyped } from './index.ts';

const vars = {
  list: [3, 1, 2],
  words: ['b', 'a'],
  nested: [[1, 2], [3], 4],
  map: { a: 1, b: 2 },
  text: 'hello world',
  nothing: null,
};

const r = (template: string, variables: Record<string, unknown> = vars) => renderTemplate(template, variables);
const typed = (template: string, variables: Record<string, unknown> = vars) => renderTyped(template, variables);

async function failure(template: string): Promise<string> {
  try {
    await renderTemplate(template, vars);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return (err as Error).message;
  }
  throw new Error(`expected ${template} to fail`);
}

describe('Pebble core filters', () => {
  it('abbreviate', async () => {
    expect(await r("{{ 'this is a long sentence' | abbreviate(7) }}")).toBe('this...');
    expect(await r("{{ 'abc' | abbreviate(2) }} {{ 'abcdef' | abbreviate(3) }} {{ 'short' | abbreviate(10) }}")).toBe('abc abc short');
  });

  it('abs', async () => {
    expect(await r('{{ -5 | abs }} {{ -2.5 | abs }}')).toBe('5 2.5');
    expect(await failure("{{ 'x' | abs }}")).toContain("The 'abs' filter expects a number");
  });

  it('capitalize and title', async () => {
    expect(await r("{{ '  hello world' | capitalize }}|{{ 'hello big world' | title }}")).toBe('  Hello world|Hello Big World');
  });

  it('default replaces null, blank, empty and undefined values', async () => {
    expect(await r("{{ nothing | default('d') }} {{ '' | default('d') }} {{ '  ' | default('d') }} {{ [] | default('d') }} {{ undefinedVar | default('d') }}")).toBe(
      'd d d d d',
    );
    expect(await r("{{ 'x' | default('d') }} {{ 0 | default('d') }} {{ map.zzz | default('none') }}")).toBe('x 0 none');
  });

  it('first and last', async () => {
    expect(await r("{{ list | first }} {{ list | last }} {{ 'abc' | first }} {{ 'abc' | last }} [{{ [] | first }}]")).toBe('3 2 a c []');
  });

  it('join', async () => {
    expect(await r("{{ [1, 'a', null] | join(',') }}|{{ words | join }}")).toBe('1,a,null|ba');
    expect(await failure("{{ 'x' | join(',') }}")).toContain("The 'join' filter expects that the input is either a collection or an array.");
  });

  it('length', async () => {
    expect(await r("{{ 'abc' | length }} {{ list | length }} {{ map | length }} {{ nothing | length }} {{ 5 | length }}")).toBe('3 3 2 0 0');
  });

  it('lower, upper and trim', async () => {
    expect(await r("{{ 'AbC' | lower }} {{ 'AbC' | upper }} [{{ '  x \n' | trim }}]")).toBe('abc ABC [x]');
  });

  it('merge', async () => {
    expect(await r("{{ [1] | merge([2, 3]) }} {{ map | merge({'c': 3}) }}")).toBe('[1,2,3] {"a":1,"b":2,"c":3}');
  });

  it('numberFormat follows DecimalFormat patterns with half-even rounding', async () => {
    expect(await r("{{ 1234.5678 | numberFormat('#,##0.00') }} {{ 0.125 | numberFormat('0.00') }} {{ 0.5 | numberFormat('#.##') }} {{ 0.256 | numberFormat('#%') }}")).toBe(
      '1,234.57 0.12 .5 26%',
    );
    expect(await r("{{ -3 | numberFormat('000') }} {{ 1234567 | numberFormat('#,###') }}")).toBe('-003 1,234,567');
  });

  it('reverse, sort and rsort', async () => {
    expect(await r('{{ list | reverse }} {{ list | sort }} {{ list | rsort }} {{ words | sort }}')).toBe('[2,1,3] [1,2,3] [3,2,1] ["a","b"]');
    expect(await r('{{ list }}')).toBe('[3,1,2]');
  });

  it('slice', async () => {
    expect(await r("{{ 'abcdef' | slice(1, 3) }} {{ [1, 2, 3, 4] | slice(2) }}")).toBe('bc [3,4]');
    expect(await failure('{{ list | slice(0, 9) }}')).toContain('toIndex must be smaller than input size: 3');
  });

  it('split uses Java regex semantics and drops trailing empty strings', async () => {
    expect(await r("{{ 'a,b,,c,,' | split(',') }} {{ 'a1b22c' | split('[0-9]+') }} {{ 'a,b,c' | split(',', 2) }}")).toBe(
      '["a","b","","c"] ["a","b","c"] ["a","b,c"]',
    );
    expect(await typed("{{ 'x-y' | split('-') }}")).toEqual(['x', 'y']);
  });

  it('urlencode and urldecode', async () => {
    expect(await r("{{ 'a b&c=d/é' | urlencode }}")).toBe('a+b%26c%3Dd%2F%C3%A9');
    expect(await r("{{ 'a+b%26c%3Dd%2F%C3%A9' | urldecode }}")).toBe('a b&c=d/é');
  });

  it('base64encode and base64decode', async () => {
    expect(await r("{{ 'hello' | base64encode }} {{ 'aGVsbG8=' | base64decode }}")).toBe('aGVsbG8= hello');
  });
});

describe('Kestra filters', () => {
  it('md5, sha1, sha256, sha512', async () => {
    expect(await r("{{ 'hello' | md5 }}")).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(await r("{{ 'hello' | sha1 }}")).toBe('aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d');
    expect(await r("{{ 'hello' | sha256 }}")).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(await r("{{ 'hello' | sha512 }}")).toBe(
      '9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043',
    );
    expect(await failure('{{ 5 | md5 }}')).toContain('Need a string to hash');
  });

  it('slugify', async () => {
    expect(await r("{{ 'Hello World! Été_2024' | slugify }}")).toBe('hello-world-ete-2024');
    expect(await r("{{ '--a  b--' | slugify }}")).toBe('a-b');
  });

  it('startsWith and endsWith', async () => {
    expect(await r("{{ text | startsWith('hello') }} {{ text | startsWith('world') }} {{ text | endsWith('world') }}")).toBe('true false true');
  });

  it('substringBefore, substringBeforeLast, substringAfter, substringAfterLast', async () => {
    expect(await r("{{ 'a.b.c' | substringBefore('.') }} {{ 'a.b.c' | substringBeforeLast('.') }} {{ 'a.b.c' | substringAfter('.') }} {{ 'a.b.c' | substringAfterLast('.') }}")).toBe(
      'a a.b b.c c',
    );
    expect(await r("[{{ 'abc' | substringBefore('x') }}][{{ 'abc' | substringAfter('x') }}][{{ 'abc' | substringBeforeLast('x') }}][{{ 'abc' | substringAfterLast('x') }}]")).toBe(
      '[abc][][abc][]',
    );
    expect(await failure('{{ text | substringBefore }}')).toContain("expects an argument 'separator'");
  });

  it('indent and nindent', async () => {
    expect(await r("{{ 'a\nb' | indent(2) }}")).toBe('a\n  b');
    expect(await r("{{ 'a\nb' | nindent(2) }}")).toBe('\n  a\n  b');
    expect(await r("{{ 'a\r\nb' | indent(1, '-') }}")).toBe('a\r\n-b');
    expect(await failure("{{ 'a' | indent }}")).toContain("The 'indent' filter expects an integer as argument 'amount'.");
  });

  it('replace takes a map of replacements, optionally regular expressions', async () => {
    expect(await r("{{ text | replace({'o': '0', 'l': '1'}) }}")).toBe('he110 w0r1d');
    expect(await r("{{ 'a1b22' | replace({'[0-9]+': '#'}, regexp=true) }}")).toBe('a#b#');
    expect(await r("{{ ['ab', 'b'] | replace({'b': 'c'}) }}")).toBe('["ac","c"]');
    expect(await failure("{{ text | replace('o', '0') }}")).toContain("must be a map");
  });

  it('escapeChar', async () => {
    expect(await r(`{{ "it's" | escapeChar('single') }}|{{ "it's" | escapeChar('shell') }}|{{ 'say "hi"' | escapeChar('double') }}`)).toBe(
      `it\\'s|it'\\''s|say \\"hi\\"`,
    );
    expect(await failure("{{ 'x' | escapeChar('triple') }}")).toContain("either 'single', 'double', or 'shell'");
  });

  it('toJson (and the deprecated json)', async () => {
    expect(await r("{{ 'x' | toJson }} {{ 1 | toJson }} {{ 1.5 | toJson }} {{ list | toJson }} {{ map | json }} {{ nothing | toJson }} {{ true | toJson }}")).toBe(
      '"x" 1 1.5 [3,1,2] {"a":1,"b":2} null true',
    );
    expect(await r("{{ {'a': null, 'b': 1} | toJson }} {{ {'a': null} | toJson(includeNulls=true) }}")).toBe('{"b":1} {"a":null}');
    expect(await r("{{ {'empty_object': {}} | toJson }}")).toBe('{"empty_object":{}}');
  });

  it('yaml', async () => {
    expect(await r("{{ {'a': 1, 'b': ['x', 'y']} | yaml }}")).toBe('a: 1\nb:\n- x\n- y\n');
  });

  it('keys and values', async () => {
    expect(await r('{{ map | keys }} {{ [5, 6] | keys }} {{ map | values }}')).toBe('["a","b"] [0,1] [1,2]');
    expect(await failure("{{ 'x' | keys }}")).toContain("'keys' filter can only be applied to List, Map, Array");
  });

  it('number', async () => {
    expect(await typed("{{ '42' | number }}")).toBe(42);
    expect(await typed("{{ '3.14' | number }}")).toBe(3.14);
    expect(await typed("{{ '0x1F' | number }}")).toBe(31);
    expect(await r("{{ ('42' | number) + 1 }} {{ '7' | number('LONG') }}")).toBe('43 7');
    expect(await failure("{{ 'abc' | number }}")).toContain('abc is not a valid number.');
    expect(await failure("{{ '3.5' | number('INT') }}")).toContain('For input string');
    expect(await failure('{{ 5 | number }}')).toContain("'number' filter can only be applied to String");
  });

  it('flatten, chunk and distinct', async () => {
    expect(await r('{{ nested | flatten }} {{ [1, 2, 3, 4, 5] | chunk(2) }} {{ [1, 2, 1, 3, 2] | distinct }}')).toBe('[1,2,3,4] [[1,2],[3,4],[5]] [1,2,3]');
    expect(await failure('{{ list | chunk }}')).toContain("'chunk' filter expects an argument 'size'.");
    expect(await failure("{{ 'x' | flatten }}")).toContain("The 'flatten' filter can only be applied to lists.");
  });

  it('jq returns a list of results', async () => {
    const data = { rows: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }] };
    expect(await r("{{ data | jq('.rows[].id') }}", { data })).toBe('[1,2]');
    expect(await r("{{ data | jq('.rows | length') | first }}", { data })).toBe('2');
    expect(await r("{{ data | jq('.rows[] | select(.id > 1) | .name') }}", { data })).toBe('["b"]');
    expect(await r("{{ data | jq('.missing // \"d\"') }}", { data })).toBe('["d"]');
    expect(await r("{{ data | jq('.rows | map(.name) | join(\"-\")') | first }}", { data })).toBe('a-b');
    expect(await r('{{ \'{"a": {"b": 5}}\' | jq(\'.a.b\') }}', {})).toBe('[5]');
    expect(await r("{{ data | jq('.rows[0] | keys') | first }}", { data })).toBe('["id","name"]');
    await expect(r("{{ data | jq('.rows[') }}", { data })).rejects.toThrow(/Failed to resolve JQ expression/);
  });
});
