import { describe, expect, it } from 'vitest';
import { formatProblem, validateFlowSource, type FlowProblem } from './index.ts';

/** YAML from lines, so line numbers in expectations can be read off the array index (+1). */
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

const HEADER = ['id: sample', 'namespace: company.team'];
const LOG = ['  - id: hello', '    type: io.kestra.plugin.core.log.Log', '    message: hi'];

function problems(source: string): FlowProblem[] {
  return validateFlowSource(source, 'flow.yaml').problems;
}
function errors(source: string): FlowProblem[] {
  return problems(source).filter((p) => p.severity === 'error');
}
function warnings(source: string): FlowProblem[] {
  return problems(source).filter((p) => p.severity === 'warning');
}
/** The one error of `source`, checked to be the only one. */
function onlyError(source: string): FlowProblem {
  const found = errors(source);
  expect(found.length, found.map(formatProblem).join('\n')).toBe(1);
  return found[0];
}

describe('validateFlowSource: a valid flow', () => {
  it('returns the normalised flow and no problems', () => {
    const result = validateFlowSource(yaml(...HEADER, 'labels:', '  - key: team', '    value: data', 'tasks:', ...LOG));
    expect(result.problems).toEqual([]);
    expect(result.flow?.id).toBe('sample');
    expect(result.flow?.labels).toEqual({ team: 'data' });
    expect(result.flow?.tasks[0]).toMatchObject({ id: 'hello', message: 'hi' });
  });

  it('returns no flow when there is an error', () => {
    const result = validateFlowSource(yaml(...HEADER, 'tasks: []'));
    expect(result.flow).toBeUndefined();
    expect(result.problems).toHaveLength(1);
  });

  it('keeps the flow when there are only warnings', () => {
    const result = validateFlowSource(yaml(...HEADER, 'taskDefaults:', '  - type: io.kestra.plugin.core.log.Log', '    values: {level: WARN}', 'tasks:', ...LOG));
    expect(result.problems.map((p) => p.severity)).toEqual(['warning']);
    expect(result.flow?.pluginDefaults).toEqual([{ type: 'io.kestra.plugin.core.log.Log', values: { level: 'WARN' } }]);
  });

  it('accepts every Kestra top-level key', () => {
    const source = yaml(
      ...HEADER,
      'revision: 3',
      'description: all keys',
      'labels: {team: data}',
      'inputs:',
      '  - id: n',
      '    type: INT',
      'variables: {greeting: hello}',
      'tasks:',
      ...LOG,
      'errors:',
      '  - id: on-error',
      '    type: io.kestra.plugin.core.log.Log',
      '    message: failed',
      'finally:',
      '  - id: always',
      '    type: io.kestra.plugin.core.log.Log',
      '    message: done',
      'afterExecution:',
      '  - id: after',
      '    type: io.kestra.plugin.core.log.Log',
      '    message: after',
      'triggers:',
      '  - id: daily',
      '    type: io.kestra.plugin.core.trigger.Schedule',
      '    cron: "@daily"',
      '    inputs: {n: 1}',
      'pluginDefaults:',
      '  - type: io.kestra.plugin.core.log.Log',
      '    values: {level: INFO}',
      'concurrency: {limit: 2, behavior: CANCEL}',
      'outputs:',
      '  - id: out',
      '    type: STRING',
      '    value: "{{ outputs.hello }}"',
      'retry: {type: constant, interval: PT1S, maxAttempt: 2}',
      'disabled: false',
      'sla:',
      '  - id: max',
      '    type: MAX_DURATION',
      '    behavior: FAIL',
      '    duration: PT1H',
      'checks:',
      '  - condition: "{{ inputs.n > 0 }}"',
      '    message: n must be positive',
      '    style: ERROR',
      '    behavior: BLOCK_EXECUTION',
    );
    expect(problems(source).map(formatProblem)).toEqual([]);
  });
});

describe('validateFlowSource: every problem, each at its place', () => {
  it('reports all problems, not just the first, in source order', () => {
    const found = errors(yaml('id: -x', 'namespace: UPPER', 'tasks:', '  - id: a.b', '    type: io.kestra.plugin.core.log.Log'));
    expect(found.map((p) => [p.line, p.column])).toEqual([
      [1, 5],
      [2, 12],
      [4, 5],
      [4, 9],
    ]);
    expect(found[2].message).toContain("missing required property 'message'");
    expect(found[3].message).toContain('task id must start with a letter or digit');
  });

  it('formats a problem as path:line:col: severity: message', () => {
    const problem = onlyError(yaml(...HEADER, 'tasks: []'));
    expect(formatProblem(problem)).toBe("flow.yaml:3:8: error: 'tasks' must not be empty");
    expect(problem.property).toBe('tasks');
  });

  it('names the property path of nested problems', () => {
    const problem = onlyError(
      yaml(...HEADER, 'tasks:', '  - id: p', '    type: io.kestra.plugin.core.flow.Parallel', '    tasks:', '      - id: c', '        type: io.kestra.plugin.core.log.Log', '        message: hi', '        retry: {type: constant, interval: PT1S, maxAttempt: 0}'),
    );
    expect(problem.property).toBe('tasks[0].tasks[0].retry.maxAttempt');
    expect([problem.line, problem.column]).toEqual([10, 61]);
  });
});

describe('validateFlowSource: YAML documents', () => {
  it('reports a YAML syntax error with its line and column', () => {
    const problem = onlyError(yaml(...HEADER, 'tasks:', '  - id: a', '   type: x'));
    expect(problem.message).toMatch(/^YAML syntax error/);
    expect(problem.line).toBe(5);
  });

  it('refuses duplicate keys', () => {
    const problem = onlyError(yaml(...HEADER, 'id: again', 'tasks:', ...LOG));
    expect(problem.message).toContain('Map keys must be unique');
    expect([problem.line, problem.column]).toEqual([3, 1]);
  });

  it('refuses several documents in one file', () => {
    const problem = onlyError(yaml(...HEADER, 'tasks:', ...LOG, '---', ...HEADER, 'tasks:', ...LOG));
    expect(problem.message).toContain('2 YAML documents');
    expect(problem.line).toBe(7);
  });

  it('refuses an empty file and a document that is not a map', () => {
    expect(onlyError('').message).toContain('empty');
    expect(onlyError('# only a comment\n').message).toContain('empty');
    expect(onlyError('- a\n- b\n').message).toContain('must be a YAML map');
  });
});

describe('validateFlowSource: flow keys', () => {
  it('requires id, namespace and a non-empty tasks list', () => {
    const found = errors('description: nothing else\n');
    expect(found.map((p) => p.message)).toEqual([
      "missing required property 'id'",
      "missing required property 'namespace'",
      "missing required property 'tasks'",
    ]);
  });

  it('refuses unknown top-level keys, with a hint', () => {
    const problem = onlyError(yaml(...HEADER, 'tasks:', ...LOG, 'trigger: []'));
    expect(problem.message).toBe("unknown top-level property 'trigger' (did you mean 'triggers'?)");
    expect([problem.line, problem.column]).toEqual([7, 1]);
  });

  it('explains that listeners are gone', () => {
    expect(onlyError(yaml(...HEADER, 'tasks:', ...LOG, 'listeners: []')).message).toContain("use 'afterExecution' or a Flow trigger");
  });

  it('checks the flow id and namespace patterns and lengths', () => {
    expect(errors(yaml('id: a.b-c_1', 'namespace: a.b-c_1', 'tasks:', ...LOG))).toEqual([]);
    expect(onlyError(yaml('id: "a b"', 'namespace: x', 'tasks:', ...LOG)).message).toContain('flow id must start');
    expect(onlyError(yaml(`id: ${'a'.repeat(101)}`, 'namespace: x', 'tasks:', ...LOG)).message).toContain('at most 100 characters');
    expect(errors(yaml(`id: ${'a'.repeat(100)}`, 'namespace: x', 'tasks:', ...LOG))).toEqual([]);
    expect(onlyError(yaml('id: a', `namespace: ${'n'.repeat(151)}`, 'tasks:', ...LOG)).message).toContain('at most 150 characters');
    expect(onlyError(yaml('id: a', 'namespace: Company', 'tasks:', ...LOG)).message).toContain('lowercase');
    expect(onlyError(yaml('id: a', 'namespace: .company', 'tasks:', ...LOG)).message).toContain('namespace must start');
  });

  it('refuses the reserved flow ids', () => {
    for (const id of ['pause', 'resume', 'force-run', 'change-status', 'kill', 'executions', 'search', 'source', 'disable', 'enable']) {
      expect(onlyError(yaml(`id: ${id}`, 'namespace: x', 'tasks:', ...LOG)).message).toBe(
        `flow id '${id}' is reserved (pause, resume, force-run, change-status, kill, executions, search, source, disable, enable)`,
      );
    }
  });

  it('checks revision, variables, disabled and concurrency', () => {
    expect(onlyError(yaml(...HEADER, 'revision: 0', 'tasks:', ...LOG)).message).toBe("'revision' must be >= 1, got 0");
    expect(onlyError(yaml(...HEADER, 'variables: [a]', 'tasks:', ...LOG)).message).toBe("'variables' must be a map, got a list");
    expect(onlyError(yaml(...HEADER, 'disabled: maybe', 'tasks:', ...LOG)).message).toContain("'disabled' must be a boolean");
    expect(onlyError(yaml(...HEADER, 'concurrency: {behavior: QUEUE}', 'tasks:', ...LOG)).message).toBe("missing required property 'limit' in 'concurrency'");
    expect(onlyError(yaml(...HEADER, 'concurrency: {limit: 1, behavior: DROP}', 'tasks:', ...LOG)).message).toBe(
      "'behavior' must be one of QUEUE, CANCEL, FAIL, got 'DROP'",
    );
    expect(onlyError(yaml(...HEADER, 'concurrency: {limit: 1, max: 2}', 'tasks:', ...LOG)).message).toBe("unknown property 'max' in 'concurrency'");
  });

  it('checks sla and checks entries', () => {
    expect(onlyError(yaml(...HEADER, 'tasks:', ...LOG, 'sla:', '  - {id: s, type: MAX_DURATION, behavior: FAIL}')).message).toBe(
      "missing required property 'duration' in 'sla[0]'",
    );
    expect(onlyError(yaml(...HEADER, 'tasks:', ...LOG, 'checks:', '  - {condition: "{{ true }}", message: m, style: LOUD}')).message).toContain(
      "'style' must be one of ERROR, SUCCESS, WARNING, INFO",
    );
  });
});

describe('validateFlowSource: labels', () => {
  it('normalises a list of {key, value} and a map to the same map', () => {
    const list = validateFlowSource(yaml(...HEADER, 'labels:', '  - {key: a, value: "1"}', '  - {key: b, value: 2}', 'tasks:', ...LOG));
    const map = validateFlowSource(yaml(...HEADER, 'labels: {a: "1", b: 2}', 'tasks:', ...LOG));
    expect(list.flow?.labels).toEqual({ a: '1', b: '2' });
    expect(map.flow?.labels).toEqual({ a: '1', b: '2' });
  });

  it('refuses system labels except system.readOnly', () => {
    expect(errors(yaml(...HEADER, 'labels: {system.readOnly: "true"}', 'tasks:', ...LOG))).toEqual([]);
    const problem = onlyError(yaml(...HEADER, 'labels:', '  - {key: system.username, value: me}', 'tasks:', ...LOG));
    expect(problem.message).toBe('system labels can only be set by Kestra itself, offending label: system.username=me');
    expect([problem.line, problem.column]).toEqual([4, 5]);
  });

  it('refuses labels of the wrong shape', () => {
    expect(onlyError(yaml(...HEADER, 'labels: team', 'tasks:', ...LOG)).message).toContain("'labels' must be a map or a list");
    expect(onlyError(yaml(...HEADER, 'labels: {team: {nested: x}}', 'tasks:', ...LOG)).message).toContain("label 'team' must have a string value");
    expect(onlyError(yaml(...HEADER, 'labels:', '  - {key: a, value: b, extra: c}', 'tasks:', ...LOG)).message).toContain("unknown property 'extra' in a label");
  });
});

describe('validateFlowSource: tasks', () => {
  it('refuses unknown task types with a did-you-mean', () => {
    const problem = onlyError(yaml(...HEADER, 'tasks:', '  - id: a', '    type: io.kestra.plugin.core.Log', '    message: hi'));
    expect(problem.message).toBe("unknown task type 'io.kestra.plugin.core.Log' (did you mean 'io.kestra.plugin.core.log.Log'?)");
    expect([problem.line, problem.column]).toEqual([5, 11]);
  });

  it('still checks the common properties of a task of unknown type', () => {
    const found = errors(yaml(...HEADER, 'tasks:', '  - id: a.b', '    type: com.example.Unknown', '    timeout: 3'));
    expect(found.map((p) => p.message)).toEqual([
      "task id must start with a letter or digit and hold only letters, digits, _ and - (no dots), got 'a.b'",
      "unknown task type 'com.example.Unknown'",
      "'timeout' must be a string, got 3",
    ]);
    expect(errors(yaml(...HEADER, 'tasks:', '  - id: a', '    type: com.example.Unknown', '    anything: goes', '    retry: {type: constant}')).map((p) => p.message)).toEqual([
      "unknown task type 'com.example.Unknown'",
      "missing required property 'interval' in 'retry'",
    ]);
  });

  it('requires id and type on every task', () => {
    expect(onlyError(yaml(...HEADER, 'tasks:', '  - type: io.kestra.plugin.core.log.Log', '    message: hi')).message).toBe(
      "missing required property 'id' for task type io.kestra.plugin.core.log.Log",
    );
    expect(onlyError(yaml(...HEADER, 'tasks:', '  - id: a', '    message: hi')).message).toBe("missing required property 'type' for task");
  });

  it('refuses unknown properties and checks the plugin required ones', () => {
    const found = errors(yaml(...HEADER, 'tasks:', '  - id: a', '    type: io.kestra.plugin.core.log.Log', '    msg: hi'));
    expect(found.map((p) => p.message)).toEqual([
      "missing required property 'message' for task type io.kestra.plugin.core.log.Log",
      "unknown property 'msg' for task type io.kestra.plugin.core.log.Log",
    ]);
    expect([found[1].line, found[1].column]).toEqual([6, 5]);
  });

  it('accepts every common task property', () => {
    const source = yaml(
      ...HEADER,
      'tasks:',
      '  - id: a',
      '    type: io.kestra.plugin.core.log.Log',
      '    message: hi',
      '    description: says hi',
      '    disabled: false',
      '    allowFailure: true',
      '    allowWarning: true',
      '    runIf: "{{ true }}"',
      '    timeout: PT5M',
      '    retry: {type: exponential, interval: PT1S, maxInterval: PT1M, maxAttempt: 3, maxDuration: PT10M, warningOnRetry: true, behavior: CREATE_NEW_EXECUTION}',
      '    logLevel: DEBUG',
      '    logToFile: true',
      '    workerGroup: {key: gpu, fallback: WAIT}',
    );
    expect(problems(source).map(formatProblem)).toEqual([]);
  });

  it('accepts templates where a number, a boolean, an enum or a duration is expected', () => {
    const source = yaml(
      ...HEADER,
      'tasks:',
      '  - id: a',
      '    type: io.kestra.plugin.core.log.Log',
      '    message: hi',
      '    level: "{{ inputs.level }}"',
      '    timeout: "{{ inputs.timeout }}"',
      '  - id: b',
      '    type: io.kestra.plugin.core.flow.Parallel',
      '    concurrent: "{{ inputs.n }}"',
      '    tasks:',
      '      - id: c',
      '        type: io.kestra.plugin.core.log.Log',
      '        message: "{{ inputs.messages }}"',
    );
    expect(problems(source).map(formatProblem)).toEqual([]);
    expect(onlyError(yaml(...HEADER, 'tasks:', '  - id: a', '    type: io.kestra.plugin.core.log.Log', '    message: hi', '    level: LOUD')).message).toBe(
      "'level' must be one of TRACE, DEBUG, INFO, WARN, ERROR, got 'LOUD'",
    );
  });

  it('merges alternatives into one message', () => {
    expect(onlyError(yaml(...HEADER, 'tasks:', '  - id: a', '    type: io.kestra.plugin.core.log.Log', '    message: 42')).message).toBe(
      "'message' must be a string or a list, got 42",
    );
  });

  it('walks child task lists: lists, maps of lists, errors and finally of flowables', () => {
    const found = errors(
      yaml(
        ...HEADER,
        'tasks:',
        '  - id: sw',
        '    type: io.kestra.plugin.core.flow.Switch',
        '    value: a',
        '    cases:',
        '      a:',
        '        - id: in-case',
        '          type: nope.A',
        '    defaults:',
        '      - id: in-defaults',
        '        type: nope.B',
        '    errors:',
        '      - id: in-errors',
        '        type: nope.C',
        '    finally:',
        '      - id: in-finally',
        '        type: nope.D',
      ),
    );
    expect(found.map((p) => [p.property, p.line])).toEqual([
      ['tasks[0].cases.a[0].type', 10],
      ['tasks[0].defaults[0].type', 13],
      ['tasks[0].errors[0].type', 16],
      ['tasks[0].finally[0].type', 19],
    ]);
  });

  it('refuses errors on a runnable task (only flowables hold child tasks)', () => {
    const problem = onlyError(yaml(...HEADER, 'tasks:', ...LOG, '    errors: []'));
    expect(problem.message).toBe("unknown property 'errors' for task type io.kestra.plugin.core.log.Log");
  });

  it('refuses an empty required child list', () => {
    expect(onlyError(yaml(...HEADER, 'tasks:', '  - id: p', '    type: io.kestra.plugin.core.flow.Parallel', '    tasks: []')).message).toBe(
      "'tasks' must not be empty",
    );
  });

  it('refuses a duplicate task id anywhere in the tree, naming both places', () => {
    const problem = onlyError(
      yaml(...HEADER, 'tasks:', ...LOG, 'afterExecution:', '  - id: hello', '    type: io.kestra.plugin.core.log.Log', '    message: again'),
    );
    expect(problem.message).toBe("duplicate task id 'hello': already used at tasks[0] (line 4)");
    expect([problem.line, problem.column, problem.property]).toEqual([8, 9, 'afterExecution[0].id']);
  });

  it('checks retry rules a schema cannot say', () => {
    const retry = (r: string) => yaml(...HEADER, 'tasks:', ...LOG, `    retry: ${r}`);
    expect(onlyError(retry('{type: exponential, interval: PT1M, maxInterval: PT1S}')).message).toBe("'interval' (PT1M) must be less than 'maxInterval' (PT1S)");
    expect(onlyError(retry('{type: random, minInterval: PT5S, maxInterval: PT5S}')).message).toBe("'minInterval' (PT5S) must be less than 'maxInterval' (PT5S)");
    expect(onlyError(retry('{type: random, minInterval: PT1S}')).message).toBe("missing required property 'maxInterval' in 'retry'");
    expect(onlyError(retry('{type: constant, interval: PT1S, delayFactor: 2}')).message).toBe("unknown property 'delayFactor' in 'retry'");
    expect(onlyError(retry('{type: constant, interval: soon}')).message).toContain("'interval' must be an ISO-8601 duration");
    expect(onlyError(retry('{type: constant, interval: PT1S, behavior: AGAIN}')).message).toContain("'behavior' must be one of RETRY_FAILED_TASK, CREATE_NEW_EXECUTION");
    expect(onlyError(retry('{interval: PT1S}')).message).toBe("missing required property 'type' in 'retry'");
  });

  it('refuses a subflow that calls its own flow', () => {
    const source = yaml(...HEADER, 'tasks:', '  - id: me', '    type: io.kestra.plugin.core.flow.Subflow', '    namespace: company.team', '    flowId: sample');
    expect(onlyError(source).message).toBe("recursive call: task 'me' starts this same flow (company.team.sample)");
    expect(errors(source.replace('flowId: sample', 'flowId: other'))).toEqual([]);
  });

  it('refuses outputs.<id-with-dash> references', () => {
    const source = yaml(...HEADER, 'tasks:', '  - id: my-task', '    type: io.kestra.plugin.core.debug.Return', '    format: x', '  - id: b', '    type: io.kestra.plugin.core.log.Log', '    message: "{{ outputs.my-task.value }}"');
    const problem = onlyError(source);
    expect(problem.message).toContain("use outputs['my-task'] instead of outputs.my-task");
    expect([problem.line, problem.column]).toEqual([9, 14]);
    expect(errors(source.replace('outputs.my-task.value', "outputs['my-task'].value"))).toEqual([]);
  });
});

describe('validateFlowSource: templates', () => {
  const log = (...messageLines: string[]) => yaml(...HEADER, 'tasks:', '  - id: a', '    type: io.kestra.plugin.core.log.Log', ...messageLines);

  it('accepts valid templates, Kestra operators included', () => {
    expect(errors(log('    message: "{{ outputs.x ?? \'\' }} {{ inputs.a ~ \'b\' }} {% if true %}y{% endif %}"'))).toEqual([]);
  });

  it('reports a syntax error inside a quoted string at its column in the file', () => {
    const problem = onlyError(log('    message: "ab {{ 1 + }}"'));
    expect(problem.message).toBe('template syntax error: unexpected token: }}');
    expect([problem.line, problem.column, problem.property]).toEqual([6, 25, 'tasks[0].message']);
  });

  it('reports a syntax error inside a plain string', () => {
    const problem = onlyError(log('    message: ab {{ 1 + }}'));
    expect([problem.line, problem.column]).toEqual([6, 24]);
  });

  it('reports a syntax error on a later line of a block string', () => {
    const problem = onlyError(log('    message: |', '      first', '      {% for x in %}'));
    expect(problem.message).toMatch(/^template syntax error: /);
    expect(problem.line).toBe(8);
  });

  it('checks strings everywhere but in descriptions', () => {
    expect(onlyError(yaml(...HEADER, 'variables: {a: "{{ 1 + }}"}', 'tasks:', ...LOG)).property).toBe('variables.a');
    expect(errors(yaml(...HEADER, 'description: "{{ not a template"', 'tasks:', ...LOG, '    description: "{{"'))).toEqual([]);
  });
});

describe('validateFlowSource: pluginDefaults', () => {
  const defaults = (...lines: string[]) => yaml(...HEADER, 'tasks:', '  - id: hello', '    type: io.kestra.plugin.core.log.Log', 'pluginDefaults:', ...lines);

  it('lets a default give a required property', () => {
    expect(problems(defaults('  - type: io.kestra.plugin.core.log.Log', '    values: {message: from defaults}'))).toEqual([]);
    expect(problems(defaults('  - type: io.kestra.plugin.core', '    values: {message: from a prefix}'))).toEqual([]);
  });

  it('does not apply a default of another type', () => {
    expect(onlyError(defaults('  - type: io.kestra.plugin.core.debug.Return', '    values: {format: x}')).message).toContain("missing required property 'message'");
  });

  it('says so when a default brings a bad value', () => {
    const problem = onlyError(defaults('  - type: io.kestra.plugin.core', '    values: {message: hi, level: LOUD}'));
    expect(problem.message).toBe("'level' must be one of TRACE, DEBUG, INFO, WARN, ERROR, got 'LOUD' (set by pluginDefaults)");
    expect([problem.line, problem.column]).toEqual([4, 5]);
  });

  it('refuses unknown properties for an exact type, once', () => {
    const problem = onlyError(defaults('  - type: io.kestra.plugin.core.log.Log', '    values: {message: hi, mesage: typo}'));
    expect(problem.message).toBe("no property 'mesage' exists in plugin 'io.kestra.plugin.core.log.Log' (did you mean 'message'?)");
  });

  it('checks the shape of entries', () => {
    // The entry without a type applies to nothing, so the task misses its message too.
    expect(errors(defaults('  - values: {message: hi}')).map((p) => p.message)).toEqual([
      "missing required property 'message' for task type io.kestra.plugin.core.log.Log",
      "missing required property 'type' in 'pluginDefaults[0]'",
    ]);
    expect(errors(defaults('  - type: io.kestra.plugin.core.log.Log', '    values: [message]')).map((p) => p.message)).toContain("'values' must be a map, got a list");
    expect(errors(defaults('  - type: io.kestra.plugin.core.log.Log', '    forced: yes', '    values: {message: hi}')).map((p) => p.message)).toEqual([
      "'forced' must be a boolean (true or false), got 'yes'",
    ]);
    expect(onlyError(defaults('  - type: io.kestra.plugin.core.log.Log', '    values: {message: hi}', '    extra: 1')).message).toBe(
      "unknown property 'extra' in 'pluginDefaults[0]'",
    );
  });

  it('reads taskDefaults as pluginDefaults with a warning, and reports at the taskDefaults lines', () => {
    const source = yaml(...HEADER, 'tasks:', '  - id: hello', '    type: io.kestra.plugin.core.log.Log', 'taskDefaults:', '  - type: io.kestra.plugin.core.log.Log', '    values: {level: WARN}');
    expect(errors(source).map((p) => p.message)).toEqual(["missing required property 'message' for task type io.kestra.plugin.core.log.Log"]);
    const warning = warnings(source)[0];
    expect(warning.message).toBe("'taskDefaults' is deprecated, use 'pluginDefaults'");
    expect([warning.line, warning.column]).toEqual([6, 1]);
    const bad = onlyError(source.replace('values: {level: WARN}', 'values: 3').replace('  - id: hello', '  - id: hello\n    message: hi'));
    expect([bad.property, bad.line]).toEqual(['taskDefaults[0].values', 9]);
  });
});

describe('validateFlowSource: inputs', () => {
  const inputs = (...lines: string[]) => yaml(...HEADER, 'inputs:', ...lines, 'tasks:', ...LOG);

  it('accepts each input type with its own properties', () => {
    const source = inputs(
      '  - {id: s, type: STRING, validator: "^a.*", defaults: abc}',
      '  - {id: i, type: INT, min: 1, max: 10, defaults: 5}',
      '  - {id: f, type: FLOAT, min: 0.5, defaults: 1.5}',
      '  - {id: b, type: BOOLEAN, defaults: true}',
      '  - {id: dt, type: DATETIME, after: "2020-01-01T00:00:00Z", defaults: "2024-01-01T00:00:00Z"}',
      '  - {id: d, type: DATE, defaults: "2024-01-01"}',
      '  - {id: t, type: TIME, defaults: "10:00:00"}',
      '  - {id: du, type: DURATION, min: PT1S, defaults: PT1M}',
      '  - {id: sel, type: SELECT, values: [a, b], defaults: a}',
      '  - {id: dyn, type: SELECT, expression: "{{ kv(\'choices\') }}", defaults: anything}',
      '  - {id: ms, type: MULTISELECT, values: [a, b, c], defaults: [a, c]}',
      '  - {id: arr, type: ARRAY, itemType: INT, defaults: [1, 2]}',
      '  - {id: j, type: JSON, defaults: \'{"a": 1}\'}',
      '  - {id: y, type: YAML}',
      '  - {id: u, type: URI, defaults: "https://example.com"}',
      '  - {id: e, type: EMAIL, defaults: "a@example.com"}',
      '  - {id: file, type: FILE, extension: .csv}',
      '  - {id: sec, type: SECRET}',
      '  - {id: nested.value, type: STRING, required: false, displayName: Nested}',
      '  - {id: templated, type: INT, defaults: "{{ 1 + 1 }}"}',
    );
    expect(problems(source).map(formatProblem)).toEqual([]);
  });

  it('refuses properties another input type has', () => {
    expect(onlyError(inputs('  - {id: s, type: STRING, min: 1}')).message).toBe("unknown property 'min' for input type STRING");
  });

  it('checks defaults against the type, constraints and values', () => {
    expect(onlyError(inputs('  - {id: i, type: INT, max: 3, defaults: 5}')).message).toMatch(/^invalid default for input 'i': /);
    expect(onlyError(inputs('  - {id: b, type: BOOLEAN, defaults: yes}')).message).toBe("invalid default for input 'b': expected BOOLEAN (true or false), got 'yes'");
    expect(onlyError(inputs('  - {id: m, type: MULTISELECT, values: [a, b], defaults: [a, z]}')).message).toMatch(/^invalid default for input 'm': /);
    expect(onlyError(inputs('  - {id: d, type: DATE, defaults: tomorrow}')).message).toMatch(/^invalid default for input 'd': expected DATE/);
  });

  it('checks the rules of each type', () => {
    expect(onlyError(inputs('  - {id: a, type: ARRAY, itemType: ARRAY}')).message).toBe("an ARRAY input's 'itemType' cannot be ARRAY");
    expect(onlyError(inputs('  - {id: m, type: MULTISELECT, values: [a], itemType: SECRET}')).message).toBe("a MULTISELECT input's 'itemType' cannot be SECRET");
    expect(onlyError(inputs('  - {id: s, type: SELECT}')).message).toBe("SELECT input 's' needs 'values' or 'expression'");
    expect(onlyError(inputs('  - {id: s, type: STRING, displayName: ' + 'x'.repeat(65) + '}')).message).toContain('at most 64 characters');
    expect(onlyError(inputs('  - {id: s, type: STRING, defaults: a, prefill: b}')).message).toBe('an input with a default value cannot also have a prefill');
  });

  it('warns about deprecated forms', () => {
    const found = warnings(inputs('  - {name: old, type: ENUM, values: [a], defaults: a, required: false}'));
    expect(found.map((p) => p.message)).toEqual([
      "'name' is deprecated, use 'id'",
      'input type ENUM is deprecated, use SELECT',
      "input 'old' has a default value, so 'required: false' has no effect (Kestra 1.x refuses this combination)",
    ]);
    const result = validateFlowSource(inputs('  - {name: old, type: STRING}'));
    expect(result.flow?.inputs?.[0]).toEqual({ id: 'old', type: 'STRING' });
  });

  it('refuses duplicate ids and dotted ids nested under another input', () => {
    expect(onlyError(inputs('  - {id: a, type: STRING}', '  - {name: a, type: INT}')).message).toBe("duplicate input id 'a': already declared at inputs[0] (line 4)");
    expect(onlyError(inputs('  - {id: a, type: STRING}', '  - {id: a.b, type: INT}')).message).toBe("input path 'a' conflicts with 'a.b'; one cannot be nested under the other");
  });

  it('refuses unknown types with a hint', () => {
    expect(onlyError(inputs('  - {id: a, type: string}')).message).toContain("unknown input type 'string' (did you mean 'STRING'?)");
    expect(onlyError(inputs('  - {id: a}')).message).toBe("missing required property 'type' for input 'a'");
  });

  it('checks dependsOn: existing inputs, no cycle', () => {
    expect(errors(inputs('  - {id: a, type: STRING}', '  - {id: b, type: STRING, dependsOn: {inputs: [a], condition: "{{ inputs.a == \'x\' }}"}}'))).toEqual([]);
    expect(onlyError(inputs('  - {id: zone, type: STRING, dependsOn: {inputs: [regoin]}}', '  - {id: region, type: STRING}')).message).toBe(
      "input 'zone' depends on a non-existent input 'regoin' (did you mean 'region'?)",
    );
    expect(onlyError(inputs('  - {id: a, type: STRING, dependsOn: {inputs: [b]}}')).message).toBe("input 'a' depends on a non-existent input 'b'");
    expect(onlyError(inputs('  - {id: a, type: STRING, dependsOn: {inputs: [a]}}')).message).toBe('cycle in input dependencies: a → a');
    expect(onlyError(inputs('  - {id: a, type: STRING, dependsOn: {inputs: [c]}}', '  - {id: b, type: STRING, dependsOn: {inputs: [a]}}', '  - {id: c, type: STRING, dependsOn: {inputs: [b]}}')).message).toBe(
      'cycle in input dependencies: a → c → b → a',
    );
  });

  it('refuses inputs.<id-with-dash> references in tasks', () => {
    const problem = onlyError(yaml(...HEADER, 'inputs:', '  - {id: my-input, type: STRING}', 'tasks:', '  - id: a', '    type: io.kestra.plugin.core.log.Log', '    message: "{{ inputs.my-input }}"'));
    expect(problem.message).toContain("use inputs['my-input'] instead of inputs.my-input");
  });
});

describe('validateFlowSource: outputs', () => {
  it('checks entries and literal values', () => {
    const out = (...lines: string[]) => yaml(...HEADER, 'tasks:', ...LOG, 'outputs:', ...lines);
    expect(errors(out('  - {id: a, type: INT, value: 3}', '  - {id: b, type: JSON, value: {x: 1}}'))).toEqual([]);
    expect(onlyError(out('  - {id: a, type: INT, value: x}')).message).toBe("invalid value for output 'a': expected INT, got 'x'");
    expect(onlyError(out('  - {id: a, type: NUMBER, value: 1}')).message).toContain("'type' must be one of STRING, INT");
    expect(onlyError(out('  - {id: a, type: INT, value: 1}', '  - {id: a, type: INT, value: 2}')).message).toBe("duplicate output id 'a': already declared at outputs[0] (line 8)");
  });
});

describe('validateFlowSource: triggers', () => {
  const triggers = (...lines: string[]) => yaml(...HEADER, 'tasks:', ...LOG, 'triggers:', ...lines);

  it('accepts the three trigger types and their legacy names', () => {
    const source = triggers(
      '  - id: schedule',
      '    type: io.kestra.plugin.core.trigger.Schedule',
      '    cron: "*/15 * * * *"',
      '    timezone: Europe/Paris',
      '    recoverMissedSchedules: LAST',
      '    lateMaximumDelay: PT1H',
      '    stopAfter: [FAILED]',
      '    conditions:',
      '      - type: io.kestra.plugin.core.condition.DayWeek',
      '        dayOfWeek: MONDAY',
      '  - id: seconds',
      '    type: io.kestra.core.models.triggers.types.Schedule',
      '    cron: "*/10 * * * * *"',
      '    withSeconds: true',
      '  - id: hook',
      '    type: io.kestra.plugin.core.trigger.Webhook',
      '    key: "{{ secret(\'WEBHOOK_KEY\') }}"',
      '    wait: true',
      '    returnOutputs: true',
      '    responseContentType: application/json',
      '  - id: upstream',
      '    type: io.kestra.plugin.core.trigger.Flow',
      '    states: [SUCCESS, WARNING]',
      '    conditions:',
      '      - type: io.kestra.plugin.core.condition.ExecutionStatusCondition',
      '        in: [SUCCESS]',
      '      - type: io.kestra.core.models.conditions.types.ExecutionNamespaceCondition',
      '        namespace: company',
      '        comparison: PREFIX',
      '      - type: io.kestra.plugin.core.condition.DateTimeBetween',
      '        after: "2024-01-01T00:00:00Z"',
      '    preconditions:',
      '      id: both',
      '      flows:',
      '        - {namespace: company.team, flowId: a, states: [SUCCESS]}',
      '      where:',
      '        - id: filter',
      '          operand: AND',
      '          filters:',
      '            - {field: NAMESPACE, type: STARTS_WITH, value: company}',
      '      timeWindow: {type: SLIDING_WINDOW, window: PT2H}',
      '      resetOnSuccess: false',
    );
    // The legacy names resolve to the current types, each with a warning that names the new one: never an error.
    expect(errors(source).map(formatProblem)).toEqual([]);
    expect(warnings(source).map((p) => [p.property, p.message])).toEqual([
      ['triggers[1].type', "'io.kestra.core.models.triggers.types.Schedule' is an older name of trigger type 'io.kestra.plugin.core.trigger.Schedule': it still works, but write 'io.kestra.plugin.core.trigger.Schedule'"],
      ['triggers[3].conditions[0].type', "'io.kestra.plugin.core.condition.ExecutionStatusCondition' is an older name of condition type 'io.kestra.plugin.core.condition.ExecutionStatus': it still works, but write 'io.kestra.plugin.core.condition.ExecutionStatus'"],
      ['triggers[3].conditions[1].type', "'io.kestra.core.models.conditions.types.ExecutionNamespaceCondition' is an older name of condition type 'io.kestra.plugin.core.condition.ExecutionNamespace': it still works, but write 'io.kestra.plugin.core.condition.ExecutionNamespace'"],
    ]);
  });

  it('checks cron: five fields, six with withSeconds, nicknames', () => {
    const cron = (c: string, extra = '') => triggers('  - id: s', '    type: io.kestra.plugin.core.trigger.Schedule', `    cron: "${c}"`, ...(extra ? [extra] : []));
    for (const ok of ['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually', '0 9 * * MON-FRI', '0 0 L * *']) {
      expect(errors(cron(ok))).toEqual([]);
    }
    expect(onlyError(cron('0 0 * * *', '    withSeconds: true')).message).toContain('expected 6 fields');
    expect(onlyError(cron('0 0 0 * * *')).message).toContain('set withSeconds: true');
    expect(onlyError(cron('@fortnightly')).message).toContain("unknown cron nickname '@fortnightly'");
    expect(onlyError(cron('0 0 32 * *')).message).toContain("invalid cron expression '0 0 32 * *'");
  });

  it('checks a Schedule timezone and its other properties', () => {
    const schedule = (line: string) => triggers('  - id: s', '    type: io.kestra.plugin.core.trigger.Schedule', '    cron: "@daily"', line);
    expect(errors(schedule('    timezone: UTC'))).toEqual([]);
    expect(errors(schedule('    timezone: "+02:00"'))).toEqual([]);
    expect(onlyError(schedule('    timezone: Paris')).message).toBe("timezone 'Paris' is not a valid time-zone ID");
    expect(onlyError(schedule('    recoverMissedSchedules: SOME')).message).toContain("'recoverMissedSchedules' must be one of ALL, LAST, NONE");
    expect(onlyError(schedule('    stopAfter: [DONE]')).message).toContain("'stopAfter[0]' must be one of CREATED");
    expect(onlyError(schedule('    every: 5')).message).toBe("unknown property 'every' for trigger type io.kestra.plugin.core.trigger.Schedule");
    expect(onlyError(triggers('  - id: s', '    type: io.kestra.plugin.core.trigger.Schedule')).message).toBe(
      "missing required property 'cron' for trigger type io.kestra.plugin.core.trigger.Schedule",
    );
  });

  it('checks literal values a trigger passes to inputs', () => {
    const source = yaml(...HEADER, 'inputs:', '  - {id: n, type: INT}', 'tasks:', ...LOG, 'triggers:', '  - id: s', '    type: io.kestra.plugin.core.trigger.Schedule', '    cron: "@daily"');
    expect(errors(`${source}    inputs: {n: 3}\n`)).toEqual([]);
    expect(errors(`${source}    inputs: {n: "{{ trigger.date | date('d') }}"}\n`)).toEqual([]);
    expect(onlyError(`${source}    inputs: {n: three}\n`).message).toBe("invalid value for input 'n' passed by trigger 's': expected INT, got 'three'");
    expect(warnings(`${source}    inputs: {n: 3, m: 4}\n`).map((p) => p.message)).toEqual(["trigger 's' passes input 'm', which the flow does not declare"]);
  });

  it('checks Webhook rules', () => {
    const hook = (...lines: string[]) => triggers('  - id: w', '    type: io.kestra.plugin.core.trigger.Webhook', '    key: k', ...lines);
    expect(onlyError(hook('    responseContentType: text/html')).message).toBe("responseContentType must be either 'application/json' or 'text/plain'");
    expect(onlyError(hook('    returnOutputs: true')).message).toBe('returnOutputs needs wait: true');
    expect(onlyError(hook('    conditions:', '      - type: io.kestra.plugin.core.condition.MultipleCondition', '        conditions:', '          a: {type: io.kestra.plugin.core.condition.ExecutionStatus, in: [SUCCESS]}')).message).toBe(
      'a Webhook trigger cannot use MultipleCondition',
    );
  });

  it('checks conditions, nested ones included', () => {
    const flowTrigger = (...lines: string[]) => triggers('  - id: f', '    type: io.kestra.plugin.core.trigger.Flow', '    conditions:', ...lines);
    expect(onlyError(flowTrigger('      - type: io.kestra.plugin.core.condition.DayWeek', '        dayOfWeek: FUNDAY')).message).toContain("'dayOfWeek' must be one of MONDAY");
    expect(onlyError(flowTrigger('      - type: io.kestra.plugin.core.condition.DateTimeBetween')).message).toBe("a DateTimeBetween condition needs 'after' or 'before'");
    expect(onlyError(flowTrigger('      - type: io.kestra.plugin.core.condition.ExecutionStatus', '        in: [FINISHED]')).message).toContain("'in[0]' must be one of CREATED");
    const nested = onlyError(
      flowTrigger('      - type: io.kestra.plugin.core.condition.Or', '        conditions:', '          - type: io.kestra.plugin.core.condition.Not', '            conditions:', '              - type: io.kestra.plugin.core.condition.Expression'),
    );
    expect(nested.message).toBe("missing required property 'expression' for condition type io.kestra.plugin.core.condition.Expression");
    expect(nested.property).toBe('triggers[0].conditions[0].conditions[0].conditions[0].expression');
    expect(onlyError(flowTrigger('      - in: [SUCCESS]')).message).toBe("missing required property 'type' for a condition");
  });

  it('checks Flow trigger preconditions', () => {
    const pre = (...lines: string[]) => triggers('  - id: f', '    type: io.kestra.plugin.core.trigger.Flow', '    preconditions:', ...lines);
    expect(onlyError(pre('      flows:', '        - flowId: a')).message).toBe("missing required property 'namespace' in 'flows[0]'");
    expect(onlyError(pre('      timeWindow: {type: DAILY_TIME_DEADLINE}')).message).toBe("a time window of type DAILY_TIME_DEADLINE needs 'deadline'");
    expect(onlyError(pre('      timeWindow: {type: SLIDING_WINDOW, window: PT1H, windowAdvance: PT1M}')).message).toBe(
      "a time window of type SLIDING_WINDOW cannot have 'windowAdvance'",
    );
    expect(onlyError(pre('      where:', '        - id: w', '          filters:', '            - {field: COLOR, type: EQUAL_TO, value: red}')).message).toContain(
      "'field' must be one of FLOW_ID, NAMESPACE, STATE, EXPRESSION",
    );
  });

  it('refuses a trigger that is not a map or has no id', () => {
    expect(onlyError(triggers('  - schedule')).message).toBe("a trigger must be a map with at least 'id' and 'type', got 'schedule'");
    expect(onlyError(triggers('  - type: io.kestra.plugin.core.trigger.Webhook', '    key: k')).message).toBe(
      "missing required property 'id' for trigger type io.kestra.plugin.core.trigger.Webhook",
    );
    expect(errors(triggers('  - cron: "@daily"')).map((p) => p.message)).toEqual([
      "missing required property 'id' for a trigger",
      "missing required property 'type' for a trigger",
    ]);
  });
});

describe('validateFlowSource: task runners and every nested plugin (issue #13)', () => {
  const shell = (...runner: string[]) =>
    yaml(...HEADER, 'tasks:', '  - id: sh', '    type: io.kestra.plugin.scripts.shell.Commands', '    commands: [echo hi]', '    taskRunner:', ...runner);

  it('refuses a misspelt runner property at its key, with the closest property', () => {
    const problem = onlyError(shell('      type: io.kestra.plugin.scripts.runner.docker.Docker', '      pullPolcy: NEVER'));
    expect(problem).toMatchObject({ line: 9, column: 7, property: 'tasks[0].taskRunner.pullPolcy' });
    expect(problem.message).toBe("unknown property 'pullPolcy' for task runner type io.kestra.plugin.scripts.runner.docker.Docker (did you mean 'pullPolicy'?)");
  });

  it('refuses an unknown runner type at its value, with the closest type', () => {
    const problem = onlyError(shell('      type: io.kestra.plugin.core.runner.Proces'));
    expect(problem).toMatchObject({ line: 8, column: 13, property: 'tasks[0].taskRunner.type' });
    expect(problem.message).toBe("unknown task runner type 'io.kestra.plugin.core.runner.Proces' (did you mean 'io.kestra.plugin.core.runner.Process'?)");
  });

  it("checks a runner's values against its schema, templates accepted", () => {
    expect(onlyError(shell('      type: io.kestra.plugin.scripts.runner.docker.Docker', '      pullPolicy: SOMETIMES')).message).toContain("'pullPolicy' must be one of IF_NOT_PRESENT, ALWAYS, NEVER");
    expect(onlyError(shell('      type: io.kestra.plugin.scripts.runner.docker.Docker', '      memory: {memroy: 1GB}')).message).toContain("unknown property 'memroy'");
    expect(onlyError(shell('      type: io.kestra.plugin.core.runner.Process', '      cpu: {cpus: 1}')).message).toContain("unknown property 'cpu' for task runner type io.kestra.plugin.core.runner.Process");
    expect(onlyError(shell('      pullPolicy: NEVER')).message).toBe("missing required property 'type' for a task runner");
    expect(errors(shell('      type: io.kestra.plugin.scripts.runner.docker.Docker', '      pullPolicy: "{{ inputs.policy }}"', '      cpu: {cpus: 1.5}', '      memory: {memory: 512MB}', '      fileHandlingStrategy: MOUNT'))).toEqual([]);
  });

  it("checks the deprecated docker block's properties too", () => {
    const legacy = (...lines: string[]) =>
      yaml(...HEADER, 'tasks:', '  - id: sh', '    type: io.kestra.plugin.scripts.shell.Commands', '    commands: [echo hi]', '    runner: DOCKER', '    docker:', ...lines);
    expect(errors(legacy('      image: ubuntu', '      pullPolicy: NEVER'))).toEqual([]);
    expect(onlyError(legacy('      imge: ubuntu')).message).toBe("unknown property 'imge' in 'docker' (did you mean 'image'?)");
  });

  it('resolves an older runner name with a warning, never an error', () => {
    const source = shell('      type: io.kestra.plugin.scripts.runner.docker.DockerTaskRunner');
    expect(errors(source)).toEqual([]);
    expect(warnings(source).map((p) => p.message)).toEqual([
      "'io.kestra.plugin.scripts.runner.docker.DockerTaskRunner' is an older name of task runner type 'io.kestra.plugin.scripts.runner.docker.Docker': it still works, but write 'io.kestra.plugin.scripts.runner.docker.Docker'",
    ]);
  });

  it('checks runner properties set by pluginDefaults, for the runner type itself', () => {
    const source = yaml(
      ...HEADER,
      'pluginDefaults:',
      '  - type: io.kestra.plugin.scripts.runner.docker.Docker',
      '    values: {pullPolcy: NEVER}',
      'tasks:',
      ...LOG,
    );
    expect(onlyError(source).message).toBe("no property 'pullPolcy' exists in plugin 'io.kestra.plugin.scripts.runner.docker.Docker' (did you mean 'pullPolicy'?)");
  });

  it('resolves older task names and warns of deprecated properties and types', () => {
    const source = yaml(
      ...HEADER,
      'tasks:',
      '  - id: old',
      '    type: io.kestra.core.tasks.log.Log',
      '    message: hi',
      '  - id: sh',
      '    type: io.kestra.plugin.scripts.shell.Commands',
      '    runner: PROCESS',
      '    commands: [echo hi]',
      'triggers:',
      '  - id: f',
      '    type: io.kestra.plugin.core.trigger.Flow',
      '    conditions:',
      '      - type: io.kestra.plugin.core.condition.MultipleCondition',
      '        conditions:',
      '          a: {type: io.kestra.plugin.core.condition.ExecutionStatus, in: [SUCCESS]}',
    );
    expect(errors(source)).toEqual([]);
    expect(warnings(source).map((p) => `${p.property}: ${p.message}`)).toEqual([
      "tasks[0].type: 'io.kestra.core.tasks.log.Log' is an older name of task type 'io.kestra.plugin.core.log.Log': it still works, but write 'io.kestra.plugin.core.log.Log'",
      "tasks[1].runner: 'runner' is deprecated: use `taskRunner`.",
      "triggers[0].conditions[0].type: condition type 'io.kestra.plugin.core.condition.MultipleCondition' is deprecated: Kestra replaced it with the Flow trigger's 'preconditions'",
    ]);
  });
});
