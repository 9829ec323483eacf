import { describe, expect, test } from 'vitest';
import { InvalidDurationError, parseIsoDuration } from './duration.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseIsoDuration', () => {
  test.each([
    ['PT1H', HOUR],
    ['PT30S', 30 * SECOND],
    ['PT0.2S', 200],
    ['PT1.5S', 1_500],
    ['PT0,5S', 500],
    ['PT15M', 15 * MINUTE],
    ['P1D', DAY],
    ['P1W', 7 * DAY],
    ['P2W3D', 17 * DAY],
    ['P1M', 30 * DAY],
    ['P1Y', 365 * DAY],
    ['P0.5D', 12 * HOUR],
    ['PT1.5H', 90 * MINUTE],
    ['P1DT2H30M', DAY + 2 * HOUR + 30 * MINUTE],
    ['P1Y2M3DT4H5M6.7S', 365 * DAY + 60 * DAY + 3 * DAY + 4 * HOUR + 5 * MINUTE + 6_700],
    ['PT0S', 0],
    ['pt2m', 2 * MINUTE],
    ['PT0.001S', 1],
    [' PT1H ', HOUR],
  ])('%s is %d ms', (input, ms) => {
    expect(parseIsoDuration(input)).toBe(ms);
  });

  test.each([
    ['', 'not of the form'],
    ['P', 'no component'],
    ['PT', "'T' must be followed"],
    ['P1DT', "'T' must be followed"],
    ['1H', 'not of the form'],
    ['PT1H30', 'not of the form'],
    ['P1H', 'not of the form'],
    ['PT1D', 'not of the form'],
    ['P1D1Y', 'not of the form'],
    ['-PT1H', 'not of the form'],
    ['PT-1H', 'not of the form'],
    ['P1.5DT2H', 'only the smallest component'],
    ['PT1.5M30S', 'only the smallest component'],
    ['PT.5S', 'not of the form'],
    ['1 hour', 'not of the form'],
  ])('rejects %j', (input, reason) => {
    let caught: unknown;
    try {
      parseIsoDuration(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidDurationError);
    const error = caught as InvalidDurationError;
    expect(error.input).toBe(input);
    expect(error.message).toContain(reason);
    expect(error.message).toContain(`'${input}'`);
  });

  test('rejects a non-string', () => {
    expect(() => parseIsoDuration(3600 as unknown as string)).toThrow(InvalidDurationError);
  });

  test('rejects a duration too long to count in milliseconds', () => {
    expect(() => parseIsoDuration('P99999999999Y')).toThrow(/too long/);
  });
});
