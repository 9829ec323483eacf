/**
 * Issue #12, templates: whatever a flow or a webhook body puts in a template, rendering ends with a
 * string or a typed error (TemplateError, or LimitExceededError naming the limit) — never another
 * kind of exception, never a hang, never a crash. Templates are drawn from Pebble's own vocabulary
 * (tags, operators, every filter and function) so most of them parse and reach evaluation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LimitExceededError } from '../../config/index.ts';
import { TemplateError, checkTemplateSyntax, renderTemplate, renderTyped, renderValue, type TemplateServices } from '../../engine/template/index.ts';

const FILTERS = [
  'abbreviate', 'abs', 'capitalize', 'default', 'first', 'last', 'join', 'length', 'lower', 'upper', 'trim', 'title', 'merge',
  'numberFormat', 'reverse', 'slice', 'sort', 'rsort', 'split', 'urlencode', 'base64encode', 'base64decode', 'sha256', 'md5', 'sha1',
  'sha512', 'urldecode', 'slugify', 'startsWith', 'endsWith', 'substringBefore', 'substringBeforeLast', 'substringAfter',
  'substringAfterLast', 'indent', 'nindent', 'replace', 'escapeChar', 'toJson', 'json', 'jsonEncode', 'yaml', 'keys', 'values',
  'number', 'flatten', 'chunk', 'distinct', 'jq', 'date', 'dateAdd', 'timestamp', 'timestampMilli', 'timestampMicro', 'timestampNano',
];
const FUNCTIONS = [
  'render', 'renderOnce', 'kv', 'secret', 'read', 'fileSize', 'fromJson', 'json', 'jsonDecode', 'yaml', 'now', 'currentEachOutput',
  'uuid', 'id', 'printContext', 'randomInt', 'range', 'max', 'min',
];
const TESTS = ['defined', 'null', 'none', 'empty', 'even', 'odd', 'iterable', 'map', 'json'];
const NAMES = ['a', 'b', 'list', 'map', 'text', 'n', 'trigger', 'x', 'loop'];
const OPERATORS = ['~', '+', '-', '*', '/', '//', '%', '**', '==', '!=', '<', '>', '<=', '>=', 'and', 'or', 'in', 'contains', '??', '???', '..'];

/** Small limits, so a hostile template reaches them within the few seconds this suite may take. */
const services: TemplateServices = {
  limits: { ...DEFAULT_LIMITS, templateEvalMs: 300, templateOutputChars: 200_000, templateRenderDepth: 5 },
  kv: async (key) => (key === 'a' ? '{{ kv("a") }}' : null),
  secret: async (name) => (name === 'a' ? 's3cret' : undefined),
  read: async (path) => `read ${path} {{ read('${path}') }}`,
  fileSize: async () => 10,
};

const { expr: expression } = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...NAMES),
    fc.integer({ min: -3, max: 2000 }).map(String),
    fc.constantFrom("'a'", "'{{ text }}'", "'x,y'", "''", "'\\\\d+'", "'.'", "'(a+)+b'", 'true', 'false', 'null', '1.5'),
    tie('expr').chain((left) => fc.tuple(fc.constantFrom(...OPERATORS), tie('expr')).map(([op, right]) => `${left} ${op} ${right}`)),
    fc.tuple(tie('expr'), fc.constantFrom(...FILTERS), fc.array(tie('expr'), { maxLength: 2 })).map(([input, name, args]) => `${input} | ${name}${args.length ? `(${args.join(', ')})` : ''}`),
    fc.tuple(fc.constantFrom(...FUNCTIONS), fc.array(tie('expr'), { maxLength: 3 })).map(([name, args]) => `${name}(${args.join(', ')})`),
    fc.tuple(tie('expr'), fc.constantFrom(...TESTS), fc.boolean()).map(([input, name, not]) => `${input} is ${not ? 'not ' : ''}${name}`),
    fc.array(tie('expr'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
    fc.array(fc.tuple(fc.constantFrom("'k'", "'l'", 'n'), tie('expr')), { maxLength: 2 }).map((pairs) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
    fc.tuple(tie('expr'), fc.constantFrom(...NAMES, 'size', 'length', 'keySet', 'substring(1)', 'split(",")', 'concat(text)')).map(([target, name]) => `${target}.${name}`),
    fc.tuple(tie('expr'), tie('expr')).map(([target, key]) => `${target}[${key}]`),
    fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, a, b]) => `(${c} ? ${a} : ${b})`),
    tie('expr').map((e) => `(${e})`),
    tie('expr').map((e) => `not ${e}`),
  ),
}));

const { template } = fc.letrec((tie) => ({
  template: fc
    .array(
      fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.string({ maxLength: 6 }),
        expression.map((e) => `{{ ${e} }}`),
        fc.tuple(fc.constantFrom('x', 'k, v'), expression, tie('template')).map(([names, e, body]) => `{% for ${names} in ${e} %}${body}{% endfor %}`),
        fc.tuple(expression, tie('template'), tie('template')).map(([c, a, b]) => `{% if ${c} %}${a}{% else %}${b}{% endif %}`),
        expression.map((e) => `{% set x = ${e} %}`),
        tie('template').map((body) => `{% macro m(x) %}${body}{{ m(x) }}{% endmacro %}{{ m(1) }}`),
        tie('template').map((body) => `{% raw %}${body}{% endraw %}`),
        // Pebble's vocabulary in any order: mostly syntax errors, which must be TemplateErrors too.
        fc.array(fc.constantFrom('{{', '}}', '{%', '%}', '{#', '#}', '(', ')', '[', ']', '{', '}', ',', ':', '|', 'for', 'in', 'endfor', 'if', 'endif', 'set', '=', ...NAMES, ...FILTERS.slice(0, 8), ...OPERATORS), { maxLength: 12 }).map((tokens) => tokens.join(' ')),
      ),
      { maxLength: 4 },
    )
    .map((parts) => parts.join('')),
}));

/** Variables as a flow sees them: JSON values, text that is itself a template, webhook bodies. */
const variables = fc.record({
  a: fc.jsonValue({ maxDepth: 3 }),
  b: fc.jsonValue({ maxDepth: 3 }),
  list: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  map: fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  text: fc.oneof(fc.string({ maxLength: 20 }), template),
  n: fc.oneof(fc.integer(), fc.double()),
  trigger: fc.record({ body: fc.oneof(fc.jsonValue({ maxDepth: 3 }), template) }),
});

/** The only ways a render may fail. */
function expectTypedError(err: unknown): void {
  if (err instanceof TemplateError || err instanceof LimitExceededError) return;
  throw new Error(`a render threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err });
}

/** A fixed seed keeps CI reproducible; FUZZ_SEED and FUZZ_RUNS explore further by hand. */
const RUNS = { numRuns: Number(process.env.FUZZ_RUNS ?? 400), seed: Number(process.env.FUZZ_SEED ?? 1207) } as const;

describe('template engine, property-based', () => {
  it('renderTemplate gives a string or a TemplateError / LimitExceededError', async () => {
    await fc.assert(
      fc.asyncProperty(template, variables, async (source, vars) => {
        try {
          expect(typeof (await renderTemplate(source, vars, services))).toBe('string');
        } catch (err) {
          expectTypedError(err);
        }
      }),
      RUNS,
    );
  }, 60_000);

  it('renderTyped and renderValue fail only with the same two types; checkTemplateSyntax never throws', async () => {
    await fc.assert(
      fc.asyncProperty(template, variables, async (source, vars) => {
        expect(() => checkTemplateSyntax(source)).not.toThrow();
        await renderTyped(source, vars, services).catch(expectTypedError);
        await renderValue({ [source]: [source, { k: source }] }, vars, services).catch(expectTypedError);
      }),
      { ...RUNS, numRuns: Math.ceil(RUNS.numRuns / 2) },
    );
  }, 60_000);

  it('arbitrary text renders or fails with a TemplateError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), variables, async (source, vars) => {
        await renderTemplate(`{${source}}`, vars, services).catch(expectTypedError);
        await renderTemplate(`{{${source}}}`, vars, services).catch(expectTypedError);
        await renderTemplate(`{%${source}%}`, vars, services).catch(expectTypedError);
      }),
      RUNS,
    );
  }, 60_000);
});
