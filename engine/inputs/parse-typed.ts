/**
 * Typed values as Kestra's `FlowInputOutput.parseType` plus each `Input.validate`: one parser per
 * type, keyed by the type name. Strings (CLI `--input k=v`, HTML forms) are coerced; native JSON
 * values are accepted where they already have the right shape. Used for inputs and typed flow outputs.
 */
import { parse as parseYaml } from 'yaml';
import { InvalidDurationError, parseIsoDuration } from '../duration.ts';
import type { InputDef, InputType } from '../flow/types.ts';
import { parseKestraUri } from '../storage/index.ts';
import { TypedValueError } from './errors.ts';
import { compileJavaRegex, JavaRegexError } from './java-regex.ts';
import {
  compareInstants, formatDuration, formatInstant, formatLocalTime, instantFromDate, parseInstant, parseLocalDate,
  parseLocalTime, type InstantValue,
} from './temporal.ts';

type TypeParser = (value: unknown, def: Partial<InputDef>) => unknown;

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const EMAIL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const URL_SHAPE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/;

/**
 * Parses and validates `value` as `type`, with the constraints of `def` (validator, min/max,
 * after/before, values, itemType). Throws TypedValueError with a reason that names no input.
 * `null`/`undefined` is an error unless `def.required === false`, then it is `null`.
 */
export function parseTyped(type: InputType, value: unknown, def: Partial<InputDef> = {}): unknown {
  if (value === null || value === undefined) {
    if (def.required === false) return null;
    throw new TypedValueError(`expected ${type}, got no value`);
  }
  const parser = PARSERS[type];
  if (!parser) throw new TypedValueError(`unknown type '${String(type)}'`);
  return parser(value, def);
}

const PARSERS: Record<InputType, TypeParser> = {
  STRING: (value, def) => matchValidator(asText('STRING', value), def, false),
  SECRET: (value, def) => matchValidator(asText('SECRET', value, true), def, true),
  EMAIL: (value) => {
    const text = asText('EMAIL', value);
    if (!EMAIL.test(text)) throw new TypedValueError(`expected an email address, got ${describe(value)}`);
    return text;
  },
  URI: (value) => {
    const text = asText('URI', value);
    if (!URL_SHAPE.test(text) || !URL.canParse(text)) {
      throw new TypedValueError(`expected a URI such as https://example.com/path, got ${describe(value)}`);
    }
    return text;
  },
  INT: (value, def) => {
    let n: number | undefined;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'bigint') n = Number(value);
    else if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) n = Number(value.trim());
    if (n === undefined || !Number.isInteger(n)) throw mismatch('INT', value);
    if (n < INT_MIN || n > INT_MAX) throw new TypedValueError(`expected INT, got ${describe(value)} (outside the 32-bit range)`);
    checkRange(n, def, (bound) => numberBound('INT', bound), String);
    return n;
  },
  FLOAT: (value, def) => {
    let n: number | undefined;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'string' && DECIMAL.test(value.trim())) n = Number(value.trim());
    if (n === undefined || !Number.isFinite(n)) throw mismatch('FLOAT', value);
    checkRange(n, def, (bound) => numberBound('FLOAT', bound), String);
    return n;
  },
  BOOLEAN: (value) => parseBoolean('BOOLEAN', value),
  BOOL: (value) => parseBoolean('BOOL', value),
  DATETIME: (value, def) => {
    const instant = value instanceof Date ? instantFromDate(value)
      : typeof value === 'string' ? parseInstant(value.trim()) : undefined;
    if (!instant) {
      throw new TypedValueError(`expected DATETIME (ISO-8601 with a zone, e.g. 2024-01-15T09:30:00Z), got ${describe(value)}`);
    }
    const bound = (text: unknown): InstantValue => {
      const parsed = typeof text === 'string' ? parseInstant(text.trim()) : undefined;
      if (!parsed) throw new TypedValueError(`invalid DATETIME bound ${describe(text)} in the definition`);
      return parsed;
    };
    checkTemporal(instant, def, bound, compareInstants, formatInstant);
    return formatInstant(instant);
  },
  DATE: (value, def) => {
    const date = typeof value === 'string' ? parseLocalDate(value.trim()) : undefined;
    if (!date) throw new TypedValueError(`expected DATE (yyyy-MM-dd), got ${describe(value)}`);
    const bound = (text: unknown): string => {
      const parsed = typeof text === 'string' ? parseLocalDate(text.trim()) : undefined;
      if (!parsed) throw new TypedValueError(`invalid DATE bound ${describe(text)} in the definition`);
      return parsed;
    };
    checkTemporal(date, def, bound, (a, b) => (a < b ? -1 : a > b ? 1 : 0), (d) => d);
    return date;
  },
  TIME: (value, def) => {
    const time = typeof value === 'string' ? parseLocalTime(value.trim()) : undefined;
    if (time === undefined) throw new TypedValueError(`expected TIME (HH:mm[:ss[.SSS]]), got ${describe(value)}`);
    const bound = (text: unknown): number => {
      const parsed = typeof text === 'string' ? parseLocalTime(text.trim()) : undefined;
      if (parsed === undefined) throw new TypedValueError(`invalid TIME bound ${describe(text)} in the definition`);
      return parsed;
    };
    checkTemporal(time, def, bound, (a, b) => a - b, formatLocalTime);
    return formatLocalTime(time);
  },
  DURATION: (value, def) => {
    const ms = typeof value === 'string' ? durationMs(value) : undefined;
    if (ms === undefined) throw new TypedValueError(`expected DURATION (ISO-8601, e.g. PT30S, PT1H, P1D), got ${describe(value)}`);
    checkRange(ms, def, (bound) => {
      const parsed = typeof bound === 'string' ? durationMs(bound) : undefined;
      if (parsed === undefined) throw new TypedValueError(`invalid DURATION bound ${describe(bound)} in the definition`);
      return parsed;
    }, formatDuration);
    return formatDuration(ms);
  },
  SELECT: (value, def) => parseSelect('SELECT', value, def),
  ENUM: (value, def) => parseSelect('ENUM', value, def),
  MULTISELECT: (value, def) => {
    const list = asList('MULTISELECT', value);
    const itemType = def.itemType ?? 'STRING';
    const items = list.map((item, i) => parseItem(itemType, item, i));
    if (!def.allowCustomValue) {
      const allowed = choices(def);
      for (const item of items) {
        if (!allowed.includes(String(item))) {
          throw new TypedValueError(`${describe(item)} is not one of ${formatChoices(allowed)}`);
        }
      }
    }
    return items;
  },
  ARRAY: (value, def) => {
    if (!def.itemType) throw new TypedValueError('ARRAY needs an itemType in its definition');
    if (def.itemType === 'ARRAY' || def.itemType === 'MULTISELECT') {
      throw new TypedValueError(`ARRAY itemType cannot be ${def.itemType}`);
    }
    const itemType = def.itemType;
    return asList('ARRAY', value).map((item, i) => parseItem(itemType, item, i));
  },
  JSON: (value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch (cause) {
      throw new TypedValueError(`expected JSON, got ${describe(value)} (${(cause as Error).message})`, { cause });
    }
  },
  YAML: (value) => {
    if (typeof value !== 'string') return value;
    try {
      return parseYaml(value) ?? null;
    } catch (cause) {
      const first = (cause as Error).message.split('\n')[0];
      throw new TypedValueError(`expected YAML, got ${describe(value)} (${first})`, { cause });
    }
  },
  FILE: (value) => {
    if (typeof value === 'string' && value.startsWith('kestra://')) {
      try {
        return parseKestraUri(value).uri;
      } catch (cause) {
        throw new TypedValueError(`invalid kestra:// URI ${describe(value)}`, { cause });
      }
    }
    if (isUploadShaped(value)) {
      // Storing an upload needs the execution's storage: resolveInputs does it through ctx.storeFile.
      throw new TypedValueError('an uploaded file can only be stored while resolving inputs');
    }
    throw new TypedValueError(`expected FILE (a kestra:// URI or an uploaded file), got ${describe(value)}`);
  },
};

function parseBoolean(type: 'BOOLEAN' | 'BOOL', value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  // Kestra's Boolean.valueOf turns any other text into false; a typo is reported here instead.
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'true') return true;
    if (text === 'false') return false;
  }
  throw new TypedValueError(`expected ${type} (true or false), got ${describe(value)}`);
}

function parseSelect(type: 'SELECT' | 'ENUM', value: unknown, def: Partial<InputDef>): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw mismatch(type, value);
  const text = String(value);
  if (def.allowCustomValue) return text;
  const allowed = choices(def);
  if (!allowed.includes(text)) throw new TypedValueError(`must be one of ${formatChoices(allowed)}, got ${describe(value)}`);
  return text;
}

function choices(def: Partial<InputDef>): string[] {
  return (def.values ?? []).filter((v) => v !== null && v !== undefined).map(String);
}

function formatChoices(values: string[]): string {
  return values.length ? `[${values.join(', ')}]` : 'the (empty) list of values';
}

function parseItem(itemType: InputType, item: unknown, index: number): unknown {
  try {
    return parseTyped(itemType, item);
  } catch (error) {
    if (error instanceof TypedValueError) throw new TypedValueError(`item [${index}]: ${error.reason}`, { cause: error });
    throw error;
  }
}

function asList(type: InputType, value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed)) return parsed;
  }
  throw new TypedValueError(`expected ${type} (a list or a JSON array), got ${describe(value)}`);
}

function asText(type: InputType, value: unknown, secret = false): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  throw secret ? new TypedValueError(`expected ${type}, got ${kindOf(value)}`) : mismatch(type, value);
}

function matchValidator(text: string, def: Partial<InputDef>, secret: boolean): string {
  if (def.validator === undefined || def.validator === null) return text;
  let regex: RegExp;
  try {
    regex = compileJavaRegex(String(def.validator));
  } catch (cause) {
    if (cause instanceof JavaRegexError) {
      throw new TypedValueError(`the validator \`${def.validator}\` cannot be used: ${cause.message}`, { cause });
    }
    throw cause;
  }
  if (!regex.test(text)) {
    throw new TypedValueError(`must match the pattern \`${def.validator}\`${secret ? '' : `, got ${describe(text)}`}`);
  }
  return text;
}

function numberBound(type: 'INT' | 'FLOAT', bound: unknown): number {
  const n = typeof bound === 'number' ? bound : typeof bound === 'string' && DECIMAL.test(bound.trim()) ? Number(bound) : NaN;
  if (!Number.isFinite(n)) throw new TypedValueError(`invalid ${type} bound ${describe(bound)} in the definition`);
  return n;
}

function checkRange<T>(value: T, def: Partial<InputDef>, bound: (raw: unknown) => T, show: (v: T) => string): void {
  if (def.min !== undefined && def.min !== null) {
    const min = bound(def.min);
    if (value < min) throw new TypedValueError(`must be at least ${show(min)}, got ${show(value)}`);
  }
  if (def.max !== undefined && def.max !== null) {
    const max = bound(def.max);
    if (value > max) throw new TypedValueError(`must be at most ${show(max)}, got ${show(value)}`);
  }
}

/** `after`/`before` are inclusive, as Kestra's `isBefore`/`isAfter` checks. */
function checkTemporal<T>(
  value: T, def: Partial<InputDef>, bound: (raw: unknown) => T, compare: (a: T, b: T) => number, show: (v: T) => string,
): void {
  if (def.after !== undefined && def.after !== null) {
    const after = bound(def.after);
    if (compare(value, after) < 0) throw new TypedValueError(`must be after ${show(after)}, got ${show(value)}`);
  }
  if (def.before !== undefined && def.before !== null) {
    const before = bound(def.before);
    if (compare(value, before) > 0) throw new TypedValueError(`must be before ${show(before)}, got ${show(value)}`);
  }
}

function durationMs(text: string): number | undefined {
  try {
    return parseIsoDuration(text);
  } catch (error) {
    if (error instanceof InvalidDurationError) return undefined;
    throw error;
  }
}

/** True for `{ fileName, data }` where data is bytes, text or `{ file: path }`. */
export function isUploadShaped(value: unknown): value is { fileName: string; data: Uint8Array | string | { file: string } } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const { fileName, data } = value as { fileName?: unknown; data?: unknown };
  if (typeof fileName !== 'string') return false;
  return data instanceof Uint8Array
    || typeof data === 'string'
    || (data !== null && typeof data === 'object' && typeof (data as { file?: unknown }).file === 'string');
}

function mismatch(type: InputType, value: unknown): TypedValueError {
  return new TypedValueError(`expected ${type}, got ${describe(value)}`);
}

/** A short, quoted rendering of a value for messages. */
function describe(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return `'${shown}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return kindOf(value);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'no value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
