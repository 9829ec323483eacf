import { describe, expect, it } from 'vitest';
import { isoInterval, parseExactNumber, timestamptzInZone } from './postgresql-values.ts';

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
});
