/**
 * Kestra's internal-storage URI layout (`StorageContext`): `kestra:///{ns/as/path}/{flowId}/executions/…`.
 * Namespace dots become `/`; flow, task and trigger ids are slugified; execution, task-run and input
 * ids are used as they are. Every URI that reaches a backend goes through `parseKestraUri`, which is
 * where traversal is refused.
 */
import { StorageError } from './errors.ts';

export const KESTRA_SCHEME = 'kestra';

/** A validated URI: `segments` are decoded path segments, `uri` the canonical `kestra:///…` spelling. */
export interface KestraUri {
  uri: string;
  /** Decoded, '/'-rooted path (`/company/team/flow/executions/…`). */
  path: string;
  segments: string[];
}

/** Characters RFC 3986 allows unescaped in a path segment besides the unreserved ones. */
const SEGMENT_SAFE_ESCAPES: Record<string, string> = {
  '%24': '$', '%26': '&', '%2B': '+', '%2C': ',', '%3B': ';', '%3D': '=', '%3A': ':', '%40': '@',
};

/** Percent-encodes one path segment (UTF-8), leaving the characters a path segment may hold as they are. */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%(?:24|26|2B|2C|3B|3D|3A|40)/g, (m) => SEGMENT_SAFE_ESCAPES[m]);
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Parses and normalises a `kestra://` URI.
 *
 * `kestra:///a/b` is the canonical form (what Kestra's storages return). `kestra://a/b` is accepted
 * and read as `kestra:///a/b`: Java's `URI.getPath()` would silently drop `a` as an authority, which
 * is never what the writer meant. Percent-escapes are decoded once, as `URI.getPath()` does; `.`/`..`
 * segments (raw or encoded), backslashes and encoded slashes are refused as TRAVERSAL; NUL and other
 * control characters, bad escapes, queries and fragments as INVALID_URI. Empty segments collapse.
 */
export function parseKestraUri(uri: string): KestraUri {
  if (typeof uri !== 'string') throw new StorageError('INVALID_URI', String(uri), 'Storage URI must be a string');
  const match = /^kestra:\/\/\/?(.*)$/s.exec(uri);
  if (!match) throw new StorageError('INVALID_URI', uri, 'Not a kestra:// URI');
  const rest = match[1];
  if (CONTROL.test(rest)) throw new StorageError('INVALID_URI', uri, 'Control character in storage URI');
  if (rest.includes('\\')) throw new StorageError('TRAVERSAL', uri, 'Backslash in storage URI');
  if (/[?#]/.test(rest)) throw new StorageError('INVALID_URI', uri, 'Query or fragment in storage URI');

  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    if (raw === '') continue;
    const segment = decodeSegment(raw, uri);
    if (segment === '.' || segment === '..') {
      throw new StorageError('TRAVERSAL', uri, 'Relative segment in storage URI');
    }
    if (segment.includes('/') || segment.includes('\\')) {
      throw new StorageError('TRAVERSAL', uri, 'Encoded path separator in storage URI');
    }
    if (CONTROL.test(segment)) throw new StorageError('INVALID_URI', uri, 'Control character in storage URI');
    segments.push(segment);
  }
  return {
    uri: `${KESTRA_SCHEME}:///${segments.map(encodeSegment).join('/')}`,
    path: `/${segments.join('/')}`,
    segments,
  };
}

function decodeSegment(raw: string, uri: string): string {
  if (/%(?![0-9a-fA-F]{2})/.test(raw)) throw new StorageError('INVALID_URI', uri, 'Malformed percent-escape');
  try {
    return decodeURIComponent(raw);
  } catch (cause) {
    throw new StorageError('INVALID_URI', uri, 'Percent-escape is not UTF-8', { cause });
  }
}

/** True when `value` is a well-formed, confined `kestra://` URI. */
export function isKestraUri(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    parseKestraUri(value);
    return true;
  } catch {
    return false;
  }
}

/** True when `uri` is `prefix` itself or lies below it, segment by segment (`/a/b` is not under `/a/bc`). */
export function isUnderPrefix(uri: string, prefix: string): boolean {
  let child: KestraUri;
  let parent: KestraUri;
  try {
    child = parseKestraUri(uri);
    parent = parseKestraUri(prefix);
  } catch {
    return false;
  }
  return parent.segments.length <= child.segments.length
    && parent.segments.every((segment, i) => child.segments[i] === segment);
}

/** Kestra's `Slugify.of`: whitespace to '-', accents and non-word characters dropped, '_' to '-', lower case. */
export function slugify(input: string): string {
  const slug = input
    .replace(/[ \t\n\v\f\r]/g, '-') // Java's ASCII \s
    .normalize('NFD')
    .replace(/[^A-Za-z0-9_-]/g, '')
    .replace(/_/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '');
  return slug.toLowerCase();
}

/** The URI of `names` (plain, unencoded segments) below `prefix`; each name is checked like a URI segment. */
export function childUri(prefix: string, ...names: string[]): string {
  const base = parseKestraUri(prefix);
  return fromSegments([...base.segments, ...names], `${base.uri}/${names.join('/')}`);
}

function fromSegments(segments: string[], display: string): string {
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..' || segment.includes('/') || segment.includes('\\')) {
      throw new StorageError('TRAVERSAL', display, `Invalid path segment ${JSON.stringify(segment)}`);
    }
    if (CONTROL.test(segment)) throw new StorageError('INVALID_URI', display, 'Control character in storage URI');
  }
  return `${KESTRA_SCHEME}:///${segments.map(encodeSegment).join('/')}`;
}

function namespaceSegments(namespace: string): string[] {
  return namespace.split('.');
}

/** `kestra:///{ns}/{flowId}/executions/{executionId}`: everything an execution stores. */
export function executionPrefix(namespace: string, flowId: string, executionId: string): string {
  const segments = [...namespaceSegments(namespace), slugify(flowId), 'executions', executionId];
  return fromSegments(segments, `${namespace}/${flowId}/executions/${executionId}`);
}

/** `…/executions/{executionId}/tasks/{taskId}/{taskRunId}`: files written by one task run. */
export function taskRunPrefix(
  namespace: string, flowId: string, executionId: string, taskId: string, taskRunId: string,
): string {
  return fromSegments(
    [...namespaceSegments(namespace), slugify(flowId), 'executions', executionId, 'tasks', slugify(taskId), taskRunId],
    `${namespace}/${flowId}/executions/${executionId}/tasks/${taskId}/${taskRunId}`,
  );
}

/** `…/executions/{executionId}/inputs/{inputId}`: where a FILE input's upload is stored. */
export function inputPrefix(namespace: string, flowId: string, executionId: string, inputId: string): string {
  return fromSegments(
    [...namespaceSegments(namespace), slugify(flowId), 'executions', executionId, 'inputs', inputId],
    `${namespace}/${flowId}/executions/${executionId}/inputs/${inputId}`,
  );
}

/** `…/executions/{executionId}/trigger/{triggerId}`: files a trigger stored for the execution it started. */
export function triggerPrefix(namespace: string, flowId: string, executionId: string, triggerId: string): string {
  return fromSegments(
    [...namespaceSegments(namespace), slugify(flowId), 'executions', executionId, 'trigger', slugify(triggerId)],
    `${namespace}/${flowId}/executions/${executionId}/trigger/${triggerId}`,
  );
}
