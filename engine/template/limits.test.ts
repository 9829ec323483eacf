import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LimitExceededError, type Limits } from '../../config/index.ts';
import { TemplateError, renderTemplate, renderTyped, renderValue, type TemplateServices } from './index.ts';

const withLimits = (limits: Partial<Limits>, services: TemplateServices = {}): TemplateServices => ({ ...services, limits: { ...DEFAULT_LIMITS, ...limits } });

async function limitError(render: Promise<unknown>): Promise<LimitExceededError> {
  const err = await render.then(
    (value) => new Error(`expected a limit to be reached, got ${String(value).slice(0, 80)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LimitExceededError);
  return err as LimitExceededError;
}

/** The webhook body of issue #12: a greeting that renders itself. */
const SELF_RENDERING = '{{ render(trigger.body.greeting) }}';
const attack = { trigger: { body: { greeting: SELF_RENDERING } } };

describe('templateRenderDepth', () => {
  it('stops text that calls render() on itself, naming the limit and its variable', async () => {
    const err = await limitError(renderTemplate(SELF_RENDERING, attack));
    expect(err.limit).toBe('templateRenderDepth');
    expect(err.message).toBe(
      "render() nested 11 deep in the template '{{ render(trigger.body.greeting) }}' (rendered text that calls render() again): " +
        'exceeds the limit of 10 (raise it with BATON_LIMIT_TEMPLATE_RENDER_DEPTH)',
    );
  });

  it('stops it through renderOnce(), render(x, false), renderTyped and renderValue too', async () => {
    const once = { trigger: { body: { greeting: '{{ renderOnce(trigger.body.greeting) }}' } } };
    await limitError(renderTemplate('{{ renderOnce(trigger.body.greeting) }}', once));
    const flat = { trigger: { body: { greeting: '{{ render(trigger.body.greeting, false) }}' } } };
    await limitError(renderTemplate('{{ render(trigger.body.greeting, false) }}', flat));
    await limitError(renderTyped(SELF_RENDERING, attack));
    await limitError(renderValue({ message: [SELF_RENDERING] }, attack));
  });

  it('takes the limit from the services given to the renderer', async () => {
    const err = await limitError(renderTemplate(SELF_RENDERING, attack, withLimits({ templateRenderDepth: 3 })));
    expect(err.message).toContain('render() nested 4 deep');
    expect(err.message).toContain('limit of 3 (raise it with BATON_LIMIT_TEMPLATE_RENDER_DEPTH)');
  });

  it('allows render() nested as deep as the limit', async () => {
    // The template renders l0, l0 renders l1, … l8 renders l9: ten nested render() calls.
    const vars = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`l${i}`, i < 9 ? `{{ render(vars.l${i + 1}) }}` : 'bottom']));
    expect(await renderTemplate('{{ render(vars.l0) }}', { vars })).toBe('bottom');
    await limitError(renderTemplate('{{ render(vars.l0) }}', { vars }, withLimits({ templateRenderDepth: 9 })));
  });

  it('stops a macro that calls itself without end with a TemplateError', async () => {
    const err = await renderTemplate('{% macro loop(n) %}{{ loop(n + 1) }}{% endmacro %}{{ loop(0) }}', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toContain("Macro calls nest more than 1000 deep at 'loop'");
    // A recursive macro that ends is fine.
    const countdown = '{% macro down(n) %}{{ n }}{% if n > 0 %},{{ down(n - 1) }}{% endif %}{% endmacro %}{{ down(200) }}';
    expect((await renderTemplate(countdown, {})).split(',')).toHaveLength(201);
  });
});

describe('templateOutputChars', () => {
  const small = withLimits({ templateOutputChars: 1000 });

  it('fails a render whose output grows past the limit, and allows one exactly at it', async () => {
    expect(await renderTemplate('{% for i in range(1, 100) %}0123456789{% endfor %}', {}, small)).toHaveLength(1000);
    const err = await limitError(renderTemplate('{% for i in range(0, 100) %}0123456789{% endfor %}', {}, small));
    expect(err.limit).toBe('templateOutputChars');
    expect(err.message).toContain('reached 1010 characters');
    expect(err.message).toContain('limit of 1000 chars (raise it with BATON_LIMIT_TEMPLATE_OUTPUT_CHARS)');
  });

  // `set` inside a loop is local to the iteration: a macro carries a value from one step to the next.
  const doubling = (step: string) => `{% macro double(s, n) %}{% if n > 0 %}{{ double(${step}, n - 1) }}{% else %}{{ s | length }}{% endif %}{% endmacro %}`;

  it("stops '~' doubling a string (with the default limit, long before memory runs out)", async () => {
    expect(await renderTemplate(`${doubling('s ~ s')}{{ double('ab', 10) }}`, {})).toBe('2048');
    const err = await limitError(renderTemplate(`${doubling('s ~ s')}{{ double('ab', 64) }}`, {}));
    expect(err.message).toContain("'~' in the template");
    expect(err.message).toContain('BATON_LIMIT_TEMPLATE_OUTPUT_CHARS');
  });

  it("stops '+' doubling a list or a string", async () => {
    expect(await renderTemplate(`${doubling('s + s')}{{ double([1], 10) }}`, {})).toBe('1024');
    const list = await limitError(renderTemplate(`${doubling('s + s')}{{ double([1], 64) }}`, {}, withLimits({ templateOutputChars: 100_000 })));
    expect(list.message).toContain("'+' in the template");
    expect(list.message).toContain('would hold 131072 characters or items');
    await limitError(renderTemplate(`${doubling('s + s')}{{ double('x', 64) }}`, {}));
  });

  it('sizes what a filter would build before building it: indent, join, replace, flatten', async () => {
    expect((await limitError(renderTemplate("{{ 'a' | indent(1000000000) }}", {}))).message).toContain("the indentation of the 'indent' filter");
    expect((await limitError(renderTemplate("{{ range(0, 199) | join('-----') }}", {}, small))).message).toContain("the result of the 'join' filter");
    expect((await limitError(renderTemplate("{{ 'aaaa' | replace({'a': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}) }}", {}, small))).message).toContain("the result of the 'replace' filter");
    expect((await limitError(renderTemplate('{{ [big, big, big] | flatten | length }}', { big: Array(400).fill(1) }, small))).message).toContain("the result of the 'flatten' filter");
  });

  it('fails lists made larger than the limit by range(), `..` and methods', async () => {
    expect((await limitError(renderTemplate('{{ range(0, 5000) | length }}', {}, small))).message).toContain("the function 'range'");
    expect((await limitError(renderTemplate('{{ (0..5000) | length }}', {}, small))).message).toContain("'..'");
    expect((await limitError(renderTemplate("{{ ('ab' ~ text).concat(text) }}", { text: 'x'.repeat(600) }, small))).message).toContain("the method 'concat'");
  });

  it('measures lists and maps before writing them out as JSON or text', async () => {
    const big = Array(400).fill('ab');
    expect((await limitError(renderTemplate('{{ [big, big] }}', { big }, small))).message).toContain('a value written as JSON');
    expect((await limitError(renderTemplate("{{ big ~ '' }}", { big: [big, big] }, small))).message).toContain("the left side of '~'");
    expect((await limitError(renderTemplate('{{ {"a": big, "b": big} | toJson }}', { big }, small))).message).toContain("the input of the filter 'toJson'");
    expect((await limitError(renderTemplate('{{ printContext() }}', { big, again: big }, small))).message).toContain("'printContext'");
    // A large value that is not written out costs nothing.
    expect(await renderTemplate('{{ [big, big, big] | length }}', { big }, small)).toBe('3');
  });

  it("fails a jq result larger than the limit; a jq query that fills jq's memory fails alone", async () => {
    const err = await limitError(renderTemplate("{{ {} | jq('[range(3000)]') }}", {}, small));
    expect(err.message).toContain("the output of the 'jq' filter in the template");
    const bomb = await renderTemplate('{{ {} | jq(\'reduce range(40) as $i ("x"; . + .) | length\') }}', {}).catch((e: unknown) => e);
    expect(bomb).toBeInstanceOf(TemplateError);
    expect((bomb as Error).message).toContain('Aborted');
    expect(await renderTemplate("{{ {'a': 2} | jq('.a') }}", {})).toBe('[2]');
  });

  it('sizes an execution file before read() loads it', async () => {
    const services = withLimits({ templateOutputChars: 1000 }, {
      fileSize: async () => 5_000_000_000,
      read: async () => {
        throw new Error('read() must not load a file over the limit');
      },
    });
    const err = await limitError(renderTemplate("{{ read('kestra:///ns/flow/executions/e1/huge.csv') }}", {}, services));
    expect(err.message).toContain("the file read by read('kestra:///ns/flow/executions/e1/huge.csv') in the template");
    expect(err.message).toContain('would hold 5000000000 characters');
  });
});

describe('templateEvalMs', () => {
  const quick = withLimits({ templateEvalMs: 200 });
  const trillion = '{% for i in range(1, 10000) %}{% for j in range(1, 10000) %}{% for k in range(1, 10000) %}{% endfor %}{% endfor %}{% endfor %}';

  it('ends a loop of a trillion iterations with an error naming the limit', async () => {
    const err = await limitError(renderTemplate(trillion, {}, quick));
    expect(err.limit).toBe('templateEvalMs');
    expect(err.message).toMatch(/^rendering the template '\{% for i in range\(1, 10000\) %\}.*…' took \d+ ms: exceeds the limit of 200 ms \(raise it with BATON_LIMIT_TEMPLATE_EVAL_MS\)$/);
  });

  it('ends quadratic work inside one filter or operator', async () => {
    await limitError(renderTemplate('{{ range(0, 99999) | distinct | length }}', {}, quick));
    await limitError(renderTemplate('{{ (range(0, 99999) - range(0, 99999)) | length }}', {}, quick));
    await limitError(renderTemplate('{{ range(0, 99999) contains range(0, 99999) }}', {}, quick));
  });

  it('ends recursive macros that fan out', async () => {
    const fanOut = '{% macro tree(n) %}{% if n > 0 %}{{ tree(n - 1) }}{{ tree(n - 1) }}{% endif %}{% endmacro %}{{ tree(60) }}';
    await limitError(renderTemplate(fanOut, {}, quick));
  });

  it('hands the event loop back while a long render runs', async () => {
    let timerRan = false;
    setTimeout(() => {
      timerRan = true;
    }, 0);
    let timerRanBeforeEnd = false;
    await limitError(
      renderTemplate(trillion, {}, withLimits({ templateEvalMs: 500 })).finally(() => {
        timerRanBeforeEnd = timerRan;
      }),
    );
    expect(timerRanBeforeEnd).toBe(true);
  });

  it('ends a jq query that never returns, and jq keeps working afterwards', async () => {
    for (const endless of ['until(false; .)', 'def f: f; f']) {
      const err = await limitError(renderTemplate(`{{ {} | jq('${endless}') }}`, {}, quick));
      expect(err.message).toContain('exceeds the limit of 200 ms (raise it with BATON_LIMIT_TEMPLATE_EVAL_MS)');
    }
    expect(await renderTemplate("{{ {'a': 1} | jq('.a') }}", {})).toBe('[1]');
  });

  it('matches patterns that backtrack exponentially in linear time (they cannot be interrupted)', async () => {
    const vars = { text: `${'a'.repeat(40)}!` };
    expect(await renderTemplate("{{ text | replace({'(a+)+$': 'x'}, regexp=true) }}", vars)).toBe(vars.text);
    expect(await renderTemplate("{{ text | split('(a+)+b') | length }}", vars)).toBe('1');
    expect(await renderTemplate("{{ text.matches('(a|aa)+') }}", vars)).toBe('false');
    expect(await renderTemplate("{{ text.replaceAll('(a*)*b', 'x') }}", vars)).toBe(vars.text);
  });

  it('gives renderValue one budget for the whole value', async () => {
    const slow = '{% for i in range(1, 10000) %}{% endfor %}';
    await limitError(renderValue(Array(200).fill(slow), {}, withLimits({ templateEvalMs: 100 })));
  });
});

describe('jq', () => {
  it('answers more queries than one jq-wasm instance survives (it breaks at the 313th)', async () => {
    for (let i = 0; i < 330; i++) expect(await renderTemplate("{{ x | jq('.a') }}", { x: { a: i } })).toBe(`[${i}]`);
  }, 60_000);
});
