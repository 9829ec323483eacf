import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { bitbucketVerifier } from './bitbucket.ts';
import { runVerifierContract } from './verifier.case.ts';

/** One `push.changes[]` side for a Git ref: `refs/tags/x` is a tag, anything else a branch. */
function side(ref: string, hash: string) {
  const tag = ref.startsWith('refs/tags/');
  const name = ref.replace(/^refs\/(heads|tags)\//, '');
  return { type: tag ? 'tag' : 'branch', name, target: { type: 'commit', hash } };
}

function change(ref: string, after: string | null, before = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678') {
  return {
    new: after === null ? null : side(ref, after),
    old: side(ref, before),
    created: false,
    closed: after === null,
    forced: false,
    truncated: false,
    commits: [],
  };
}

function payload(...changes: unknown[]) {
  return {
    actor: { display_name: 'Alice' },
    repository: { full_name: 'acme/flows', links: { html: { href: 'https://bitbucket.org/acme/flows' } } },
    push: { changes },
  };
}

function headers(eventKey: string, requestUuid: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'Bitbucket-Webhooks/2.0',
    'X-Event-Key': eventKey,
    'X-Hook-UUID': '{4d3b1f5c-2a6e-4b8d-9c0f-1e2d3c4b5a69}',
    'X-Request-UUID': requestUuid,
    'X-Attempt-Number': '1',
  };
}

runVerifierContract('bitbucket', {
  verifier: bitbucketVerifier,
  pushHeaders: (deliveryId) => headers('repo:push', deliveryId),
  pushBody: (ref, after) => payload(change(ref, after)),
  deletionBody: (ref) => payload(change(ref, null)),
  sign: (body, secret) => ({ 'X-Hub-Signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` }),
  proofHeader: 'X-Hub-Signature',
  bindsBody: true,
  malformedProofs: (valid) => {
    const hex = valid.slice('sha256='.length);
    return [hex, `sha1=${hex}`, `sha512=${hex}`, 'sha256=', `sha256=${hex.slice(0, 63)}`];
  },
  testDelivery: { headers: headers('diagnostics:ping', 'ping-1'), body: { test: true }, kind: 'ping' },
  otherEvent: { headers: headers('pullrequest:created', 'pr-1'), body: { pullrequest: { id: 7 } } },
});

describe('bitbucket specifics', () => {
  test('a push moving several refs lists every one of them', () => {
    const body = Buffer.from(JSON.stringify(payload(change('refs/heads/feature', 'a'.repeat(40)), change('refs/heads/main', 'b'.repeat(40)), change('refs/tags/v1', 'c'.repeat(40)))));
    const event = bitbucketVerifier.parse({ headers: headers('repo:push', 'multi-1'), rawBody: body });
    expect(event).toMatchObject({
      kind: 'push',
      ref: 'refs/heads/feature',
      after: 'a'.repeat(40),
      changes: [
        { ref: 'refs/heads/feature', after: 'a'.repeat(40) },
        { ref: 'refs/heads/main', after: 'b'.repeat(40) },
        { ref: 'refs/tags/v1', after: 'c'.repeat(40) },
      ],
    });
  });

  test('the delivery id is X-Request-UUID, never the webhook-wide X-Hook-UUID', () => {
    const body = Buffer.from(JSON.stringify(payload(change('refs/heads/main', 'b'.repeat(40)))));
    expect(bitbucketVerifier.parse({ headers: headers('repo:push', 'req-1'), rawBody: body })).toMatchObject({ deliveryId: 'req-1' });
    const withoutRequestUuid = { 'X-Event-Key': 'repo:push', 'X-Hook-UUID': '{hook}' };
    const event = bitbucketVerifier.parse({ headers: withoutRequestUuid, rawBody: body });
    expect(event).toMatchObject({ kind: 'push' });
    expect('kind' in event && event.deliveryId).toBeUndefined();
  });

  test('changes it cannot read are skipped; none readable is an error', () => {
    const body = Buffer.from(JSON.stringify(payload({ new: { type: 'branch' } }, 'junk', null)));
    expect(bitbucketVerifier.parse({ headers: headers('repo:push', 'bad-1'), rawBody: body })).toEqual({ error: expect.stringContaining('push.changes') });
  });
});
