import { readFirstHeader } from './headers.ts';
import { readJsonObject, refAndAfter } from './payload.ts';
import { emptySecretRefusal, verifyHexHmacSha256 } from './signatures.ts';
import type { PushEvent, WebhookHeaders, WebhookRequest, WebhookVerifier, VerifyResult } from './types.ts';

// Forgejo sends its own headers and Gitea's; Gitea also sends GitHub's, which are ignored here.
const EVENT = ['X-Forgejo-Event', 'X-Gitea-Event'];
const DELIVERY = ['X-Forgejo-Delivery', 'X-Gitea-Delivery'];
const SIGNATURE = ['X-Forgejo-Signature', 'X-Gitea-Signature'];

function detect(headers: WebhookHeaders): boolean {
  return readFirstHeader(headers, EVENT) !== undefined;
}

function verify(request: WebhookRequest, secret: string): VerifyResult {
  const refusal = emptySecretRefusal(secret);
  if (refusal) return refusal;
  const signature = readFirstHeader(request.headers, SIGNATURE);
  if (signature === undefined) return { ok: false, error: 'missing X-Gitea-Signature (or X-Forgejo-Signature) header' };
  return verifyHexHmacSha256(request.rawBody, secret, signature, 'X-Gitea-Signature');
}

function parse(request: WebhookRequest): PushEvent | { error: string } {
  const event = readFirstHeader(request.headers, EVENT);
  if (event === undefined) return { error: 'missing X-Gitea-Event header' };
  const deliveryId = readFirstHeader(request.headers, DELIVERY);
  const base = { provider: 'gitea' as const, event, deliveryId };
  // Gitea has no ping event: its "Test delivery" button sends a push built from the latest commit.
  if (event !== 'push') return { ...base, kind: 'other' };
  const read = readJsonObject(request);
  if ('error' in read) return read;
  const payload = read.payload;
  const change = refAndAfter(payload);
  if ('error' in change) return change;
  return { ...base, kind: 'push', ...change, changes: [change] };
}

/** Gitea and Forgejo: bare-hex HMAC-SHA256 in `X-Gitea-Signature` / `X-Forgejo-Signature`, event `push`. */
export const giteaVerifier: WebhookVerifier = { provider: 'gitea', detect, verify, parse };
