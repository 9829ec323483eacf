/** ajv's errors, turned into one readable sentence per real problem, each at a property path. */
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { PathSegment } from './path.ts';
import { didYouMean } from './suggest.ts';

export interface SchemaIssue {
  /** Path of the property at fault, relative to the validated value. */
  segments: PathSegment[];
  message: string;
  /** Point at the property's key (an unknown property) rather than at its value. */
  onKey: boolean;
}

/** What was validated, to phrase messages about its own properties ("for task type T"). */
export interface SchemaSubject {
  /** e.g. `task type io.kestra.plugin.core.log.Log`, `trigger type …`, `input type STRING`; empty for the flow. */
  describe: string;
  /** What one such value is called: `task`, `trigger`, `input`… */
  noun?: string;
  /** Top-level flow keys are "top-level properties". */
  isFlow?: boolean;
}

function pointerToSegments(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `maxAttempt`, `values[2]`: how a property is named in a message. */
function label(segments: PathSegment[]): string {
  let i = segments.length - 1;
  let suffix = '';
  while (i >= 0 && typeof segments[i] === 'number') {
    suffix = `[${segments[i]}]${suffix}`;
    i--;
  }
  return i >= 0 ? `${segments[i]}${suffix}` : suffix || 'value';
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  array: 'a list',
  object: 'a map',
  null: 'null',
};

/** A short description of a YAML value for messages: `'text'`, `42`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return String(value);
}

function typeList(types: unknown): string {
  const list = Array.isArray(types) ? types : [types];
  return list.map((t) => TYPE_NAMES[String(t)] ?? String(t)).join(' or ');
}

const startsWith = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/**
 * Keep, for each `anyOf`/`oneOf` failure, only what helps: one "must be X or Y" when every branch failed on
 * its type, else the errors of the first branch whose type did match.
 */
function simplifyAlternatives(errors: ErrorObject[]): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  const replaced = new Map<ErrorObject, ErrorObject>();
  const alternatives = errors
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const alt of alternatives) {
    const children = errors.filter((e) => e !== alt && !dropped.has(e) && e.schemaPath.startsWith(`${alt.schemaPath}/`));
    if (children.length === 0) continue;
    const branchOf = (e: ErrorObject) => e.schemaPath.slice(alt.schemaPath.length + 1).split('/')[0];
    const branches = new Map<string, ErrorObject[]>();
    for (const child of children) branches.set(branchOf(child), [...(branches.get(branchOf(child)) ?? []), child]);
    const typeMiss = (list: ErrorObject[]) => list.some((e) => e.keyword === 'type' && e.instancePath === alt.instancePath);
    const kept = [...branches.values()].find((list) => !typeMiss(list));
    for (const child of children) dropped.add(child);
    if (kept) {
      for (const child of kept) dropped.delete(child);
      dropped.add(alt);
    } else {
      const types = [...branches.values()].flatMap((list) =>
        list.filter((e) => e.keyword === 'type' && e.instancePath === alt.instancePath).map((e) => e.params.type as string | string[]),
      );
      replaced.set(alt, { ...alt, keyword: 'type', params: { type: [...new Set(types.flat())] } });
    }
  }
  return errors.filter((e) => !dropped.has(e)).map((e) => replaced.get(e) ?? e);
}

/** Readable issues for ajv's errors on one validated value (a task, a trigger, an input, the flow). */
export function describeSchemaErrors(errors: ErrorObject[] | null | undefined, subject: SchemaSubject): SchemaIssue[] {
  if (!errors || errors.length === 0) return [];
  const relevant = simplifyAlternatives(errors.filter((e) => e.keyword !== 'if'));

  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  const push = (issue: SchemaIssue) => {
    const key = `${issue.segments.join('/')}|${issue.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    issues.push(issue);
  };

  for (const error of relevant) {
    const segments = pointerToSegments(error.instancePath);
    const atRoot = segments.length === 0;
    const where = atRoot ? (subject.describe ? ` for ${subject.describe}` : '') : ` in '${label(segments)}'`;
    const name = label(segments);
    switch (error.keyword) {
      case 'additionalProperties':
      case 'unevaluatedProperties': {
        const property = String(error.params.additionalProperty ?? error.params.unevaluatedProperty);
        const known = Object.keys((error.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
        const hint = didYouMean(property, known);
        const what = atRoot && subject.isFlow ? `unknown top-level property '${property}'` : `unknown property '${property}'${where}`;
        push({ segments: [...segments, property], message: `${what}${hint ? ` (did you mean '${hint}'?)` : ''}`, onKey: true });
        break;
      }
      case 'false schema': {
        // `properties: {x: false}`: a property another variant has (a retry type's own interval, …).
        const parent = segments.slice(0, -1);
        const property = String(segments[segments.length - 1]);
        const place = parent.length === 0 ? (subject.describe ? ` for ${subject.describe}` : '') : ` in '${label(parent)}'`;
        push({ segments, message: `unknown property '${property}'${place}`, onKey: true });
        break;
      }
      case 'required': {
        const property = String(error.params.missingProperty);
        push({ segments: [...segments, property], message: `missing required property '${property}'${where}`, onKey: false });
        break;
      }
      case 'type':
        push({
          segments,
          message: atRoot && !subject.isFlow
            ? `${subject.noun ? `a ${subject.noun}` : 'this value'} must be ${typeList(error.params.type)}, got ${describeValue(error.data)}`
            : `'${name}' must be ${typeList(error.params.type)}, got ${describeValue(error.data)}`,
          onKey: false,
        });
        break;
      case 'enum':
        push({
          segments,
          message: `'${name}' must be one of ${(error.params.allowedValues as unknown[]).map(String).join(', ')}, got ${describeValue(error.data)}${
            typeof error.data === 'string' ? didYouMeanSuffix(error.data, (error.params.allowedValues as unknown[]).map(String)) : ''
          }`,
          onKey: false,
        });
        break;
      case 'const':
        push({ segments, message: `'${name}' must be ${describeValue(error.params.allowedValue)}, got ${describeValue(error.data)}`, onKey: false });
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        push({ segments, message: `'${name}' must be ${error.params.comparison} ${error.params.limit}, got ${describeValue(error.data)}`, onKey: false });
        break;
      case 'minItems':
        push({
          segments,
          message: error.params.limit === 1 ? `'${name}' must not be empty` : `'${name}' must hold at least ${error.params.limit} items`,
          onKey: false,
        });
        break;
      case 'minProperties':
        push({ segments, message: `'${name}' must not be empty`, onKey: false });
        break;
      case 'minLength':
        push({
          segments,
          message: error.params.limit === 1 ? `'${name}' must not be empty` : `'${name}' must be at least ${error.params.limit} characters long`,
          onKey: false,
        });
        break;
      case 'maxLength':
        push({ segments, message: `'${name}' must be at most ${error.params.limit} characters long, got ${String(error.data).length}`, onKey: false });
        break;
      case 'pattern': {
        const custom = error.parentSchema?.['x-message'];
        push({
          segments,
          message: custom ? `${custom}, got ${describeValue(error.data)}` : `'${name}' must match ${error.params.pattern}, got ${describeValue(error.data)}`,
          onKey: false,
        });
        break;
      }
      case 'format': {
        const format = String(error.params.format);
        const expected =
          format === 'duration'
            ? 'an ISO-8601 duration such as PT30S, PT5M or P1D (or a template)'
            : format === 'static-duration'
              ? 'an ISO-8601 duration such as PT30S, PT5M or P1D'
              : `a valid ${format}`;
        push({ segments, message: `'${name}' must be ${expected}, got ${describeValue(error.data)}`, onKey: false });
        break;
      }
      case 'anyOf':
      case 'oneOf':
        push({ segments, message: `'${name}' has a value of the wrong shape: ${describeValue(error.data)}`, onKey: false });
        break;
      default:
        push({ segments, message: `'${name}' ${error.message ?? 'is invalid'}`, onKey: false });
    }
  }
  return issues;
}

function didYouMeanSuffix(value: string, candidates: string[]): string {
  const hint = didYouMean(value, candidates);
  return hint ? ` (did you mean '${hint}'?)` : '';
}
