import type { Context, MiddlewareHandler } from 'hono';
import { HttpError } from '../errors.ts';

// The one parsing layer of request input: every route reads its path, query and body through these,
// so malformed input is a 400 naming the parameter, never a database error (a 500) further down.

/** Largest integer parameter: PostgreSQL's `integer`, the type of revisions and attempts (and far beyond any page). */
export const MAX_INT_PARAM = 2_147_483_647;
/** Kestra's length limits of a namespace and a flow id. */
const MAX_NAMESPACE_CHARS = 150;
const MAX_FLOW_ID_CHARS = 100;
/** Kestra's namespace and flow id rules (the flow schema's NAMESPACE_PATTERN and FLOW_ID_PATTERN). */
const NAMESPACE = /^[a-z0-9][a-z0-9._-]*$/;
const FLOW_ID = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
const DIGITS = /^\d+$/;
/** Years PostgreSQL's timestamptz and ISO-8601 both hold without an expanded (±YYYYYY) year. */
const MIN_TIME = Date.UTC(1, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Untrusted text echoed in a message is cut short. */
const MAX_ECHO = 100;

/** `value` cut for an error message. */
export function echo(value: string): string {
  return value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}…` : value;
}

/** A positive integer query parameter (at most MAX_INT_PARAM), or a 400 naming it; `fallback` when absent. */
export function intParam(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    throw new HttpError(400, `query parameter '${name}' is required`);
  }
  // Digits only: Number() would also take '1e3', '0x10' and ' 7 ', which no Kestra client sends.
  if (!DIGITS.test(value) || Number(value) < 1) throw new HttpError(400, `query parameter '${name}' must be a positive integer, got '${echo(value)}'`);
  const n = Number(value);
  if (n > MAX_INT_PARAM) throw new HttpError(400, `query parameter '${name}' must be at most ${MAX_INT_PARAM}, got '${echo(value)}'`);
  return n;
}

/** Like intParam, undefined when absent. */
export function optionalIntParam(value: string | undefined, name: string): number | undefined {
  return value === undefined || value === '' ? undefined : intParam(value, name);
}

/**
 * `page` (from 1) and `size` of a search; a size above `maxSize` is lowered to it, as the search
 * endpoints always did (the OpenAPI document states the maximum).
 */
export function pageParams(c: Context, options: { size?: number; maxSize?: number } = {}): { page: number; size: number } {
  const page = intParam(c.req.query('page'), 'page', 1);
  const size = intParam(c.req.query('size'), 'size', options.size ?? 25);
  return { page, size: Math.min(size, options.maxSize ?? 1000) };
}

/** A strict positive integer up to `max`, or undefined: for the dashboard, whose bad filters are dropped, not fatal. */
export function boundedInt(value: string | undefined, max = MAX_INT_PARAM): number | undefined {
  if (value === undefined || !DIGITS.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && n <= max ? n : undefined;
}

/** An instant both ISO-8601 and the database can hold (years 1–9999), or undefined. */
export function instantOrUndefined(value: string): string | undefined {
  const time = Date.parse(value);
  return Number.isNaN(time) || time < MIN_TIME || time > MAX_TIME ? undefined : new Date(time).toISOString();
}

/** An ISO-8601 date-time query parameter, normalised; 400 naming it when it does not parse. */
export function dateParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  const instant = instantOrUndefined(value);
  if (instant === undefined) throw new HttpError(400, `query parameter '${name}' must be an ISO-8601 date-time between years 1 and 9999, got '${echo(value)}'`);
  return instant;
}

/** One of `allowed` (compared upper-cased), or a 400 listing them; undefined when absent. */
export function enumParam<T extends string>(value: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === '') return undefined;
  const upper = value.toUpperCase();
  if (!(allowed as readonly string[]).includes(upper)) throw new HttpError(400, `query parameter '${name}' must be one of ${allowed.join(', ')}, got '${echo(value)}'`);
  return upper as T;
}

/** Kestra's namespace rule (`^[a-z0-9][a-z0-9._-]*`, 1–150 characters), or a 400: no such namespace can exist. */
export function namespaceParam(value: string, where = "path parameter 'namespace'"): string {
  if (value.length > MAX_NAMESPACE_CHARS || !NAMESPACE.test(value)) {
    throw new HttpError(400, `${where} must be a namespace (lower-case letters, digits, '.', '_', '-'; starting with a letter or digit; at most ${MAX_NAMESPACE_CHARS} characters), got '${echo(value)}'`);
  }
  return value;
}

/** Kestra's flow id rule (`^[a-zA-Z0-9][a-zA-Z0-9._-]*`, 1–100 characters), or a 400. */
export function flowIdParam(value: string, where = "path parameter 'flowId'"): string {
  if (value.length > MAX_FLOW_ID_CHARS || !FLOW_ID.test(value)) {
    throw new HttpError(400, `${where} must be a flow id (letters, digits, '.', '_', '-'; starting with a letter or digit; at most ${MAX_FLOW_ID_CHARS} characters), got '${echo(value)}'`);
  }
  return value;
}

/** 409: the resource lives in Git. */
export function readOnlyInGit(message: string): never {
  throw new HttpError(409, message);
}

/**
 * Refuses a URL whose path or query does not decode: malformed percent-encoding, bytes that are not
 * UTF-8, or a NUL character (PostgreSQL text cannot hold one). Hono would pass the first two on
 * undecoded and the third to the database; this answers 400 naming the parameter instead.
 */
export function wellFormedUrl(): MiddlewareHandler {
  return async function wellFormedUrl(c, next) {
    const url = c.req.url;
    const pathStart = url.indexOf('/', url.indexOf('://') + 3);
    if (pathStart !== -1) {
      const queryStart = url.indexOf('?', pathStart);
      const path = url.slice(pathStart, queryStart === -1 ? undefined : queryStart);
      // Only the encoded parts need a look: a plain path has nothing to decode (and holds no NUL).
      if (path.includes('%')) for (const segment of path.split('/')) decodeComponent(segment, 'the path');
      if (queryStart !== -1) checkQuery(url.slice(queryStart + 1).replace(/#.*$/, ''));
    }
    return next();
  };
}

function checkQuery(query: string): void {
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const name = decodeComponent(rawName.replace(/\+/g, ' '), 'a query parameter name');
    if (eq !== -1) decodeComponent(pair.slice(eq + 1).replace(/\+/g, ' '), `query parameter '${echo(name)}'`);
  }
}

function decodeComponent(raw: string, where: string): string {
  let decoded: string;
  try {
    decoded = raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch (err) {
    throw new HttpError(400, `${where} has malformed percent-encoding or bytes that are not UTF-8: '${echo(raw)}'`, null, { cause: err });
  }
  if (decoded.includes('\0')) throw new HttpError(400, `${where} contains a NUL character (%00)`);
  return decoded;
}

/**
 * Throws a 400 naming where a parsed JSON value (keys included) holds text PostgreSQL cannot store:
 * a NUL character, or an unpaired surrogate (a `\\ud800` escape with no partner) — `what` at `path`.
 */
export function refuseUnstorable(value: unknown, what: string, path = ''): void {
  const at = path ? ` at ${path}` : '';
  if (typeof value === 'string') {
    const problem = unstorable(value);
    if (problem) throw new HttpError(400, `${what}${at} contains ${problem}, which cannot be stored`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => refuseUnstorable(item, what, `${path}[${i}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const problem = unstorable(key);
      if (problem) throw new HttpError(400, `${what}${at} has a key with ${problem}, which cannot be stored`);
      refuseUnstorable(item, what, path ? `${path}.${key}` : key);
    }
  }
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (UTF-16 code units). */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorable(text: string): string | undefined {
  if (text.includes('\0')) return 'a NUL character (\\u0000)';
  if (UNPAIRED_SURROGATE.test(text)) return 'an unpaired surrogate (\\ud800-\\udfff)';
  return undefined;
}

/** The body as text, refused (400) when it holds a NUL character. */
export async function textBody(c: Context, what = 'the request body'): Promise<string> {
  const text = await c.req.text();
  refuseUnstorable(text, what);
  return text;
}

/** The body parsed as JSON, or a 400 saying it is not JSON or holds text that cannot be stored (and where). */
export async function jsonBody(c: Context, what = 'the request body'): Promise<unknown> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'request body is not valid JSON', null, { cause: err });
  }
  refuseUnstorable(value, what);
  return value;
}

/** A form field: its text, or the uploaded file(s). */
export type FormValue = string | File | (string | File)[];

/**
 * A urlencoded or multipart body (every value of a repeated field kept), or a 400 when it cannot be
 * parsed or a text field holds a NUL character.
 */
export async function formBody(c: Context): Promise<Record<string, FormValue>> {
  let form: Record<string, FormValue>;
  try {
    form = (await c.req.parseBody({ all: true })) as Record<string, FormValue>;
  } catch (err) {
    throw new HttpError(400, `the ${c.req.header('content-type')?.split(';')[0] ?? 'form'} body cannot be parsed`, null, { cause: err });
  }
  for (const [name, value] of Object.entries(form)) {
    refuseUnstorable(name, 'a form field name');
    for (const one of Array.isArray(value) ? value : [value]) if (typeof one === 'string') refuseUnstorable(one, `form field '${echo(name)}'`);
  }
  return form;
}
