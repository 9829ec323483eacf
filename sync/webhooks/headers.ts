import type { WebhookHeaders } from './types.ts';

/**
 * A header's value, looked up case-insensitively in either header shape. An empty value counts as
 * absent: Gitea, for one, sends an empty signature header when the hook has no secret.
 */
export function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  let value: string | undefined;
  if (headers instanceof Headers) {
    value = headers.get(name) ?? undefined;
  } else {
    const wanted = name.toLowerCase();
    value = headers[wanted] ?? headers[name];
    if (value === undefined) {
      for (const [key, candidate] of Object.entries(headers)) {
        if (key.toLowerCase() === wanted && candidate !== undefined) {
          value = candidate;
          break;
        }
      }
    }
  }
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** The first of several header spellings that is present. */
export function readFirstHeader(headers: WebhookHeaders, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = readHeader(headers, name);
    if (value !== undefined) return value;
  }
  return undefined;
}
