// Attribute access as Pebble resolves it on Java objects: map entries, list indexes, and the
// no-argument getters people rely on (`list.size`, `text.length`), plus the common Java methods
// callable with arguments (`text.substring(0, 3)`, `map.containsKey('k')`).
import { userRegExp } from './user-regexp.ts';
import { isMap, javaEquals, javaToString, typeName } from './values.ts';

/** Returned when an attribute does not exist (distinct from an attribute whose value is null). */
export const MISSING: unique symbol = Symbol('missing');

function listIndex(key: unknown): number | undefined {
  if (typeof key === 'number') return Number.isInteger(key) ? key : undefined;
  if (typeof key === 'string' && /^\d+$/.test(key)) return Number(key);
  return undefined;
}

/** `obj.key` / `obj[key]`, or MISSING. */
export function resolveAttribute(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return MISSING;
  if (Array.isArray(obj)) {
    const index = listIndex(key);
    if (index !== undefined) return index >= 0 && index < obj.length ? obj[index] : MISSING;
    return callMethod(obj, javaToString(key), [], true);
  }
  if (obj instanceof Map) return obj.has(key) ? obj.get(key) : MISSING;
  if (isMap(obj)) {
    const name = javaToString(key);
    return Object.hasOwn(obj, name) ? obj[name] : MISSING;
  }
  if (typeof obj === 'string') {
    const index = listIndex(key);
    if (index !== undefined) return MISSING;
    return callMethod(obj, javaToString(key), [], true);
  }
  return callMethod(obj, javaToString(key), [], true);
}

/**
 * Calls a Java-style method. With `asGetter`, `name` may also be a bean property
 * (`empty` → isEmpty()); an unknown method then yields MISSING instead of throwing.
 */
export function callMethod(obj: unknown, name: string, args: unknown[], asGetter = false): unknown {
  const method = asGetter ? (GETTER_ALIASES[name] ?? name) : name;
  const result = invoke(obj, method, args);
  if (result !== MISSING || asGetter) return result;
  throw new Error(`Method [${name}] of [${typeName(obj)}] does not exist or can not be called with ${args.length} argument(s).`);
}

const GETTER_ALIASES: Record<string, string> = { empty: 'isEmpty', blank: 'isBlank', class: 'getClass' };

function invoke(obj: unknown, method: string, args: unknown[]): unknown {
  const arity = args.length;
  const str = (i: number) => javaToString(args[i]);
  const int = (i: number) => {
    if (typeof args[i] !== 'number') throw new Error(`Method [${method}] expects a number as argument ${i + 1}`);
    return args[i] as number;
  };
  if (typeof obj === 'string') {
    switch (`${method}/${arity}`) {
      case 'length/0': return obj.length;
      case 'isEmpty/0': return obj.length === 0;
      case 'isBlank/0': return obj.trim().length === 0;
      case 'toUpperCase/0': return obj.toUpperCase();
      case 'toLowerCase/0': return obj.toLowerCase();
      case 'trim/0':
      case 'strip/0': return obj.trim();
      case 'toString/0': return obj;
      case 'contains/1': return obj.includes(str(0));
      case 'startsWith/1': return obj.startsWith(str(0));
      case 'endsWith/1': return obj.endsWith(str(0));
      case 'indexOf/1': return obj.indexOf(str(0));
      case 'lastIndexOf/1': return obj.lastIndexOf(str(0));
      case 'charAt/1': return obj.charAt(int(0));
      case 'equals/1': return obj === args[0];
      case 'equalsIgnoreCase/1': return typeof args[0] === 'string' && obj.toLowerCase() === args[0].toLowerCase();
      case 'concat/1': return obj + str(0);
      case 'substring/1': return substring(obj, int(0), obj.length);
      case 'substring/2': return substring(obj, int(0), int(1));
      case 'replace/2': return obj.split(str(0)).join(str(1));
      case 'replaceAll/2': return obj.replace(userRegExp(str(0), 'g'), javaReplacement(str(1)));
      case 'replaceFirst/2': return obj.replace(userRegExp(str(0)), javaReplacement(str(1)));
      case 'matches/1': return userRegExp(`^(?:${str(0)})$`).test(obj);
      case 'split/1': return javaSplit(obj, str(0));
    }
    return MISSING;
  }
  if (Array.isArray(obj)) {
    switch (`${method}/${arity}`) {
      case 'size/0': return obj.length;
      case 'isEmpty/0': return obj.length === 0;
      case 'get/1': {
        const i = int(0);
        if (i < 0 || i >= obj.length) throw new Error(`Index ${i} out of bounds for length ${obj.length}`);
        return obj[i];
      }
      case 'contains/1': return obj.some((item) => javaEquals(item, args[0]));
      case 'indexOf/1': return obj.findIndex((item) => javaEquals(item, args[0]));
      case 'subList/2': return obj.slice(int(0), int(1));
      case 'toString/0': return javaToString(obj);
    }
    return MISSING;
  }
  if (isMap(obj)) {
    switch (`${method}/${arity}`) {
      case 'size/0': return Object.keys(obj).length;
      case 'isEmpty/0': return Object.keys(obj).length === 0;
      case 'get/1': return obj[str(0)] ?? null;
      case 'getOrDefault/2': return Object.hasOwn(obj, str(0)) ? obj[str(0)] : args[1];
      case 'containsKey/1': return Object.hasOwn(obj, str(0));
      case 'containsValue/1': return Object.values(obj).some((v) => javaEquals(v, args[0]));
      case 'keySet/0': return Object.keys(obj);
      case 'values/0': return Object.values(obj);
      case 'toString/0': return javaToString(obj);
    }
    return MISSING;
  }
  if (typeof obj === 'number' || typeof obj === 'boolean') {
    switch (`${method}/${arity}`) {
      case 'toString/0': return javaToString(obj);
      case 'intValue/0':
      case 'longValue/0': return Math.trunc(obj as number);
      case 'doubleValue/0': return obj;
      case 'equals/1': return obj === args[0];
    }
  }
  return MISSING;
}

function substring(s: string, from: number, to: number): string {
  if (from < 0 || to > s.length || from > to) {
    throw new Error(`begin ${from}, end ${to}, length ${s.length}`);
  }
  return s.substring(from, to);
}

/** Java replacement strings use `$1` like JavaScript, and `\$` for a literal dollar. */
function javaReplacement(replacement: string): string {
  return replacement.replace(/\\\$/g, '$$$$');
}

/** Java's String.split(regex): trailing empty strings are removed. */
export function javaSplit(input: string, regex: string, limit = 0): string[] {
  if (input === '') return [''];
  const pattern = userRegExp(regex, 'g');
  const parts: string[] = [];
  let last = 0;
  for (const match of input.matchAll(pattern)) {
    if (limit > 0 && parts.length === limit - 1) break;
    const index = match.index ?? 0;
    if (match[0] === '' && (index === 0 || index === input.length)) continue;
    parts.push(input.slice(last, index));
    last = index + match[0].length;
  }
  parts.push(input.slice(last));
  if (limit === 0) {
    while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
    if (parts.length === 1 && parts[0] === '' && input !== '') return [];
  }
  return parts;
}
