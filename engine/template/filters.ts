// Pebble's core filters and Kestra's additions, keyed by filter name. Each behaves like its
// Java original: null input gives null (except where Pebble says otherwise), and argument
// errors carry Kestra's wording.
import { createHash } from 'node:crypto';
import { stringify as toYamlText } from 'yaml';
import { integerArg, stringArg, type Arguments, type TemplateFilter } from './callables.ts';
import { formatDecimal } from './decimal-format.ts';
import type { ZonedDateTime } from './java-date.ts';
import { javaSplit } from './java-methods.ts';
import { applyJq } from './jq.ts';
import type { RenderBudget } from './render-budget.ts';
import { userRegExp } from './user-regexp.ts';
import { isEmptyValue, isMap, isNullish, javaCompare, javaEquals, javaToString, toJson, typeName } from './values.ts';

const filter = (argumentNames: readonly string[], apply: TemplateFilter['apply']): TemplateFilter => ({ argumentNames, apply });

/** A filter that turns its input into text first (see TemplateFilter.writesInput). */
const writing = (argumentNames: readonly string[], apply: TemplateFilter['apply']): TemplateFilter => ({ argumentNames, apply, writesInput: true });

/** A filter of a string input; null stays null, other values are converted with Java's toString. */
const stringFilter = (argumentNames: readonly string[], apply: (input: string, args: Arguments) => unknown): TemplateFilter =>
  writing(argumentNames, (input, args) => (isNullish(input) ? null : apply(javaToString(input), args)));

function requireList(input: unknown, name: string): unknown[] {
  if (!Array.isArray(input)) throw new Error(`'${name}' filter can only be applied to List. Actual type was: ${typeName(input)}`);
  return input;
}

// ---- dates -------------------------------------------------------------------------------------

const DATE_ARGS = ['format', 'timeZone', 'existingFormat', 'locale'] as const;

/** java.time's port and its time-zone database take ~0.3 s of CPU to load (java-date.ts): only a render that uses a date pays. */
export const loadJavaDate = () => import('./java-date.ts');

async function inputDate(input: unknown, args: Arguments, owner: string): Promise<ZonedDateTime> {
  const { toZonedDateTime, zoneOf } = await loadJavaDate();
  return toZonedDateTime(input, zoneOf(stringArg(args, 'timeZone', owner)), stringArg(args, 'existingFormat', owner));
}

/** AbstractDate.format: named format or Java pattern, shown in timeZone (default: the system zone). */
export async function formatWithArgs(date: ZonedDateTime, args: Arguments, owner: string): Promise<string> {
  const { formatDate, zoneOf } = await loadJavaDate();
  const format = stringArg(args, 'format', owner) ?? 'iso';
  return formatDate(date, format, zoneOf(stringArg(args, 'timeZone', owner)), stringArg(args, 'locale', owner) ?? 'en-US');
}

// ---- strings -----------------------------------------------------------------------------------

/** Java's Character.isWhitespace, close enough for title/capitalize. */
const isWhitespace = (c: string) => /\s/.test(c);

function title(value: string): string {
  let out = '';
  let capitalizeNext = true;
  for (const c of value) {
    if (isWhitespace(c)) {
      capitalizeNext = true;
      out += c;
    } else if (capitalizeNext) {
      out += c.toUpperCase();
      capitalizeNext = false;
    } else {
      out += c;
    }
  }
  return out;
}

function capitalize(value: string): string {
  const i = [...value].findIndex((c) => !isWhitespace(c));
  if (i < 0) return value;
  const chars = [...value];
  chars[i] = chars[i].toUpperCase();
  return chars.join('');
}

function abbreviate(value: string, maxWidth: number): string {
  if (maxWidth < 0) throw new Error('Invalid argument to abbreviate filter; must be greater than zero');
  if (value.length < maxWidth || value.length <= 3) return value;
  if (maxWidth <= 3) return value.slice(0, maxWidth);
  return value.slice(0, maxWidth - 3) + '...';
}

/** Java's String.trim: strips every char <= U+0020 at both ends. */
function javaTrim(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value.charCodeAt(start) <= 32) start++;
  while (end > start && value.charCodeAt(end - 1) <= 32) end--;
  return value.slice(start, end);
}

/** Kestra's Slugify: whitespace to dashes, accents dropped, non-word chars removed, lower case. */
function slugify(value: string): string {
  let slug = value.replace(/\s/g, '-').normalize('NFD').replace(/[^\w-]/g, '').replace(/_/g, '-');
  while (slug.includes('--')) slug = slug.replace(/--/g, '-');
  slug = slug.replace(/^-/, '').replace(/-$/, '');
  return slug.toLowerCase();
}

/** java.net.URLEncoder.encode(value, UTF-8). */
function urlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function urlDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

function hash(algorithm: string): TemplateFilter {
  return filter([], (input) => {
    if (isNullish(input)) return null;
    if (typeof input !== 'string') throw new Error('Need a string to hash');
    return createHash(algorithm).update(input, 'utf8').digest('hex');
  });
}

const substring = (pick: (input: string, separator: string) => string, name: string) =>
  stringFilter(['separator'], (input, args) => pick(input, stringArg(args, 'separator', `${name}' filter`, true) as string));

function indent(kind: 'indent' | 'nindent'): TemplateFilter {
  return writing(['amount', 'prefix'], (input, args, scope) => {
    if (isNullish(input)) return null;
    const text = javaToString(input);
    if (text === '') return text;
    if (args.amount === undefined) throw new Error(`The '${kind}' filter expects an integer as argument 'amount'.`);
    const amount = integerArg(args, 'amount', `${kind}' filter`) as number;
    if (amount < 0) throw new Error(`The '${kind}' filter expects a positive integer >=0 as argument 'amount'.`);
    const unit = stringArg(args, 'prefix', `${kind}' filter`) ?? ' ';
    scope.budget.checkSize(unit.length * amount, `the indentation of the '${kind}' filter`);
    const prefix = unit.repeat(amount);
    const newLine = text.includes('\r\n') ? '\r\n' : text.includes('\n\r') ? '\n\r' : text.includes('\r') && !text.includes('\n') ? '\r' : '\n';
    const base = kind === 'nindent' ? newLine + text : text;
    const lines = base.split(newLine);
    scope.budget.checkSize(base.length + (lines.length - 1) * prefix.length, `the result of the '${kind}' filter`);
    return lines.join(newLine + prefix);
  });
}

/** Kestra's replace: a map of replacements, applied in order, optionally as regular expressions, through lists and maps. */
function replaceDeep(value: unknown, pairs: [string, string][], regexp: boolean, budget: RenderBudget): unknown {
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, pairs, regexp, budget));
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, pairs, regexp, budget)]));
  let data = javaToString(value);
  for (const [from, to] of pairs) {
    if (regexp) {
      data = budget.checkValue(data.replace(userRegExp(from, 'g'), to.replace(/\\\$/g, '$$$$')), "the result of the 'replace' filter");
    } else {
      // Each replacement may be longer than what it replaces: size the result before building it.
      const parts = data.split(from);
      budget.checkSize(data.length + (parts.length - 1) * (to.length - from.length), "the result of the 'replace' filter");
      data = parts.join(to);
    }
  }
  return data;
}

function escapeDeep(value: unknown, type: string): unknown {
  if (Array.isArray(value)) return value.map((v) => escapeDeep(v, type));
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDeep(v, type)]));
  const text = javaToString(value);
  switch (type) {
    case 'SHELL':
      return text.split("'").join("'\\''");
    case 'SINGLE':
      return text.split("'").join("\\'");
    default:
      return text.split('"').join('\\"');
  }
}

/** NumberUtils.createNumber: ints, longs, decimals, hex; anything else is an error. */
function parseNumber(text: string, type: string): number {
  const trimmed = text.trim();
  let value: number;
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(trimmed)) value = Number.parseInt(trimmed, 16);
  else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfFlL]?$/.test(trimmed)) value = Number(trimmed.replace(/[dDfFlL]$/, ''));
  else throw new Error(`${text} is not a valid number.`);
  if ((type === 'INT' || type === 'LONG' || type === 'BIGINTEGER') && !Number.isInteger(value)) {
    throw new Error(`For input string: "${text}"`);
  }
  return value;
}

function sortList(input: unknown, descending: boolean): unknown[] | null {
  if (isNullish(input)) return null;
  if (!Array.isArray(input)) throw new Error('Unsupported input type for sort filter');
  const sorted = [...input].sort((a, b) => javaCompare(a, b, 'sort'));
  return descending ? sorted.reverse() : sorted;
}

// ---- the registry ------------------------------------------------------------------------------

/** Every filter a template can use, keyed by name. */
export const FILTERS: Record<string, TemplateFilter> = {
  // Pebble core
  abbreviate: stringFilter(['length'], (input, args) => abbreviate(input, integerArg(args, 'length', "abbreviate' filter", true) as number)),
  abs: filter([], (input) => {
    if (isNullish(input)) return null;
    if (typeof input !== 'number') throw new Error(`The 'abs' filter expects a number, got ${typeName(input)}`);
    return Math.abs(input);
  }),
  capitalize: stringFilter([], capitalize),
  default: filter(['default'], (input, args) => (isEmptyValue(input) ? (args.default ?? null) : input)),
  first: filter([], (input) => {
    if (isNullish(input)) return null;
    if (typeof input === 'string') return input.charAt(0);
    return requireList(input, 'first')[0] ?? null;
  }),
  last: filter([], (input) => {
    if (isNullish(input)) return null;
    if (typeof input === 'string') return input.charAt(input.length - 1);
    const list = requireList(input, 'last');
    return list[list.length - 1] ?? null;
  }),
  join: writing(['separator'], (input, args, scope) => {
    if (isNullish(input)) return null;
    if (!Array.isArray(input)) throw new Error("The 'join' filter expects that the input is either a collection or an array.");
    const separator = stringArg(args, 'separator', "join' filter") ?? '';
    const items = input.map(javaToString);
    let size = separator.length * Math.max(items.length - 1, 0);
    for (const item of items) size += item.length;
    scope.budget.checkSize(size, "the result of the 'join' filter");
    return items.join(separator);
  }),
  length: filter([], (input) => {
    if (isNullish(input)) return 0;
    if (typeof input === 'string' || Array.isArray(input)) return input.length;
    if (isMap(input)) return Object.keys(input).length;
    return 0;
  }),
  lower: stringFilter([], (input) => input.toLowerCase()),
  upper: stringFilter([], (input) => input.toUpperCase()),
  trim: stringFilter([], javaTrim),
  title: stringFilter([], title),
  merge: filter(['items'], (input, args) => {
    const items = args.items;
    if (Array.isArray(input) && Array.isArray(items)) return [...input, ...items];
    if (isMap(input) && isMap(items)) return { ...input, ...items };
    if (Array.isArray(input) && isMap(items)) return [...input, ...Object.entries(items).map(([key, value]) => ({ key, value }))];
    throw new Error('The merge filter only merges two lists or two maps.');
  }),
  numberFormat: filter(['format'], (input, args) => {
    if (isNullish(input)) return null;
    if (typeof input !== 'number') throw new Error(`The 'numberFormat' filter expects a number, got ${typeName(input)}`);
    const format = stringArg(args, 'format', "numberFormat' filter");
    return format === undefined ? input.toLocaleString('en-US', { maximumFractionDigits: 3 }) : formatDecimal(input, format);
  }),
  reverse: filter([], (input) => {
    if (isNullish(input)) return null;
    if (typeof input === 'string') return [...input].reverse().join('');
    return [...requireList(input, 'reverse')].reverse();
  }),
  slice: filter(['fromIndex', 'toIndex'], (input, args) => {
    if (isNullish(input)) return null;
    if (typeof input !== 'string' && !Array.isArray(input)) {
      throw new Error(`Slice filter can only be applied to String, List and array inputs. Actual type was: ${typeName(input)}`);
    }
    const from = integerArg(args, 'fromIndex', "slice' filter") ?? 0;
    if (from < 0) throw new Error('fromIndex must be greater than 0');
    const to = integerArg(args, 'toIndex', "slice' filter") ?? input.length;
    if (to > input.length) throw new Error(`toIndex must be smaller than input size: ${input.length}`);
    if (from >= to && args.toIndex !== undefined) throw new Error('toIndex must be greater than fromIndex');
    return input.slice(from, to);
  }),
  sort: filter([], (input) => sortList(input, false)),
  rsort: filter([], (input) => sortList(input, true)),
  split: writing(['delimiter', 'limit'], (input, args) => {
    if (isNullish(input)) return null;
    const delimiter = stringArg(args, 'delimiter', "split' filter");
    if (delimiter === undefined) throw new Error('missing delimiter parameter in split filter');
    return javaSplit(javaToString(input), delimiter, integerArg(args, 'limit', "split' filter") ?? 0);
  }),
  urlencode: stringFilter([], urlEncode),
  base64encode: stringFilter([], (input) => Buffer.from(input, 'utf8').toString('base64')),
  base64decode: stringFilter([], (input) => Buffer.from(input, 'base64').toString('utf8')),
  sha256: hash('sha256'),

  // Kestra
  md5: hash('md5'),
  sha1: hash('sha1'),
  sha512: hash('sha512'),
  urldecode: stringFilter([], urlDecode),
  slugify: stringFilter([], slugify),
  startsWith: writing(['value'], (input, args) => javaToString(input).startsWith(javaToString(args.value))),
  endsWith: writing(['value'], (input, args) => javaToString(input).endsWith(javaToString(args.value))),
  substringBefore: substring((s, sep) => (sep === '' ? '' : s.includes(sep) ? s.slice(0, s.indexOf(sep)) : s), 'substringBefore'),
  substringBeforeLast: substring((s, sep) => (sep === '' || !s.includes(sep) ? s : s.slice(0, s.lastIndexOf(sep))), 'substringBeforeLast'),
  substringAfter: substring((s, sep) => (sep === '' ? s : s.includes(sep) ? s.slice(s.indexOf(sep) + sep.length) : ''), 'substringAfter'),
  substringAfterLast: substring((s, sep) => (sep === '' || !s.includes(sep) ? '' : s.slice(s.lastIndexOf(sep) + sep.length)), 'substringAfterLast'),
  indent: indent('indent'),
  nindent: indent('nindent'),
  replace: writing(['replace_pairs', 'regexp'], (input, args, scope) => {
    if (isNullish(input)) return null;
    const pairs = args.replace_pairs;
    if (isNullish(pairs)) throw new Error("The argument 'replace_pairs' is required.");
    if (!isMap(pairs)) throw new Error("The argument 'replace_pairs' must be a map, e.g. {'from': 'to'}.");
    const entries = Object.entries(pairs).map(([k, v]) => [k, javaToString(v)] as [string, string]);
    return replaceDeep(input, entries, args.regexp === true, scope.budget);
  }),
  escapeChar: writing(['type'], (input, args) => {
    if (isNullish(input)) return null;
    const type = stringArg(args, 'type', "escapeChar' filter", true)!.toUpperCase();
    if (!['SINGLE', 'DOUBLE', 'SHELL'].includes(type)) {
      throw new Error("The 'escapeChar' filter expects the value of 'type' to be either 'single', 'double', or 'shell'.");
    }
    return escapeDeep(input, type);
  }),
  toJson: writing(['includeNulls'], (input, args) => toJson(input, args.includeNulls === true)),
  json: writing(['includeNulls'], (input, args) => toJson(input, args.includeNulls === true)),
  jsonEncode: writing(['includeNulls'], (input, args) => toJson(input, args.includeNulls === true)),
  yaml: writing([], (input) => (isNullish(input) ? 'null\n' : toYamlText(input, { lineWidth: 0, indentSeq: false }))),
  keys: filter([], (input) => {
    if (isNullish(input)) return null;
    if (isMap(input)) return Object.keys(input);
    if (Array.isArray(input)) return input.map((_, i) => i);
    throw new Error(`'keys' filter can only be applied to List, Map, Array. Actual type was: ${typeName(input)}`);
  }),
  values: filter([], (input) => {
    if (isNullish(input)) return null;
    if (isMap(input)) return Object.values(input);
    throw new Error(`'values' filter can only be applied to Map. Actual type was: ${typeName(input)}`);
  }),
  number: filter(['type'], (input, args) => {
    if (isNullish(input)) return null;
    if (typeof input !== 'string') throw new Error(`'number' filter can only be applied to String. Actual type was: ${typeName(input)}`);
    return parseNumber(input, (stringArg(args, 'type', "number' filter") ?? '').toUpperCase());
  }),
  flatten: filter([], (input, _args, scope) => {
    if (isNullish(input)) return null;
    if (!Array.isArray(input)) throw new Error("The 'flatten' filter can only be applied to lists.");
    let size = 0;
    for (const item of input) size += Array.isArray(item) ? item.length : 1;
    scope.budget.checkSize(size, "the result of the 'flatten' filter");
    return input.flatMap((item) => (Array.isArray(item) ? item : [item]));
  }),
  chunk: filter(['size'], (input, args) => {
    if (isNullish(input)) return null;
    if (args.size === undefined) throw new Error("'chunk' filter expects an argument 'size'.");
    const list = requireList(input, 'chunk');
    if (typeof args.size !== 'number') throw new Error(`'chunk' filter argument 'size' must be a number. Actual type was: ${typeName(args.size)}`);
    const size = Math.trunc(args.size);
    if (size <= 0) throw new Error(`'chunk' filter argument 'size' must be positive, got ${size}`);
    const out: unknown[][] = [];
    for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
    return out;
  }),
  distinct: filter([], (input, _args, scope) => {
    if (isNullish(input)) return null;
    const out: unknown[] = [];
    for (const item of requireList(input, 'distinct')) {
      // Quadratic in the list's length: the deadline is checked inside.
      scope.budget.spend(out.length);
      if (!out.some((o) => javaEquals(o, item))) out.push(item);
    }
    return out;
  }),
  jq: writing(['expression'], async (input, args, scope) => {
    if (isNullish(input)) return null;
    return applyJq(input, stringArg(args, 'expression', "jq' filter", true)!, scope.budget);
  }),
  date: filter(DATE_ARGS, async (input, args) => (isNullish(input) ? null : formatWithArgs(await inputDate(input, args, "date' filter"), args, "date' filter"))),
  dateAdd: filter(['amount', 'unit', ...DATE_ARGS], async (input, args) => {
    if (isNullish(input)) return null;
    const owner = "dateAdd' filter";
    const amount = integerArg(args, 'amount', owner, true) as number;
    const unit = stringArg(args, 'unit', owner, true) as string;
    const { plus } = await loadJavaDate();
    return formatWithArgs(plus(await inputDate(input, args, owner), amount, unit), args, owner);
  }),
  timestamp: filter(['timeZone', 'existingFormat'], async (input, args) => (isNullish(input) ? null : (await inputDate(input, args, "timestamp' filter")).toEpochSecond())),
  timestampMilli: filter(['timeZone', 'existingFormat'], async (input, args) =>
    isNullish(input) ? null : (await inputDate(input, args, "timestampMilli' filter")).toInstant().toEpochMilli(),
  ),
  timestampMicro: filter(['timeZone', 'existingFormat'], async (input, args) =>
    isNullish(input) ? null : ((await loadJavaDate()).epochNanos(await inputDate(input, args, "timestampMicro' filter")) / 1000n).toString(),
  ),
  timestampNano: filter(['timeZone', 'existingFormat'], async (input, args) =>
    isNullish(input) ? null : (await loadJavaDate()).epochNanos(await inputDate(input, args, "timestampNano' filter")).toString(),
  ),
};
