import { describe, expect, it } from 'vitest';
import { isoInterval, parseArrayLiteral, parseExactNumber, timestamptzInZone } from './postgresql-values.ts';

describe('PostgreSQL values as Kestra outputs them', () => {
  it('numbers that a double holds exactly, the text otherwise', () => {
    expect(parseExactNumber('12.50')).toBe(12.5);
    expect(parseExactNumber('-0.000123')).toBe(-0.000123);
    expect(parseExactNumber('9007199254740993')).toBe('9007199254740993');
    expect(parseExactNumber('123456789012345.6')).toBe('123456789012345.6');
    expect(parseExactNumber('NaN')).toBe('NaN');
  });

  it('timestamptz as the same instant in the task zone', () => {
    expect(timestamptzInZone('2020-01-01 00:10:00+02', 'UTC')).toBe('2019-12-31T22:10:00Z');
    expect(timestamptzInZone('2020-07-01 00:10:00.25+00', 'Europe/Paris')).toBe('2020-07-01T02:10:00.25+02:00');
    expect(timestamptzInZone('2020-01-01 05:30:00+05:30', 'America/New_York')).toBe('2019-12-31T19:00:00-05:00');
    expect(timestamptzInZone('infinity', 'UTC')).toBe('infinity');
  });

  it('intervals as Kestra writes a PGInterval', () => {
    expect(isoInterval('1 year 2 mons 3 days 04:05:06')).toBe('P1Y2M3DT4H5M6S');
    expect(isoInterval('-1 days -00:00:30')).toBe('P0Y0M-1DT0H0M-30S');
    expect(isoInterval('00:00:00')).toBe('P0Y0M0DT0H0M0S');
  });

  it('arrays from their text form: quoting, NULL, nesting, bounds, another delimiter', () => {
    const asNumber = (x: string) => Number(x);
    expect(parseArrayLiteral('{}', asNumber)).toEqual([]);
    expect(parseArrayLiteral('{1,2,NULL,3}', asNumber)).toEqual([1, 2, null, 3]);
    expect(parseArrayLiteral('{"a,b","say \\"hi\\"","NULL",null,"back\\\\slash",""}', String)).toEqual(['a,b', 'say "hi"', 'NULL', null, 'back\\slash', '']);
    expect(parseArrayLiteral('{{1,2},{3,4}}', asNumber)).toEqual([[1, 2], [3, 4]]);
    expect(parseArrayLiteral('[0:1]={7,8}', asNumber)).toEqual([7, 8]);
    expect(parseArrayLiteral('{(0,0),(1,1);(2,2),(3,3)}', String, ';')).toEqual(['(0,0),(1,1)', '(2,2),(3,3)']);
    expect(() => parseArrayLiteral('{1,2', asNumber)).toThrow('malformed array value at character 5: {1,2');
    expect(() => parseArrayLiteral('{"open}', String)).toThrow(/malformed array value at character/);
    expect(() => parseArrayLiteral('{1}x', asNumber)).toThrow('malformed array value at character 4: {1}x');
  });
});
