// Whether a log line cut at BATON_LIMIT_LOG_LINE_CHARS is also kept whole, as a file in internal storage.
// Off by default: a task printing many huge lines would otherwise fill the disk with copies nobody asked for.

/** The variable that turns whole-line storage on (`1`, `true`, `yes`, `on`) or off (`0`, `false`, `no`, `off`, unset). */
export const LOG_FULL_LINES_VARIABLE = 'BATON_LOG_FULL_LINES';

const ON = new Set(['1', 'true', 'yes', 'on']);
const OFF = new Set(['', '0', 'false', 'no', 'off']);

/** A yes/no variable set to something else. */
export class SwitchConfigError extends Error {
  constructor(readonly variable: string, readonly value: string) {
    super(`${variable} must be 1/true/yes/on or 0/false/no/off, got '${value}'`);
    this.name = 'SwitchConfigError';
  }
}

/** Reads BATON_LOG_FULL_LINES; throws SwitchConfigError for a value that is neither on nor off. */
export function logFullLinesFromEnv(env: Record<string, string | undefined>): boolean {
  const raw = env[LOG_FULL_LINES_VARIABLE];
  if (raw === undefined) return false;
  const value = raw.trim().toLowerCase();
  if (ON.has(value)) return true;
  if (OFF.has(value)) return false;
  throw new SwitchConfigError(LOG_FULL_LINES_VARIABLE, raw);
}
