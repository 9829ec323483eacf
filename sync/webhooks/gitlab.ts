import { readFirstHeader, readHeader } from './headers.ts';
import { readJsonObject, refAndAfter, stringField } from './payload.ts';
import { constantTimeEqualText, emptySecretRefusal } from './signatures.ts';
import type { PushEvent, WebhookHeaders, WebhookRequest, WebhookVerifier, VerifyResult } from './types.ts';

const EVENT = 'X-Gitlab-Event';
const TOKEN = 'X-Gitlab-Token';
// The event UUID is per event (GitLab's own retries keep it); the webhook UUID is drawn per request.
const DELIVERY = ['X-Gitlab-Event-UUID', 'X-Gitlab-Webhook-UUID'];
const PUSH_EVENTS = new Set(['Push Hook', 'Tag Push Hook']);
// A system hook reports every project's pushes under one event name; `event_name` tells them apart.
const SYSTEM_HOOK = 'System Hook';
const SYSTEM_PUSH_NAMES = new Set(['push', 'tag_push']);

function detect(headers: WebhookHeaders): boolean {
  return readHeader(headers, EVENT) !== undefined;
}

/** GitLab sends the secret itself, so the check is a constant-time string comparison, not an HMAC. */
function verify(request: WebhookRequest, secret: string): VerifyResult {
  const refusal = emptySecretRefusal(secret);
  if (refusal) return refusal;
  const token = readHeader(request.headers, TOKEN);
  if (token === undefined) return { ok: false, error: `missing ${TOKEN} header` };
  if (!constantTimeEqualText(token, secret)) return { ok: false, error: `${TOKEN} does not match the configured secret` };
  return { ok: true };
}

function parse(request: WebhookRequest): PushEvent | { error: string } {
  const event = readHeader(request.headers, EVENT);
  if (event === undefined) return { error: `missing ${EVENT} header` };
  const deliveryId = readFirstHeader(request.headers, DELIVERY);
  const base = { provider: 'gitlab' as const, event, deliveryId };
  if (!PUSH_EVENTS.has(event) && event !== SYSTEM_HOOK) return { ...base, kind: 'other' };
  const read = readJsonObject(request);
  if ('error' in read) return read;
  const payload = read.payload;
  if (event === SYSTEM_HOOK && !SYSTEM_PUSH_NAMES.has(stringField(payload, 'event_name') ?? '')) {
    return { ...base, kind: 'other' };
  }
  // GitLab has no ping: "Test" sends a Push Hook with real data. `checkout_sha` stands in for a missing `after`.
  const change = refAndAfter(payload, stringField(payload, 'checkout_sha'));
  if ('error' in change) return change;
  return { ...base, kind: 'push', ...change, changes: [change] };
}

/** GitLab: plain secret in `X-Gitlab-Token`, events `Push Hook`, `Tag Push Hook` and push system hooks. */
export const gitlabVerifier: WebhookVerifier = { provider: 'gitlab', detect, verify, parse };
