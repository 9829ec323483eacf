import { describe, expect, test } from 'vitest';
import type { InputDef, InputType } from '../flow/types.ts';
import { TypedValueError } from './errors.ts';
import { parseTyped } from './parse-typed.ts';

function reason(type: InputType, value: unknown, def: Partial<InputDef> = {}): string {
  try {
    parseTyped(type, value, def);
  } catch (error) {
    if (error instanceof TypedValueError) return error.reason;
    throw error;
  }
  throw new Error(`expected ${type} to refuse ${JSON.stringify(value)}`);
}

type Good = readonly [value: unknown, expected: unknown, def?: Partial<InputDef>];
type Bad = readonly [value: unknown, reasonPart: string, def?: Partial<InputDef>];

const CASES: Partial<Record<InputType, { good: Good[]; bad: Bad[] }>> = {
  STRING: {
    good: [
      ['hello', 'hello'],
      ['', ''],
      [42, '42'],
      [true, 'true'],
      ['ABC-123', 'ABC-123', { validator: '^[A-Z]+-\\d+$' }],
      ['abc', 'abc', { validator: '[a-c]+' }],
      ['Hello', 'Hello', { validator: '(?i)hello' }],
      ['a.b', 'a.b', { validator: '\\Qa.b\\E' }],
      ['abc', 'abc', { validator: '\\p{Lower}+' }],
      ['line1\nline2', 'line1\nline2', { validator: '(?s).*' }],
    ],
    bad: [
      [{ a: 1 }, 'expected STRING, got an object'],
      [['a'], 'expected STRING, got a list'],
      ['abc-123', 'must match the pattern `^[A-Z]+-\\d+$`, got \'abc-123\'', { validator: '^[A-Z]+-\\d+$' }],
      ['abcd', 'must match the pattern', { validator: '[a-c]+' }],
      ['xabcx', 'must match the pattern', { validator: 'abc' }],
      ['axb', 'must match the pattern', { validator: '\\Qa.b\\E' }],
      ['abc\n', 'must match the pattern', { validator: 'abc' }],
      ['aaa', 'cannot be used', { validator: 'a++' }],
      ['aaa', 'cannot be used', { validator: '[a-z&&[^b]]+' }],
      ['aaa', 'cannot be used', { validator: '(unclosed' }],
    ],
  },
  SECRET: {
    good: [
      ['p@ssw0rd!', 'p@ssw0rd!'],
      ['abcdef12', 'abcdef12', { validator: '[a-z0-9]{8}' }],
    ],
    bad: [
      [{ v: 1 }, 'expected SECRET, got an object'],
    ],
  },
  INT: {
    good: [
      ['42', 42],
      [' -7 ', -7],
      ['+5', 5],
      ['007', 7],
      [42, 42],
      [3.0, 3],
      [2147483647, 2147483647],
      ['2020', 2020, { min: 2000, max: 2030 }],
      [2000, 2000, { min: 2000 }],
      [5, 5, { min: '1', max: '10' }],
    ],
    bad: [
      ['abc', "expected INT, got 'abc'"],
      ['1.5', "expected INT, got '1.5'"],
      [1.5, 'expected INT, got 1.5'],
      ['', "expected INT, got ''"],
      ['1e3', 'expected INT'],
      [true, 'expected INT, got true'],
      [[1], 'expected INT, got a list'],
      ['2147483648', 'outside the 32-bit range'],
      [1999, 'must be at least 2000, got 1999', { min: 2000 }],
      [2031, 'must be at most 2030, got 2031', { max: 2030 }],
      [5, 'invalid INT bound', { min: 'abc' }],
    ],
  },
  FLOAT: {
    good: [
      ['3.14', 3.14],
      ['-0.5', -0.5],
      ['.5', 0.5],
      ['1e3', 1000],
      ['42', 42],
      [2.5, 2.5],
      [0.5, 0.5, { min: 0, max: 1 }],
    ],
    bad: [
      ['abc', "expected FLOAT, got 'abc'"],
      ['1,5', 'expected FLOAT'],
      ['NaN', 'expected FLOAT'],
      ['Infinity', 'expected FLOAT'],
      [Number.NaN, 'expected FLOAT'],
      [false, 'expected FLOAT, got false'],
      [1.5, 'must be at most 1, got 1.5', { max: 1 }],
      [-0.1, 'must be at least 0, got -0.1', { min: 0 }],
    ],
  },
  BOOLEAN: {
    good: [
      [true, true],
      [false, false],
      ['true', true],
      ['false', false],
      ['TRUE', true],
      [' False ', false],
    ],
    bad: [
      ['yes', "expected BOOLEAN (true or false), got 'yes'"],
      ['1', 'expected BOOLEAN'],
      [1, 'expected BOOLEAN (true or false), got 1'],
      ['', 'expected BOOLEAN'],
    ],
  },
  BOOL: {
    good: [['true', true], [false, false]],
    bad: [['no', "expected BOOL (true or false), got 'no'"]],
  },
  DATETIME: {
    good: [
      ['2024-01-15T09:30:00Z', '2024-01-15T09:30:00Z'],
      ['2024-01-15T09:30Z', '2024-01-15T09:30:00Z'],
      ['2024-01-15T11:30:00+02:00', '2024-01-15T09:30:00Z'],
      ['2024-01-15T04:00:00-05:30', '2024-01-15T09:30:00Z'],
      ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00Z'],
      ['2024-01-15T09:30:00.5Z', '2024-01-15T09:30:00.500Z'],
      ['2024-01-15T09:30:00.123456Z', '2024-01-15T09:30:00.123456Z'],
      ['2024-01-15T09:30:00.123456789Z', '2024-01-15T09:30:00.123456789Z'],
      ['2024-01-15t09:30:00z', '2024-01-15T09:30:00Z'],
      ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00Z'],
      ['1969-07-20T20:17:40Z', '1969-07-20T20:17:40Z'],
      [new Date('2024-01-15T09:30:00.250Z'), '2024-01-15T09:30:00.250Z'],
      ['2024-06-01T00:00:00Z', '2024-06-01T00:00:00Z', { after: '2024-01-01T00:00:00Z', before: '2024-12-31T23:59:59Z' }],
      ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', { after: '2024-01-01T01:00:00+01:00' }],
    ],
    bad: [
      ['2024-01-15T09:30:00', 'expected DATETIME (ISO-8601 with a zone'],
      ['2024-01-15', 'expected DATETIME'],
      ['2023-02-29T00:00:00Z', 'expected DATETIME'],
      ['2024-13-01T00:00:00Z', 'expected DATETIME'],
      ['2024-01-15T24:00:00Z', 'expected DATETIME'],
      ['2024-01-15T09:30:00+19:00', 'expected DATETIME'],
      ['yesterday', "expected DATETIME (ISO-8601 with a zone, e.g. 2024-01-15T09:30:00Z), got 'yesterday'"],
      [1705311000, 'expected DATETIME'],
      ['2023-12-31T23:59:59Z', 'must be after 2024-01-01T00:00:00Z, got 2023-12-31T23:59:59Z', { after: '2024-01-01T00:00:00Z' }],
      ['2025-01-01T00:00:00Z', 'must be before 2024-12-31T23:59:59Z', { before: '2024-12-31T23:59:59Z' }],
      ['2024-06-01T00:00:00Z', 'invalid DATETIME bound', { after: 'soon' }],
    ],
  },
  DATE: {
    good: [
      ['2024-01-15', '2024-01-15'],
      ['2024-02-29', '2024-02-29'],
      ['2000-02-29', '2000-02-29'],
      ['2024-06-15', '2024-06-15', { after: '2024-01-01', before: '2024-12-31' }],
    ],
    bad: [
      ['2024-1-15', 'expected DATE (yyyy-MM-dd)'],
      ['15/01/2024', 'expected DATE'],
      ['2023-02-29', 'expected DATE'],
      ['1900-02-29', 'expected DATE'],
      ['2024-04-31', 'expected DATE'],
      ['2024-01-15T00:00:00Z', 'expected DATE'],
      ['2023-12-31', 'must be after 2024-01-01, got 2023-12-31', { after: '2024-01-01' }],
      ['2025-01-01', 'must be before 2024-12-31', { before: '2024-12-31' }],
    ],
  },
  TIME: {
    good: [
      ['10:15', '10:15'],
      ['10:15:00', '10:15'],
      ['10:15:30', '10:15:30'],
      ['00:00:00.5', '00:00:00.500'],
      ['23:59:59.123456789', '23:59:59.123456789'],
      ['12:00', '12:00', { after: '09:00', before: '17:00:00' }],
    ],
    bad: [
      ['25:00', 'expected TIME (HH:mm[:ss[.SSS]])'],
      ['10:60', 'expected TIME'],
      ['9:15', 'expected TIME'],
      ['10:15 PM', 'expected TIME'],
      ['08:59', 'must be after 09:00, got 08:59', { after: '09:00' }],
      ['17:00:01', 'must be before 17:00, got 17:00:01', { before: '17:00' }],
    ],
  },
  DURATION: {
    good: [
      ['PT10S', 'PT10S'],
      ['PT90S', 'PT1M30S'],
      ['P1D', 'PT24H'],
      ['PT1H30M', 'PT1H30M'],
      ['PT0.5S', 'PT0.5S'],
      ['PT0S', 'PT0S'],
      ['pt2m', 'PT2M'],
      ['PT5M', 'PT5M', { min: 'PT1M', max: 'PT1H' }],
    ],
    bad: [
      ['10s', "expected DURATION (ISO-8601, e.g. PT30S, PT1H, P1D), got '10s'"],
      ['PT', 'expected DURATION'],
      [10, 'expected DURATION (ISO-8601, e.g. PT30S, PT1H, P1D), got 10'],
      ['PT30S', 'must be at least PT1M, got PT30S', { min: 'PT1M' }],
      ['PT2H', 'must be at most PT1H, got PT2H', { max: 'PT1H' }],
      ['PT2H', 'invalid DURATION bound', { max: 'one hour' }],
    ],
  },
  SELECT: {
    good: [
      ['b', 'b', { values: ['a', 'b', 'c'] }],
      [2, '2', { values: [1, 2, 3] }],
      ['custom', 'custom', { values: ['a'], allowCustomValue: true }],
    ],
    bad: [
      ['d', "must be one of [a, b, c], got 'd'", { values: ['a', 'b', 'c'] }],
      ['A', 'must be one of [a, b, c]', { values: ['a', 'b', 'c'] }],
      ['x', 'must be one of the (empty) list of values', {}],
      [['a'], 'expected SELECT, got a list', { values: ['a'] }],
    ],
  },
  ENUM: {
    good: [['GCP', 'GCP', { values: ['AWS', 'GCP'] }]],
    bad: [['Azure', "must be one of [AWS, GCP], got 'Azure'", { values: ['AWS', 'GCP'] }]],
  },
  MULTISELECT: {
    good: [
      [['a', 'c'], ['a', 'c'], { values: ['a', 'b', 'c'] }],
      ['["a","b"]', ['a', 'b'], { values: ['a', 'b', 'c'] }],
      [[], [], { values: ['a'] }],
      [['x', 'y'], ['x', 'y'], { values: ['a'], allowCustomValue: true }],
      [[1, 2], [1, 2], { values: ['1', '2'], itemType: 'INT' }],
    ],
    bad: [
      [['a', 'd'], "'d' is not one of [a, b, c]", { values: ['a', 'b', 'c'] }],
      ['a,b', "expected MULTISELECT (a list or a JSON array), got 'a,b'", { values: ['a', 'b'] }],
      ['{"a":1}', 'expected MULTISELECT (a list or a JSON array)', { values: ['a'] }],
      [[{ a: 1 }], 'item [0]: expected STRING, got an object', { values: ['a'] }],
    ],
  },
  ARRAY: {
    good: [
      [['brand', 'price'], ['brand', 'price'], { itemType: 'STRING' }],
      ['["brand","price"]', ['brand', 'price'], { itemType: 'STRING' }],
      ['[1, "2", 3]', [1, 2, 3], { itemType: 'INT' }],
      [['true', false], [true, false], { itemType: 'BOOLEAN' }],
      [['2024-01-15T11:30:00+02:00'], ['2024-01-15T09:30:00Z'], { itemType: 'DATETIME' }],
      [[{ a: 1 }, '{"b":2}'], [{ a: 1 }, { b: 2 }], { itemType: 'JSON' }],
      [[], [], { itemType: 'FLOAT' }],
    ],
    bad: [
      [['a'], 'ARRAY needs an itemType', {}],
      [['a'], 'ARRAY itemType cannot be ARRAY', { itemType: 'ARRAY' }],
      ['[1, "x"]', "item [1]: expected INT, got 'x'", { itemType: 'INT' }],
      ['[1, null]', 'item [1]: expected INT, got no value', { itemType: 'INT' }],
      ['not json', "expected ARRAY (a list or a JSON array), got 'not json'", { itemType: 'STRING' }],
      [{ a: 1 }, 'expected ARRAY (a list or a JSON array), got an object', { itemType: 'STRING' }],
    ],
  },
  JSON: {
    good: [
      ['{"a":1,"b":[true,null]}', { a: 1, b: [true, null] }],
      ['[1,2]', [1, 2]],
      ['"text"', 'text'],
      ['5', 5],
      [{ already: 'parsed' }, { already: 'parsed' }],
      [[1, 2], [1, 2]],
    ],
    bad: [
      ['{a:1}', "expected JSON, got '{a:1}'"],
      ['', 'expected JSON'],
    ],
  },
  YAML: {
    good: [
      ['a: 1\nb:\n  - x\n  - y\n', { a: 1, b: ['x', 'y'] }],
      ['- 1\n- 2', [1, 2]],
      ['plain', 'plain'],
      ['{"json": "is yaml"}', { json: 'is yaml' }],
      [{ native: true }, { native: true }],
    ],
    bad: [
      ['a: [1, 2', 'expected YAML'],
      ['a: 1\n a: 2', 'expected YAML'],
    ],
  },
  URI: {
    good: [
      ['https://kestra.io/docs', 'https://kestra.io/docs'],
      ['http://localhost:8080/api?x=1#top', 'http://localhost:8080/api?x=1#top'],
      ['s3://bucket/key.csv', 's3://bucket/key.csv'],
      ['ftp://user:pass@host.example.com/file', 'ftp://user:pass@host.example.com/file'],
    ],
    bad: [
      ['not a uri', "expected a URI such as https://example.com/path, got 'not a uri'"],
      ['kestra.io/docs', 'expected a URI'],
      ['https://exa mple.com', 'expected a URI'],
      ['mailto:someone@example.com', 'expected a URI'],
      ['http://[::1', 'expected a URI'],
    ],
  },
  EMAIL: {
    good: [
      ['jane.doe@example.com', 'jane.doe@example.com'],
      ['a+tag@sub.example.co.uk', 'a+tag@sub.example.co.uk'],
      ['admin@localhost', 'admin@localhost'],
    ],
    bad: [
      ['jane.doe', "expected an email address, got 'jane.doe'"],
      ['@example.com', 'expected an email address'],
      ['jane@', 'expected an email address'],
      ['jane doe@example.com', 'expected an email address'],
      ['jane@-example.com', 'expected an email address'],
      ['', 'expected an email address'],
    ],
  },
  FILE: {
    good: [
      ['kestra:///company/team/flow/executions/e1/inputs/f/data.csv', 'kestra:///company/team/flow/executions/e1/inputs/f/data.csv'],
      ['kestra://company/team/file.txt', 'kestra:///company/team/file.txt'],
    ],
    bad: [
      ['/etc/passwd', "expected FILE (a kestra:// URI or an uploaded file), got '/etc/passwd'"],
      ['file:///etc/passwd', 'expected FILE'],
      ['kestra:///a/../../etc/passwd', "invalid kestra:// URI 'kestra:///a/../../etc/passwd'"],
      [{ fileName: 'a.csv', data: Buffer.from('x') }, 'an uploaded file can only be stored while resolving inputs'],
      [42, 'expected FILE'],
    ],
  },
};

describe('parseTyped', () => {
  for (const [type, { good, bad }] of Object.entries(CASES) as Array<[InputType, { good: Good[]; bad: Bad[] }]>) {
    describe(type, () => {
      test.each<Good>(good)(`accepts %j → %j`, (value, expected, def) => {
        expect(parseTyped(type, value, def as Partial<InputDef> | undefined)).toEqual(expected);
      });
      test.each<Bad>(bad)(`refuses %j: %s`, (value, part, def) => {
        expect(reason(type, value, def as Partial<InputDef> | undefined)).toContain(part);
      });
    });
  }

  test('every input type has cases', () => {
    const all: InputType[] = [
      'STRING', 'INT', 'FLOAT', 'BOOLEAN', 'BOOL', 'DATETIME', 'DATE', 'TIME', 'DURATION', 'SELECT', 'MULTISELECT',
      'ENUM', 'ARRAY', 'JSON', 'YAML', 'URI', 'EMAIL', 'FILE', 'SECRET',
    ];
    expect(Object.keys(CASES).sort()).toEqual([...all].sort());
  });

  test('a SECRET that fails its validator is not echoed', () => {
    const message = reason('SECRET', 'hunter2-secret', { validator: '[0-9]+' });
    expect(message).toBe('must match the pattern `[0-9]+`');
    expect(message).not.toContain('hunter2');
  });

  test('no value: an error unless the definition says it is optional', () => {
    expect(reason('INT', undefined)).toBe('expected INT, got no value');
    expect(reason('STRING', null)).toBe('expected STRING, got no value');
    expect(parseTyped('INT', null, { required: false })).toBeNull();
    expect(parseTyped('JSON', undefined, { required: false })).toBeNull();
  });

  test('an unknown type is refused', () => {
    expect(reason('NUMBER' as InputType, 1)).toBe("unknown type 'NUMBER'");
  });

  test('long values are shortened in messages', () => {
    const message = reason('INT', 'x'.repeat(500));
    expect(message.length).toBeLessThan(120);
    expect(message).toContain('...');
  });
});
