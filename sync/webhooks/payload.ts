import { readHeader } from './headers.ts';
import type { RefChange, WebhookRequest } from './types.ts';

export type JsonObject = Record<string, unknown>;

/**
 * The delivery's JSON object. GitHub and Gitea can also be configured to send
 * `application/x-www-form-urlencoded` bodies whose `payload` field holds the JSON (GitHub's form
 * still defaults to it), so that shape is read too.
 */
export function readJsonObject(request: WebhookRequest): { payload: JsonObject } | { error: string } {
  let text = request.rawBody.toString('utf8');
  const contentType = readHeader(request.headers, 'content-type')?.toLowerCase() ?? '';
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const field = new URLSearchParams(text).get('payload');
    if (field === null) return { error: 'form-encoded payload has no "payload" field' };
    text = field;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'payload is not valid JSON' };
  }
  if (!isObject(value)) return { error: 'payload is not a JSON object' };
  return { payload: value };
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string field, or undefined for anything else. */
export function stringField(object: unknown, key: string): string | undefined {
  if (!isObject(object)) return undefined;
  const value = object[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The single ref change of a GitHub-shaped push payload (`ref`, `after`), or an error when `ref` is missing. */
export function refAndAfter(payload: JsonObject, afterFallback?: string): RefChange | { error: string } {
  const ref = stringField(payload, 'ref');
  if (ref === undefined) return { error: 'push payload has no "ref"' };
  const after = stringField(payload, 'after') ?? afterFallback;
  return after === undefined ? { ref } : { ref, after };
}
