/**
 * Issue #12, flows: whatever text a push or an API call hands the flow loader — arbitrary characters,
 * YAML-ish token soup (anchors, aliases, merge keys, tags, flow and block collections, templates),
 * or flows built from the flow vocabulary and then damaged — validation ends with a list of problems,
 * each at a real line and column of the source, or with a valid flow within the flow size limits;
 * never an exception, never a hang.
 * Runs are bounded (count and input size); the vitest timeout is the hang detector.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEFAULT_LIMITS, type Limits } from '../../config/index.ts';
import { validateFlowSource, walkTasks, type FlowValidation } from '../../engine/flow/index.ts';

/** Small limits, so generated inputs reach them too. */
const SMALL: Limits = { ...DEFAULT_LIMITS, flowFileBytes: 20_000, flowTasks: 12, flowNestingDepth: 3 };

const TASK_TYPES = [
  'io.kestra.plugin.core.log.Log', 'io.kestra.plugin.core.debug.Return', 'io.kestra.plugin.core.flow.Sequential',
  'io.kestra.plugin.core.flow.Parallel', 'io.kestra.plugin.core.flow.If', 'io.kestra.plugin.core.flow.Switch',
  'io.kestra.plugin.core.flow.ForEach', 'io.kestra.plugin.core.flow.Subflow', 'io.kestra.plugin.scripts.shell.Commands',
  'io.kestra.plugin.core.trigger.Schedule', 'io.kestra.plugin.core.trigger.Webhook', 'io.example.Unknown',
];
const KEYS = [
  'id', 'namespace', 'tasks', 'type', 'message', 'format', 'errors', 'finally', 'afterExecution', 'then', 'else', 'cases',
  'value', 'values', 'inputs', 'outputs', 'triggers', 'labels', 'pluginDefaults', 'taskDefaults', 'variables', 'retry',
  'cron', 'key', 'defaults', 'required', 'itemType', 'dependsOn', 'conditions', 'concurrency', 'disabled', 'timeout',
  'description', 'commands', 'flowId', 'name', '__proto__', 'constructor', 'toString', '<<', '',
];
const SCALARS = [
  'hello', 'company.team', 'Ünïcödé', '{{ inputs.x }}', '{{ outputs.t.value', "{{ inputs['a-b'] }}", '{% if x %}y{% endif %}',
  'STRING', 'INT', 'SELECT', 'ARRAY', 'FILE', 'PT1S', 'P1D', '*/5 * * * *', '', ' ', '-', 'null', 'true', '1e309', 'NaN',
];

/** Every problem points into the source: a 1-based line no further than its last, a 1-based column. */
function expectWellFormed(result: FlowValidation, source: string): void {
  const lines = source.split(/\r\n|\r|\n/).length;
  for (const problem of result.problems) {
    expect(problem.severity === 'error' || problem.severity === 'warning').toBe(true);
    expect(typeof problem.message === 'string' && problem.message.length > 0).toBe(true);
    expect(typeof problem.property).toBe('string');
    expect(Number.isInteger(problem.line) && problem.line >= 1 && problem.line <= lines + 1).toBe(true);
    expect(Number.isInteger(problem.column) && problem.column >= 1).toBe(true);
  }
  const errors = result.problems.filter((p) => p.severity === 'error');
  if (result.flow) {
    expect(errors).toEqual([]);
    expect(typeof result.flow.id).toBe('string');
    expect(typeof result.flow.namespace).toBe('string');
  } else {
    expect(errors.length).toBeGreaterThan(0);
  }
}

/** A flow that passed is within the limits: its bytes, its tasks, how deep they nest. */
function expectWithinLimits(result: FlowValidation, source: string, limits: Limits): void {
  if (!result.flow) return;
  expect(Buffer.byteLength(source)).toBeLessThanOrEqual(limits.flowFileBytes);
  let tasks = 0;
  let deepest = 0;
  walkTasks(result.flow, (_task, path) => {
    tasks++;
    // `tasks[0].then[1].cases.A[0]`: one index per level; a top-level task sits in no flowable.
    deepest = Math.max(deepest, (path.match(/\[\d+\]/g)?.length ?? 1) - 1);
  });
  expect(tasks).toBeLessThanOrEqual(limits.flowTasks);
  expect(deepest).toBeLessThanOrEqual(limits.flowNestingDepth);
}

const check = (source: string, limits?: Limits) => {
  const result = validateFlowSource(source, 'flows/fuzz.yaml', limits ? { limits } : undefined);
  expectWellFormed(result, source);
  if (limits) expectWithinLimits(result, source, limits);
  return result;
};

/** Pieces of YAML syntax, so that generated text exercises the reader beyond plain scalars. */
const YAML_TOKENS = [
  '- ', ': ', ':', ', ', '[', ']', '{', '}', '&a ', '&b ', '*a', '*b', '<<: ', '<<: [*a, *b]', '? ', '!!str ', '!!map ', '!!binary ',
  '&a [*a]', '&a {x: *a}', '&b {<<: *b}', '? *a', 'tasks: &a\n  - id: s\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks: *a\n',
  '!local ', '%YAML 1.2\n', '---\n', '...\n', '\n', '\n  ', '\n    ', '\t', '  ', '# note', "'", '"', "''", '"\\u0000"', '|\n  ', '>-\n  ',
  'id: x', 'namespace: a.b', 'tasks:', 'type: io.kestra.plugin.core.log.Log', 'message: hi', '{{ ', ' }}', '\\', '\r\n', '\u00a0',
  '\u2028', '\ufeff', '@', '`', '%', '~', 'null', '0x1F', '.inf', '2024-01-01T00:00:00Z',
];

/** A flow-shaped value: maps of the flow vocabulary, lists of tasks, scalars with templates; at most 4 levels of tasks. */
const { value: flowish } = fc.letrec((tie) => ({
  value: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'flowish', withCrossShrink: true },
    fc.constantFrom(...SCALARS),
    fc.integer({ min: -5, max: 100_000 }),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 12 }),
    tie('task'),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 5 }),
  ),
  task: fc.record(
    {
      id: fc.oneof(fc.constantFrom('a', 'b', 'c', 'a-b', 'x.y', ''), fc.string({ maxLength: 6 })),
      type: fc.constantFrom(...TASK_TYPES),
      message: fc.constantFrom(...SCALARS),
      tasks: tie('tasks'),
      then: tie('tasks'),
      cases: fc.dictionary(fc.constantFrom('A', 'B'), tie('tasks'), { maxKeys: 2 }),
      errors: tie('tasks'),
      values: tie('value'),
    },
    { requiredKeys: ['id', 'type'] },
  ),
  // Child task lists: the recursion point, bounded like `value`'s.
  tasks: fc.oneof({ maxDepth: 4, depthIdentifier: 'flowish' }, fc.constant([]), fc.array(tie('task'), { maxLength: 3 })),
}));

const flow = fc.record(
  {
    id: fc.constantFrom('hello', 'a-b', '', 'x'.repeat(120), 'flows'),
    namespace: fc.constantFrom('company.team', 'Company', 'a..b', ''),
    tasks: fc.array(flowish, { maxLength: 5 }),
    errors: fc.array(flowish, { maxLength: 2 }),
    inputs: fc.array(flowish, { maxLength: 2 }),
    triggers: fc.array(flowish, { maxLength: 2 }),
    labels: flowish,
    pluginDefaults: flowish,
    variables: flowish,
  },
  { requiredKeys: ['id', 'namespace', 'tasks'] },
);

/** A valid task tree: Log leaves and Sequential/Parallel groups, ids filled in afterwards (unique). */
interface TreeTask { type: string; tasks?: TreeTask[] }
const { task: validTask } = fc.letrec((tie) => ({
  task: fc.oneof(
    { maxDepth: 6, depthIdentifier: 'valid' },
    fc.constant<TreeTask>({ type: 'io.kestra.plugin.core.log.Log' }),
    fc.record({
      type: fc.constantFrom('io.kestra.plugin.core.flow.Sequential', 'io.kestra.plugin.core.flow.Parallel'),
      tasks: fc.array(tie('task'), { minLength: 1, maxLength: 3, depthIdentifier: 'valid' }),
    }) as fc.Arbitrary<TreeTask>,
  ),
}));

/** The flow of `tasks` as YAML, with its task count and the deepest nesting (flowables around a task). */
function treeFlow(tasks: TreeTask[]): { source: string; count: number; depth: number } {
  let count = 0;
  let depth = 0;
  const named = (list: TreeTask[], level: number): object[] =>
    list.map((task) => {
      count++;
      depth = Math.max(depth, level);
      return task.tasks
        ? { id: `t${count}`, type: task.type, tasks: named(task.tasks, level + 1) }
        : { id: `t${count}`, type: task.type, message: 'hi' };
    });
  const flowValue = { id: 'tree', namespace: 'company.team', tasks: named(tasks, 0) };
  return { source: stringify(flowValue), count, depth };
}

describe('the flow loader on arbitrary input', () => {
  it('a valid flow passes exactly when its tasks and their nesting are within the limits', () => {
    fc.assert(
      fc.property(fc.array(validTask, { minLength: 1, maxLength: 6 }), (tasks) => {
        const { source, count, depth } = treeFlow(tasks);
        const result = check(source, SMALL);
        const within = count <= SMALL.flowTasks && depth <= SMALL.flowNestingDepth;
        expect(result.flow !== undefined).toBe(within);
        if (!within) {
          expect(result.problems.map((p) => p.message)).toEqual([
            ...(count > SMALL.flowTasks ? [`flow has ${count} tasks: exceeds the limit of 12 (raise it with BATON_LIMIT_FLOW_TASKS)`] : []),
            ...(depth > SMALL.flowNestingDepth ? [expect.stringMatching(/^task 't\d+' is nested in 4 flowable tasks: exceeds the limit of 3 \(raise it with BATON_LIMIT_FLOW_NESTING_DEPTH\)$/)] : []),
          ]);
        }
        // Without the small limits, the same flow is valid.
        expect(check(source).flow).toBeDefined();
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('arbitrary text gives positioned problems or a flow, never an exception', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        check(text);
        check(text, SMALL);
      }),
      { numRuns: 400 },
    );
  }, 60_000);

  it('YAML token soup (anchors, aliases, merges, tags, collections) gives positioned problems or a flow', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...YAML_TOKENS), fc.string({ maxLength: 4 })), { maxLength: 80 }), (tokens) => {
        check(tokens.join(''));
        check(`id: x\nnamespace: a.b\ntasks:\n  - ${tokens.join('')}`, SMALL);
      }),
      { numRuns: 600 },
    );
  }, 120_000);

  it('flows built from the flow vocabulary, whole or damaged, give positioned problems or a flow', () => {
    fc.assert(
      fc.property(
        flow,
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.constantFrom('', ' ', '\n', '- ', ': ', '[', '{', '&a ', '*a', '"', '#')), { maxLength: 3 }),
        (value, edits) => {
          let source: string;
          try {
            source = stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
          } catch {
            return; // values YAML itself cannot write (none expected) say nothing about the loader
          }
          check(source);
          check(source, SMALL);
          // Damage: replace a few characters at random places.
          let damaged = source;
          for (const [at, length, insert] of edits) {
            const position = damaged.length === 0 ? 0 : at % damaged.length;
            damaged = damaged.slice(0, position) + insert + damaged.slice(position + length);
          }
          check(damaged, SMALL);
        },
      ),
      { numRuns: 400 },
    );
  }, 120_000);

  it('nesting, repetition and aliases at scale stay within the limits, with one clear problem', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 12 }), fc.constantFrom('[', '{a: ', '- ', '  a:\n'), (depth, fanOut, opener) => {
        // Deep nesting of one kind of collection.
        check(`id: x\nnamespace: a.b\ntasks: ${opener.repeat(depth * 10)}`, SMALL);
        // Aliases fanning out `fanOut` ways over `depth` levels.
        const levels = Math.min(depth, 8);
        const anchors = Array.from({ length: levels }, (_, i) =>
          i === 0 ? 'l0: &l0 [x]' : `l${i}: &l${i} [${Array.from({ length: fanOut }, () => `*l${i - 1}`).join(', ')}]`);
        check(`id: x\nnamespace: a.b\n${anchors.join('\n')}\ntasks: *l${levels - 1}\n`, SMALL);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
