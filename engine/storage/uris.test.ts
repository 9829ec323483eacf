import { describe, expect, test } from 'vitest';
import { StorageError } from './errors.ts';
import {
  childUri, executionPrefix, inputPrefix, isKestraUri, isUnderPrefix, parseKestraUri, slugify, taskRunPrefix, triggerPrefix,
} from './uris.ts';
import { HOSTILE_URIS } from './storage.case.ts';

describe('Kestra URI layout', () => {
  test('execution, task-run, input and trigger prefixes', () => {
    expect(executionPrefix('company.team', 'My_Flow', '4wjtkzwVGBM9yKnjm3yv8r'))
      .toBe('kestra:///company/team/my-flow/executions/4wjtkzwVGBM9yKnjm3yv8r');
    expect(taskRunPrefix('company.team', 'etl', 'e1', 'Extract_Data', '2Ht6tZ0ppPX2yUrCz6zjrc'))
      .toBe('kestra:///company/team/etl/executions/e1/tasks/extract-data/2Ht6tZ0ppPX2yUrCz6zjrc');
    expect(inputPrefix('company.team', 'etl', 'e1', 'my_file'))
      .toBe('kestra:///company/team/etl/executions/e1/inputs/my_file');
    expect(triggerPrefix('io.kestra', 'etl', 'e1', 'Daily_Schedule'))
      .toBe('kestra:///io/kestra/etl/executions/e1/trigger/daily-schedule');
  });

  test('ids that would escape the layout are refused', () => {
    expect(() => executionPrefix('company.team', 'etl', '../../x')).toThrow(StorageError);
    expect(() => executionPrefix('company..team', 'etl', 'e1')).toThrow(StorageError);
    expect(() => inputPrefix('company', 'etl', 'e1', '..')).toThrow(/Invalid path segment/);
    expect(() => taskRunPrefix('company', 'etl', 'e1', 't', 'a/b')).toThrow(StorageError);
  });

  test('childUri encodes file names and refuses separators', () => {
    const prefix = inputPrefix('company', 'etl', 'e1', 'data');
    expect(childUri(prefix, 'my data.csv')).toBe(`${prefix}/my%20data.csv`);
    expect(() => childUri(prefix, '../../../etc/passwd')).toThrow(StorageError);
    expect(() => childUri(prefix, 'a\\b')).toThrow(StorageError);
    expect(() => childUri(prefix, '')).toThrow(StorageError);
  });

  test.each([
    ['Hello World', 'hello-world'],
    ['my_flow', 'my-flow'],
    ['Café--au__lait', 'cafe-au-lait'],
    ['-trim-me-', 'trim-me'],
    ['a.b!c', 'abc'],
  ])('slugify(%j) = %j', (input, slug) => {
    expect(slugify(input)).toBe(slug);
  });
});

describe('parseKestraUri', () => {
  test('canonical, authority and collapsed forms', () => {
    expect(parseKestraUri('kestra:///a/b/c.txt')).toEqual({ uri: 'kestra:///a/b/c.txt', path: '/a/b/c.txt', segments: ['a', 'b', 'c.txt'] });
    expect(parseKestraUri('kestra://a/b').uri).toBe('kestra:///a/b');
    expect(parseKestraUri('kestra:////a//b/').uri).toBe('kestra:///a/b');
    expect(parseKestraUri('kestra:///').segments).toEqual([]);
  });

  test('percent-escapes are decoded once and re-encoded canonically', () => {
    const parsed = parseKestraUri('kestra:///ns/hello%20w%6Frld@x+y:z.txt');
    expect(parsed.segments).toEqual(['ns', 'hello world@x+y:z.txt']);
    expect(parsed.uri).toBe('kestra:///ns/hello%20world@x+y:z.txt');
    expect(parseKestraUri('kestra:///ns/%252e%252e').segments).toEqual(['ns', '%2e%2e']);
    expect(parseKestraUri('kestra:///ns/..name').segments).toEqual(['ns', '..name']);
  });

  test.each(HOSTILE_URIS)('%j is refused as %s', (uri, code) => {
    let caught: unknown;
    try {
      parseKestraUri(uri);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StorageError);
    expect((caught as StorageError).code).toBe(code);
    expect(isKestraUri(uri)).toBe(false);
  });

  test('isKestraUri', () => {
    expect(isKestraUri('kestra:///a/b')).toBe(true);
    expect(isKestraUri(42)).toBe(false);
    expect(isKestraUri('https://example.com/a')).toBe(false);
  });
});

describe('isUnderPrefix', () => {
  test.each([
    ['kestra:///a/b/c', 'kestra:///a/b', true],
    ['kestra:///a/b', 'kestra:///a/b', true],
    ['kestra:///a/b', 'kestra:///a/b/', true],
    ['kestra:///a/bc', 'kestra:///a/b', false],
    ['kestra:///a', 'kestra:///a/b', false],
    ['kestra:///a/b/../../x', 'kestra:///a/b', false],
    ['kestra:///a/b/c', 'kestra:///', true],
    ['kestra://a/b/c', 'kestra:///a', true],
  ])('%s under %s: %s', (uri, prefix, expected) => {
    expect(isUnderPrefix(uri, prefix)).toBe(expected);
  });
});
