import { readHeader } from './headers.ts';
import { readJsonObject, refAndAfter } from './payload.ts';
import { emptySecretRefusal, verifyHexHmacSha256 } from './signatures.ts';
import type { PushEvent, WebhookHeaders, WebhookRequest, WebhookVerifier, VerifyResult } from './types.ts';

const EVENT = 'X-GitHub-Event';
const DELIVERY = 'X-GitHub-Delivery';
const SIGNATURE = 'X-Hub-Signature-256';
const PREFIX = 'sha256=';
// Gitea and Forgejo copy GitHub's headers; their own event headers tell them apart.
const IMITATORS = ['X-Gitea-Event', 'X-Forgejo-Event'];

function detect(headers: WebhookHeaders): boolean {
  return readHeader(headers, EVENT) !== undefined && IMITATORS.every((name) => readHeader(headers, name) === undefined);
}

function verify(request: WebhookRequest, secret: string): VerifyResult {
  const refusal = emptySecretRefusal(secret);
  if (refusal) return refusal;
  const header = readHeader(request.headers, SIGNATURE);
  if (header === undefined) {
    const sha1Only = readHeader(request.headers, 'X-Hub-Signature') !== undefined;
    return { ok: false, error: `missing ${SIGNATURE} header${sha1Only ? ' (SHA-1 X-Hub-Signature is not accepted)' : ''}` };
  }
  if (!header.startsWith(PREFIX)) return { ok: false, error: `malformed ${SIGNATURE} header: expected "${PREFIX}<hex>"` };
  return verifyHexHmacSha256(request.rawBody, secret, header.slice(PREFIX.length), SIGNATURE);
}

function parse(request: WebhookRequest): PushEvent | { error: string } {
  const event = readHeader(request.headers, EVENT);
  if (event === undefined) return { error: `missing ${EVENT} header` };
  const deliveryId = readHeader(request.headers, DELIVERY);
  const base = { provider: 'github' as const, event, deliveryId };
  if (event === 'ping') return { ...base, kind: 'ping' };
  if (event !== 'push') return { ...base, kind: 'other' };
  const read = readJsonObject(request);
  if ('error' in read) return read;
  const payload = read.payload;
  const change = refAndAfter(payload);
  if ('error' in change) return change;
  return { ...base, kind: 'push', ...change, changes: [change] };
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`, events `push` and `ping`. */
export const githubVerifier: WebhookVerifier = { provider: 'github', detect, verify, parse };
