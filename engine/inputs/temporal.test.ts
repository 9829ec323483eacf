import { describe, expect, test } from 'vitest';
import { formatDuration, formatInstant, formatLocalTime, parseInstant, parseLocalTime } from './temporal.ts';

describe('Java-compatible temporal text', () => {
  test.each([
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z', 0],
    ['2000-03-01T00:00:00Z', '2000-03-01T00:00:00Z', 951_868_800],
    ['0000-01-01T00:30:00+01:00', '-0001-12-31T23:30:00Z', undefined],
    ['9999-12-31T23:30:00-01:00', '+10000-01-01T00:30:00Z', undefined],
    ['2024-01-15T09:30:00+0530', '2024-01-15T04:00:00Z', undefined],
    ['2024-01-15T09:30:00+05', '2024-01-15T04:30:00Z', undefined],
  ])('instant %s → %s', (text, printed, epoch) => {
    const instant = parseInstant(text);
    expect(instant).toBeDefined();
    expect(formatInstant(instant!)).toBe(printed);
    if (epoch !== undefined) expect(instant!.seconds).toBe(epoch);
  });

  test('an instant agrees with Date for ordinary dates', () => {
    for (const iso of ['1999-12-31T23:59:59.999Z', '2024-02-29T12:00:00.000Z', '1901-06-01T00:00:00.000Z']) {
      const instant = parseInstant(iso)!;
      expect(instant.seconds * 1000 + instant.nanos / 1e6).toBe(Date.parse(iso));
    }
  });

  test.each([
    ['00:00', 0, '00:00'],
    ['00:00:01', 1e9, '00:00:01'],
    ['12:34:56.000001', ((12 * 60 + 34) * 60 + 56) * 1e9 + 1000, '12:34:56.000001'],
    ['12:34:00.100', (12 * 60 + 34) * 60 * 1e9 + 1e8, '12:34:00.100'],
  ])('time %s', (text, nanos, printed) => {
    expect(parseLocalTime(text)).toBe(nanos);
    expect(formatLocalTime(nanos)).toBe(printed);
  });

  test.each([
    [0, 'PT0S'],
    [1, 'PT0.001S'],
    [1_500, 'PT1.5S'],
    [61_000, 'PT1M1S'],
    [3_600_000, 'PT1H'],
    [90_061_250, 'PT25H1M1.25S'],
  ])('duration %d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
