import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { giteaVerifier } from './gitea.ts';
import { githubVerifier } from './github.ts';
import { detectProvider } from './registry.ts';
import { runVerifierContract } from './verifier.case.ts';

const ZERO = '0'.repeat(40);

function hmacHex(body: Buffer, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

function pushBody(ref: string, after: string) {
  return {
    ref,
    before: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    after,
    compare_url: 'https://gitea.example.com/acme/flows/compare/a1b2c3d4...' + after,
    commits: [],
    total_commits: 0,
    head_commit: null,
    repository: { full_name: 'acme/flows', clone_url: 'https://gitea.example.com/acme/flows.git' },
    pusher: { login: 'alice' },
    sender: { login: 'alice' },
  };
}

/** Gitea signs once and sends the digest under its own name and, for compatibility, GitHub's. */
function sign(body: Buffer, secret: string): Record<string, string> {
  const hex = hmacHex(body, secret);
  return { 'X-Gitea-Signature': hex, 'X-Gogs-Signature': hex, 'X-Hub-Signature-256': `sha256=${hex}` };
}

function giteaHeaders(event: string, deliveryId: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-Gitea-Event': event,
    'X-Gitea-Event-Type': event,
    'X-Gitea-Delivery': deliveryId,
    'X-Gogs-Event': event,
    'X-Gogs-Delivery': deliveryId,
    'X-GitHub-Event': event,
    'X-GitHub-Event-Type': event,
    'X-GitHub-Delivery': deliveryId,
  };
}

runVerifierContract('gitea', {
  verifier: giteaVerifier,
  pushHeaders: (deliveryId) => giteaHeaders('push', deliveryId),
  pushBody,
  deletionBody: (ref) => pushBody(ref, ZERO),
  sign,
  proofHeader: 'X-Gitea-Signature',
  bindsBody: true,
  malformedProofs: (valid) => [`sha256=${valid}`, `${valid.slice(0, 62)}`, `0x${valid.slice(2)}`],
  // Gitea has no ping: "Test delivery" sends a push event built from the latest commit.
  testDelivery: { headers: giteaHeaders('push', 'test-1'), body: pushBody('refs/heads/main', 'c'.repeat(40)), kind: 'push' },
  otherEvent: { headers: giteaHeaders('issues', 'issues-1'), body: { action: 'opened', number: 3 } },
});

describe('gitea specifics', () => {
  const secret = 'gitea-secret';
  const body = Buffer.from(JSON.stringify(pushBody('refs/heads/main', 'd'.repeat(40))));

  test('a Gitea delivery is verified by X-Gitea-Signature, not by the GitHub-style header it also carries', () => {
    const headers = {
      ...giteaHeaders('push', 'g-1'),
      'X-Gitea-Signature': hmacHex(body, 'not the secret'),
      'X-Hub-Signature-256': `sha256=${hmacHex(body, secret)}`,
    };
    expect(detectProvider(headers)).toBe(giteaVerifier);
    expect(githubVerifier.detect(headers)).toBe(false);
    expect(giteaVerifier.verify({ headers, rawBody: body }, secret).ok).toBe(false);
  });

  test('Forgejo: its own signature and delivery headers come first', () => {
    const headers = {
      'X-Forgejo-Event': 'push',
      'X-Forgejo-Delivery': 'forgejo-1',
      'X-Forgejo-Signature': hmacHex(body, secret),
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': 'forgejo-1',
    };
    expect(detectProvider(headers)).toBe(giteaVerifier);
    expect(giteaVerifier.verify({ headers, rawBody: body }, secret)).toEqual({ ok: true });
    expect(giteaVerifier.parse({ headers, rawBody: body })).toMatchObject({ kind: 'push', deliveryId: 'forgejo-1', ref: 'refs/heads/main' });
  });

  test('the empty X-Gitea-Signature Gitea sends when the hook has no secret counts as missing', () => {
    const headers = { ...giteaHeaders('push', 'g-2'), 'X-Gitea-Signature': '' };
    expect(giteaVerifier.verify({ headers, rawBody: body }, secret)).toEqual({ ok: false, error: expect.stringContaining('missing') });
  });

  test('reads a form-encoded delivery', () => {
    const rawBody = Buffer.from(new URLSearchParams({ payload: body.toString() }).toString());
    const headers = { ...giteaHeaders('push', 'g-3'), 'Content-Type': 'application/x-www-form-urlencoded' };
    expect(giteaVerifier.parse({ headers, rawBody })).toMatchObject({ kind: 'push', ref: 'refs/heads/main' });
  });
});
