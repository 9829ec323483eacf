import { describe, expect, it } from 'vitest';
import { SwitchConfigError, logFullLinesFromEnv } from './log-lines.ts';

describe('logFullLinesFromEnv', () => {
  it('is off unless BATON_LOG_FULL_LINES says on', () => {
    expect(logFullLinesFromEnv({})).toBe(false);
    for (const off of ['', '0', 'false', 'No', ' off ']) expect(logFullLinesFromEnv({ BATON_LOG_FULL_LINES: off })).toBe(false);
    for (const on of ['1', 'true', 'YES', 'on']) expect(logFullLinesFromEnv({ BATON_LOG_FULL_LINES: on })).toBe(true);
  });

  it('refuses anything else, naming the variable and the value', () => {
    expect(() => logFullLinesFromEnv({ BATON_LOG_FULL_LINES: 'sometimes' })).toThrow(SwitchConfigError);
    expect(() => logFullLinesFromEnv({ BATON_LOG_FULL_LINES: 'sometimes' })).toThrow("BATON_LOG_FULL_LINES must be 1/true/yes/on or 0/false/no/off, got 'sometimes'");
  });
});
