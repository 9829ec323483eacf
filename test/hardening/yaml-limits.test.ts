/**
 * Issue #12, flows: a flow file's size, task count and nesting are limited (config/limits.ts), and each
 * limit is checked before the work it protects, so an oversized or hostile flow costs little and is
 * refused with its file, line and the variable that raises the limit.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Limits } from '../../config/index.ts';
import { formatProblem, validateFlowSource } from '../../engine/flow/index.ts';

const LOG = 'io.kestra.plugin.core.log.Log';
const SEQUENTIAL = 'io.kestra.plugin.core.flow.Sequential';

/** A flow of `n` Log tasks, one after the other. */
function flatFlow(n: number, message = 'hi'): string {
  const tasks = Array.from({ length: n }, (_, i) => `  - id: t${i}\n    type: ${LOG}\n    message: ${message}\n`);
  return `id: big\nnamespace: company.team\ntasks:\n${tasks.join('')}`;
}

/** A Log task inside `levels` nested Sequential tasks. */
function nestedFlow(levels: number): string {
  let out = 'id: deep\nnamespace: company.team\ntasks:\n';
  let indent = '  ';
  for (let level = 0; level < levels; level++) {
    out += `${indent}- id: s${level}\n${indent}  type: ${SEQUENTIAL}\n${indent}  tasks:\n`;
    indent += '    ';
  }
  return `${out}${indent}- id: leaf\n${indent}  type: ${LOG}\n${indent}  message: hi\n`;
}

const errorsOf = (source: string, limits?: Limits) =>
  validateFlowSource(source, 'flows/big.yaml', limits ? { limits } : undefined).problems.filter((p) => p.severity === 'error');

describe('flow size limits', () => {
  it('refuses a flow with more tasks than flowTasks, at 1:1, naming the count and the variable', () => {
    const errors = errorsOf(flatFlow(1_001));
    expect(errors.map(formatProblem)).toEqual([
      'flows/big.yaml:1:1: error: flow has 1001 tasks: exceeds the limit of 1000 (raise it with BATON_LIMIT_FLOW_TASKS)',
    ]);
  });

  it('accepts a flow of exactly flowTasks tasks, and counts nested and error-handler tasks too', () => {
    expect(errorsOf(flatFlow(1_000))).toEqual([]);
    const limits = { ...DEFAULT_LIMITS, flowTasks: 3 };
    const nested = `id: n\nnamespace: company.team\ntasks:\n  - id: s\n    type: ${SEQUENTIAL}\n    tasks:\n      - id: a\n        type: ${LOG}\n        message: hi\n` +
      `errors:\n  - id: e\n    type: ${LOG}\n    message: failed\n`;
    expect(errorsOf(nested, limits)).toEqual([]);
    expect(errorsOf(nested.replace('errors:\n', `errors:\n  - id: e2\n    type: ${LOG}\n    message: x\n`), limits).map((p) => p.message)).toEqual([
      'flow has 4 tasks: exceeds the limit of 3 (raise it with BATON_LIMIT_FLOW_TASKS)',
    ]);
  });

  it('a raised limit lets the same flow through', () => {
    expect(errorsOf(flatFlow(1_001), { ...DEFAULT_LIMITS, flowTasks: 2_000 })).toEqual([]);
  });

  it('counts tasks before checking any of them: a 10,000-task flow of unknown types gets one problem', () => {
    // Checked task by task, each of these would be a problem of its own.
    const source = flatFlow(10_000).replaceAll(LOG, 'io.example.Unknown');
    expect(errorsOf(source).map((p) => p.message)).toEqual(['flow has 10000 tasks: exceeds the limit of 1000 (raise it with BATON_LIMIT_FLOW_TASKS)']);
  });

  it('refuses a flow file larger than flowFileBytes before reading its YAML', () => {
    const limits = { ...DEFAULT_LIMITS, flowFileBytes: 1_000 };
    const source = flatFlow(20);
    expect(Buffer.byteLength(source)).toBeGreaterThan(1_000);
    expect(errorsOf(source, limits).map(formatProblem)).toEqual([
      `flows/big.yaml:1:1: error: flow file is ${Buffer.byteLength(source)} bytes: exceeds the limit of 1000 bytes (raise it with BATON_LIMIT_FLOW_FILE_BYTES)`,
    ]);
    // Not even YAML: the size alone refuses it.
    expect(errorsOf(`${'x'.repeat(2_000)}: [`, limits).map((p) => p.message)).toEqual([
      'flow file is 2003 bytes: exceeds the limit of 1000 bytes (raise it with BATON_LIMIT_FLOW_FILE_BYTES)',
    ]);
  });

  it('refuses tasks nested in more flowable tasks than flowNestingDepth, at the task', () => {
    expect(errorsOf(nestedFlow(20))).toEqual([]);
    const errors = errorsOf(nestedFlow(21));
    expect(errors).toHaveLength(1);
    // The leaf sits inside 21 Sequential tasks, at line 3 + 3 × 21 + 1.
    expect(formatProblem(errors[0])).toBe(
      `flows/big.yaml:67:${5 + 4 * 21}: error: task 'leaf' is nested in 21 flowable tasks: exceeds the limit of 20 (raise it with BATON_LIMIT_FLOW_NESTING_DEPTH)`,
    );
    expect(errors[0].property).toMatch(/^tasks\[0\](\.tasks\[0\]){21}$/);
    expect(errorsOf(nestedFlow(21), { ...DEFAULT_LIMITS, flowNestingDepth: 21 })).toEqual([]);
  });

  it('refuses YAML nested far deeper than any flow needs, as soon as it reads that deep', () => {
    // 500,000 open brackets: the YAML reader alone would run for seconds (and run out of memory).
    const source = `id: x\nnamespace: a.b\ntasks: ${'['.repeat(500_000)}`;
    const errors = errorsOf(source, { ...DEFAULT_LIMITS, flowFileBytes: 1_000_000 });
    // At the bracket where the reader's stack (document, top-level map, lists) passed 120: the 120th.
    expect(errors.map(formatProblem)).toEqual([
      'flows/big.yaml:3:127: error: the YAML nests more than 120 levels deep: exceeds the limit of 120 levels (6 per level of the flow nesting limit of 20; raise it with BATON_LIMIT_FLOW_NESTING_DEPTH)',
    ]);
    const blocks = Array.from({ length: 400 }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
    expect(errorsOf(blocks).map((p) => p.message)).toEqual([
      'the YAML nests more than 120 levels deep: exceeds the limit of 120 levels (6 per level of the flow nesting limit of 20; raise it with BATON_LIMIT_FLOW_NESTING_DEPTH)',
    ]);
    expect(errorsOf(`- ${'- '.repeat(300_000)}x`, { ...DEFAULT_LIMITS, flowFileBytes: 1_000_000 })[0].message).toMatch(/^the YAML nests more than 120 levels deep/);
  });
});

describe('YAML alias bombs', () => {
  const laughs = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
    'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
    'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
  ].join('\n');

  it('refuses "billion laughs" with a clear error at its first alias', () => {
    expect(errorsOf(laughs).map(formatProblem)).toEqual([
      'flows/big.yaml:2:8: error: the YAML aliases (*name) expand to too many copies (more than 1000): refused as an alias bomb ("billion laughs"); write the repeated parts out, or use fewer aliases',
    ]);
  });

  it('refuses a bomb built of merge keys the same way', () => {
    const merges = [
      'a: &a {x1: 1, x2: 2, x3: 3, x4: 4, x5: 5, x6: 6, x7: 7, x8: 8}',
      ...'bcdefgh'.split('').map((name, i) => {
        const previous = 'abcdefgh'[i];
        return `${name}: &${name} {<<: [${Array.from({ length: 8 }, () => `*${previous}`).join(', ')}], ${name}: 1}`;
      }),
    ].join('\n');
    const errors = errorsOf(merges);
    expect(errors.map((p) => p.message)).toContainEqual(expect.stringMatching(/alias bomb/));
  });

  it('refuses a value that contains itself (an alias inside its own anchor), at the alias', () => {
    const log = `type: ${LOG}, message: hi`;
    const cases: [string, string][] = [
      [`id: x\nnamespace: a.b\nvariables: &v {a: [1, *v]}\ntasks:\n  - {id: t, ${log}}\n`, '3:23 *v'],
      [`id: x\nnamespace: a.b\ntasks: &t\n  - id: s\n    type: ${SEQUENTIAL}\n    tasks: *t\n`, '6:12 *t'],
      [`id: x\nnamespace: a.b\ninputs:\n  - &i {id: a, type: JSON, defaults: *i}\ntasks:\n  - {id: t, ${log}}\n`, '4:38 *i'],
      [`id: x\nnamespace: a.b\nlabels: &l {<<: *l, team: a}\ntasks:\n  - {id: t, ${log}}\n`, '3:17 *l'],
      [`id: x\nnamespace: a.b\nvariables: &k {? *k : 1}\ntasks:\n  - {id: t, ${log}}\n`, '3:18 *k'],
    ];
    for (const [source, where] of cases) {
      const [position, alias] = where.split(' ');
      expect(errorsOf(source).map((p) => `${p.line}:${p.column} ${p.message}`), source).toEqual([
        `${position} the alias ${alias} stands inside the value its anchor &${alias.slice(1)} names, making a value that contains itself; a flow cannot hold one`,
      ]);
    }
  });

  it('a flow that reuses a task through a few aliases is fine', () => {
    const source = `id: x\nnamespace: a.b\nvariables:\n  m: &m hello\ntasks:\n  - id: one\n    type: ${LOG}\n    message: *m\n  - id: two\n    type: ${LOG}\n    message: *m\n`;
    expect(errorsOf(source)).toEqual([]);
  });
});
