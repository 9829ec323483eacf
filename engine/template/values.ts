// How Pebble (running on the JVM inside Kestra) sees JavaScript values: string conversion,
// JSON output, equality, ordering and truthiness follow Java's rules, not JavaScript's.

/** A JSON-like map: a plain object, not an array, Date or other class instance. */
export function isMap(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function isNullish(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

/** Java's Double.toString / Long.toString for a JS number (integral values print as longs). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return Object.is(n, -0) ? '0' : String(n);
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) return String(n);
  // Java switches to computerized scientific notation outside [1e-3, 1e7): "1.2345678E7", "1.0E-4".
  const [mantissa, exponent] = n.toExponential().split('e');
  const digits = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${digits}E${Number(exponent)}`;
}

/** Instant.toString(): ISO-8601 in UTC, fraction only when non-zero, in groups of three digits. */
export function formatInstant(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Java's String.valueOf: what `~` concatenation, `join` and string-expecting filters see. */
export function javaToString(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return formatInstant(value);
  if (Array.isArray(value)) return `[${value.map(javaToString).join(', ')}]`;
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${javaToString(k)}=${javaToString(v)}`).join(', ')}}`;
  }
  if (isMap(value)) {
    return `{${Object.entries(value).map(([k, v]) => `${k}=${javaToString(v)}`).join(', ')}}`;
  }
  return String(value);
}

/**
 * Jackson's serialization as configured by Kestra (NON_NULL inclusion, ISO dates):
 * null map entries are dropped unless `includeNulls` is set.
 */
export function toJson(value: unknown, includeNulls = false): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? formatNumber(value) : JSON.stringify(formatNumber(value));
    case 'boolean':
      return String(value);
    case 'bigint':
      return value.toString();
  }
  if (value instanceof Date) return JSON.stringify(formatInstant(value));
  if (Array.isArray(value)) return `[${value.map((v) => toJson(v, includeNulls)).join(',')}]`;
  const entries = value instanceof Map ? [...value] : Object.entries(value as object);
  const parts: string[] = [];
  for (const [k, v] of entries) {
    if (isNullish(v) && !includeNulls) continue;
    parts.push(`${JSON.stringify(String(k))}:${toJson(v, includeNulls)}`);
  }
  return `{${parts.join(',')}}`;
}

/** What `{{ expr }}` writes: nothing for null, JSON for lists and maps, Java's toString otherwise. */
export function outputString(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) || value instanceof Map || isMap(value)) return toJson(value);
  return javaToString(value);
}

/** Pebble's `==`: numbers by value, everything else by Java equals (deep for lists and maps). */
export function javaEquals(a: unknown, b: unknown): boolean {
  if (isNullish(a) || isNullish(b)) return isNullish(a) && isNullish(b);
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => javaEquals(item, b[i]));
  }
  if (isMap(a) && isMap(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && javaEquals(a[k], b[k]));
  }
  return a === b;
}

/**
 * Ordering for `<`, `>`, `<=`, `>=` and `sort`: numbers numerically, strings lexicographically
 * (Kestra's extension); anything else is an error, as in Pebble.
 */
export function javaCompare(a: unknown, b: unknown, what: string): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  throw new Error(`invalid operands for mathematical comparison [${what}]`);
}

/**
 * Pebble's cast of a condition to Boolean (TypeUtils.compatibleCast): numbers are true unless 0,
 * strings unless empty (so 'false' is true). Lists and maps, an error in Pebble, are true unless empty.
 */
export function isTruthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (isNullish(value)) return false;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0;
  if (Array.isArray(value)) return value.length > 0;
  if (isMap(value)) return Object.keys(value).length > 0;
  return true;
}

/** Pebble's `empty` test: null, blank string, empty list or map. */
export function isEmptyValue(value: unknown): boolean {
  if (isNullish(value)) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (value instanceof Map) return value.size === 0;
  if (isMap(value)) return Object.keys(value).length === 0;
  return false;
}

/** A readable type name for error messages, in Java's vocabulary where it helps. */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'List';
  if (isMap(value)) return 'Map';
  if (typeof value === 'number') return Number.isInteger(value) ? 'Long' : 'Double';
  if (typeof value === 'string') return 'String';
  if (typeof value === 'boolean') return 'Boolean';
  if (value instanceof Date) return 'Instant';
  return typeof value;
}
