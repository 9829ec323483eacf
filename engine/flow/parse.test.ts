import { describe, expect, it } from 'vitest';
import { normaliseFlow, parseYamlWithPositions } from './parse.ts';

describe('parseYamlWithPositions', () => {
  const source = [
    'id: hello', //                           1
    'namespace: company.team', //             2
    'tasks:', //                              3
    '  - id: first', //                       4
    '    type: io.kestra.plugin.core.log.Log', // 5
    '    message: |', //                      6
    '      line one', //                      7
    '      {{ two }}', //                     8
    '    inputFiles:', //                     9
    '      data.json: "{{ x }}"', //          10
    '', //                                    11
  ].join('\n');

  it('reads the document as plain data', () => {
    const parsed = parseYamlWithPositions(source);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value).toEqual({
      id: 'hello',
      namespace: 'company.team',
      tasks: [{ id: 'first', type: 'io.kestra.plugin.core.log.Log', message: 'line one\n{{ two }}\n', inputFiles: { 'data.json': '{{ x }}' } }],
    });
  });

  it('knows where every key and value is, 1-based', () => {
    const { sourceMap } = parseYamlWithPositions(source);
    expect(sourceMap.keyAt(['namespace'])).toEqual({ line: 2, column: 1 });
    expect(sourceMap.valueAt(['namespace'])).toEqual({ line: 2, column: 12 });
    expect(sourceMap.valueAt(['tasks', 0])).toEqual({ line: 4, column: 5 });
    expect(sourceMap.keyAt(['tasks', 0, 'type'])).toEqual({ line: 5, column: 5 });
    expect(sourceMap.valueAt(['tasks', 0, 'inputFiles', 'data.json'])).toEqual({ line: 10, column: 18 });
  });

  it('falls back to the nearest ancestor for properties not in the source', () => {
    const { sourceMap } = parseYamlWithPositions(source);
    expect(sourceMap.valueAt(['tasks', 0, 'retry', 'interval'])).toEqual({ line: 4, column: 5 });
    expect(sourceMap.keyAt(['nowhere'])).toEqual({ line: 1, column: 1 });
    expect(sourceMap.has(['tasks', 0, 'retry'])).toBe(false);
  });

  it('keeps every string scalar with its style and place', () => {
    const { strings } = parseYamlWithPositions(source);
    const message = strings.find((s) => s.segments.join('/') === 'tasks/0/message');
    expect(message).toMatchObject({ style: 'block', line: 6, column: 14, contentColumn: 7 });
    const quoted = strings.find((s) => s.segments.join('/') === 'tasks/0/inputFiles/data.json');
    expect(quoted).toMatchObject({ style: 'quoted', line: 10, column: 18, value: '{{ x }}' });
  });

  it('reports YAML errors and extra documents', () => {
    expect(parseYamlWithPositions('a: [1, 2\nb: 3\n').problems[0]).toMatchObject({ line: 2, severity: 'error' });
    const multi = parseYamlWithPositions('a: 1\n---\nb: 2\n---\nc: 3\n', 'f.yaml');
    expect(multi.problems).toEqual([
      { file: 'f.yaml', line: 2, column: 1, property: '', message: 'the file holds 3 YAML documents; a flow file must hold exactly one flow', severity: 'error' },
    ]);
    expect(parseYamlWithPositions('').problems[0].message).toContain('empty');
    // A single document may open with `---` (and close with `...`).
    expect(parseYamlWithPositions('---\na: 1\n...\n').problems).toEqual([]);
  });

  it('resolves anchors and merge keys', () => {
    const parsed = parseYamlWithPositions('base: &b {level: WARN}\ntask:\n  <<: *b\n  message: hi\n');
    expect(parsed.value).toEqual({ base: { level: 'WARN' }, task: { level: 'WARN', message: 'hi' } });
    expect(parsed.sourceMap.valueAt(['task', 'level'])).toEqual({ line: 3, column: 3 });
  });
});

describe('normaliseFlow', () => {
  it('turns list labels into a map and taskDefaults into pluginDefaults', () => {
    const { value, sourceMap } = parseYamlWithPositions('labels:\n  - key: a\n    value: 1\ntaskDefaults:\n  - type: x\n    values: {}\n');
    const result = normaliseFlow(value as Record<string, unknown>, sourceMap, 'f.yaml');
    expect(result.flow).toEqual({ labels: { a: '1' }, pluginDefaults: [{ type: 'x', values: {} }] });
    expect(result.pluginDefaultsKey).toBe('taskDefaults');
    expect(result.labelPlaces.get('a')).toEqual(['labels', 0]);
    expect(result.problems).toEqual([
      { file: 'f.yaml', line: 4, column: 1, property: 'taskDefaults', message: "'taskDefaults' is deprecated, use 'pluginDefaults'", severity: 'warning' },
    ]);
  });

  it('reports duplicate labels', () => {
    const { value, sourceMap } = parseYamlWithPositions('labels:\n  - {key: a, value: x}\n  - {key: a, value: y}\n');
    const result = normaliseFlow(value as Record<string, unknown>, sourceMap);
    expect(result.problems.map((p) => [p.line, p.message])).toEqual([[3, "duplicate label 'a'"]]);
  });
});
