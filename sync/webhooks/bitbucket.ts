import { readHeader } from './headers.ts';
import { isObject, readJsonObject, stringField } from './payload.ts';
import { emptySecretRefusal, verifyHexHmacSha256 } from './signatures.ts';
import type { PushEvent, RefChange, WebhookHeaders, WebhookRequest, WebhookVerifier, VerifyResult } from './types.ts';

const EVENT = 'X-Event-Key';
const SIGNATURE = 'X-Hub-Signature';
const PREFIX = 'sha256=';
// X-Request-UUID names one delivery. X-Hook-UUID names the webhook itself and is the same on every
// delivery, so using it as a delivery id would mark every push after the first as a duplicate.
const DELIVERY = 'X-Request-UUID';
const DELETED = '0'.repeat(40);

function detect(headers: WebhookHeaders): boolean {
  return readHeader(headers, EVENT) !== undefined;
}

function verify(request: WebhookRequest, secret: string): VerifyResult {
  const refusal = emptySecretRefusal(secret);
  if (refusal) return refusal;
  const header = readHeader(request.headers, SIGNATURE);
  if (header === undefined) return { ok: false, error: `missing ${SIGNATURE} header` };
  if (!header.startsWith(PREFIX)) return { ok: false, error: `malformed ${SIGNATURE} header: expected "${PREFIX}<hex>"` };
  return verifyHexHmacSha256(request.rawBody, secret, header.slice(PREFIX.length), SIGNATURE);
}

/** `refs/heads/<name>` or `refs/tags/<name>` for one `push.changes[]` side (`new` or `old`). */
function refOf(side: unknown): string | undefined {
  const name = stringField(side, 'name');
  if (name === undefined) return undefined;
  return stringField(side, 'type') === 'tag' ? `refs/tags/${name}` : `refs/heads/${name}`;
}

/** One entry of `push.changes`: `new` is null when the ref was deleted, then `old` names it. */
function readChange(change: unknown): RefChange | undefined {
  if (!isObject(change)) return undefined;
  if (isObject(change.new)) {
    const ref = refOf(change.new);
    if (ref === undefined) return undefined;
    const after = stringField(change.new.target, 'hash');
    return after === undefined ? { ref } : { ref, after };
  }
  const ref = refOf(change.old);
  return ref === undefined ? undefined : { ref, after: DELETED };
}

function parse(request: WebhookRequest): PushEvent | { error: string } {
  const event = readHeader(request.headers, EVENT);
  if (event === undefined) return { error: `missing ${EVENT} header` };
  const deliveryId = readHeader(request.headers, DELIVERY);
  const base = { provider: 'bitbucket' as const, event, deliveryId };
  if (event === 'diagnostics:ping') return { ...base, kind: 'ping' };
  if (event !== 'repo:push') return { ...base, kind: 'other' };
  const read = readJsonObject(request);
  if ('error' in read) return read;
  const payload = read.payload;
  const push = payload.push;
  const rawChanges = isObject(push) && Array.isArray(push.changes) ? push.changes : [];
  const changes = rawChanges.map(readChange).filter((change): change is RefChange => change !== undefined);
  if (changes.length === 0) return { error: 'push payload names no ref in push.changes' };
  return { ...base, kind: 'push', ref: changes[0].ref, after: changes[0].after, changes };
}

/** Bitbucket Cloud: `X-Hub-Signature: sha256=<hex HMAC-SHA256>`, events `repo:push` and `diagnostics:ping`. */
export const bitbucketVerifier: WebhookVerifier = { provider: 'bitbucket', detect, verify, parse };
