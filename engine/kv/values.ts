/**
 * Kestra's KV typing: which type a value gets, and what a value must look like for a given type.
 * Values are normalised to JSON so they store and read back the same on every backend:
 * DATETIME as an ISO-8601 UTC string, DATE as `YYYY-MM-DD`, DURATION as its ISO-8601 text.
 */
import { InvalidDurationError, parseIsoDuration } from '../duration.ts';
import { InvalidKvKeyError, InvalidKvValueError, KvError } from './errors.ts';
import type { KvType } from './types.ts';

/** Every KV type, in Kestra's order. */
export const KV_TYPES: readonly KvType[] = ['STRING', 'NUMBER', 'BOOLEAN', 'DATETIME', 'DATE', 'DURATION', 'JSON'];

const KEY_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
// Kestra stores DATETIME as an Instant: the zone (Z or an offset) is required.
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface TypedValue {
  type: KvType;
  value: unknown;
}

/** Throws KvError for a missing (empty) namespace. */
export function checkKvNamespace(namespace: string, key = ''): void {
  if (typeof namespace !== 'string' || namespace.length === 0) {
    throw new KvError(`a namespace is required${key ? ` for KV key '${key}'` : ''}`, String(namespace), key);
  }
}

/** Throws InvalidKvKeyError unless `key` matches Kestra's key pattern (and KvError without a namespace). */
export function checkKvKey(namespace: string, key: string): void {
  checkKvNamespace(namespace, String(key));
  if (typeof key !== 'string' || !KEY_PATTERN.test(key)) throw new InvalidKvKeyError(namespace, String(key));
}

/** Kestra's `KVType.from`: the type a JS value gets when none is given (null is a STRING). */
export function inferKvType(value: unknown): KvType {
  if (value === null || typeof value === 'string') return 'STRING';
  if (typeof value === 'number' || typeof value === 'bigint') return 'NUMBER';
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (value instanceof Date) return 'DATETIME';
  return 'JSON';
}

/** Validates `value` against `type` (inferred when absent) and normalises it for storage. */
export function toTypedValue(namespace: string, key: string, value: unknown, type?: KvType): TypedValue {
  if (type !== undefined && !KV_TYPES.includes(type)) {
    throw new InvalidKvValueError(namespace, key, String(type), `unknown type; expected one of ${KV_TYPES.join(', ')}`);
  }
  if (value === undefined) throw new InvalidKvValueError(namespace, key, type ?? 'STRING', 'no value given');
  const resolved = type ?? inferKvType(value);
  const refuse = (reason: string, cause?: unknown): never => {
    throw new InvalidKvValueError(namespace, key, resolved, reason, cause === undefined ? undefined : { cause });
  };
  // Kestra infers STRING for null; JSON has its own null; other types need a real value.
  if (value === null) {
    if (resolved === 'STRING' || resolved === 'JSON') return { type: resolved, value: null };
    return refuse('null is not a value of this type');
  }

  switch (resolved) {
    case 'STRING':
      if (typeof value === 'string') return { type: resolved, value };
      if (typeof value === 'number' || typeof value === 'boolean') return { type: resolved, value: String(value) };
      return refuse(`expected a string, got ${show(value)}`);
    case 'NUMBER': {
      if (typeof value === 'bigint') {
        if (Number.isSafeInteger(Number(value))) return { type: resolved, value: Number(value) };
        return refuse(`${value} is too large to store exactly`);
      }
      const number = typeof value === 'string' && JSON_NUMBER.test(value.trim()) ? Number(value.trim()) : value;
      if (typeof number === 'number' && Number.isFinite(number)) return { type: resolved, value: number };
      return refuse(`expected a finite number, got ${show(value)}`);
    }
    case 'BOOLEAN':
      if (typeof value === 'boolean') return { type: resolved, value };
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) {
        return { type: resolved, value: value.trim().toLowerCase() === 'true' };
      }
      return refuse(`expected true or false, got ${show(value)}`);
    case 'DATETIME': {
      const date = value instanceof Date ? value : typeof value === 'string' && DATETIME.test(value.trim()) ? new Date(value.trim()) : undefined;
      if (date && !Number.isNaN(date.getTime())) return { type: resolved, value: date.toISOString() };
      return refuse(`expected an ISO-8601 date-time with a zone such as 2024-05-01T12:00:00Z, got ${show(value)}`);
    }
    case 'DATE': {
      if (value instanceof Date && !Number.isNaN(value.getTime())) return { type: resolved, value: value.toISOString().slice(0, 10) };
      if (typeof value === 'string' && isCalendarDate(value.trim())) return { type: resolved, value: value.trim() };
      return refuse(`expected an ISO-8601 date such as 2024-05-01, got ${show(value)}`);
    }
    case 'DURATION':
      if (typeof value !== 'string') return refuse(`expected an ISO-8601 duration such as PT1H, got ${show(value)}`);
      try {
        parseIsoDuration(value);
      } catch (error) {
        if (error instanceof InvalidDurationError) return refuse(`expected an ISO-8601 duration such as PT1H, got '${value}'`, error);
        throw error;
      }
      return { type: resolved, value: value.trim().toUpperCase() };
    case 'JSON': {
      if (typeof value === 'string') {
        try {
          return { type: resolved, value: JSON.parse(value) as unknown };
        } catch (error) {
          return refuse(`expected JSON text, got ${show(value)}`, error);
        }
      }
      const problem = jsonProblem(value, '$', new Set());
      if (problem) return refuse(problem);
      return { type: resolved, value: JSON.parse(JSON.stringify(value)) as unknown };
    }
  }
}

function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Why `value` has no faithful JSON form (JSON.stringify would drop, alter or choke on it), or null. */
function jsonProblem(value: unknown, path: string, ancestors: Set<object>): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${path} is ${value}, which JSON cannot represent`;
    case 'object': {
      if (value === null || value instanceof Date) return null;
      if (ancestors.has(value)) return `${path} refers back to an enclosing value (a cycle)`;
      ancestors.add(value);
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            const problem = value[i] === undefined ? `${path}[${i}] is undefined` : jsonProblem(value[i], `${path}[${i}]`, ancestors);
            if (problem) return problem;
          }
          return null;
        }
        const prototype = Object.getPrototypeOf(value) as unknown;
        if (prototype !== Object.prototype && prototype !== null) return `${path} is ${show(value)}, not plain data`;
        for (const [name, item] of Object.entries(value)) {
          if (item === undefined) continue; // absent, as in JSON
          const problem = jsonProblem(item, `${path}.${name}`, ancestors);
          if (problem) return problem;
        }
        return null;
      } finally {
        ancestors.delete(value);
      }
    }
    default:
      return `${path} is ${show(value)}, which JSON cannot represent`;
  }
}

/** A short description of a value for error messages. */
function show(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value)}`;
}
