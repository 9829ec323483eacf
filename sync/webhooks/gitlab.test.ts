import { describe, expect, test } from 'vitest';
import { gitlabVerifier } from './gitlab.ts';
import { runVerifierContract } from './verifier.case.ts';

const ZERO = '0'.repeat(40);

function pushBody(ref: string, after: string) {
  const tag = ref.startsWith('refs/tags/');
  return {
    object_kind: tag ? 'tag_push' : 'push',
    event_name: tag ? 'tag_push' : 'push',
    before: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    after,
    ref,
    ref_protected: true,
    checkout_sha: after === ZERO ? null : after,
    user_username: 'alice',
    project_id: 15,
    project: { path_with_namespace: 'acme/flows', git_http_url: 'https://gitlab.example.com/acme/flows.git' },
    commits: [],
    total_commits_count: 0,
  };
}

function headers(event: string, eventUuid: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'GitLab/17.2.0-ee',
    'X-Gitlab-Event': event,
    'X-Gitlab-Instance': 'https://gitlab.example.com',
    'X-Gitlab-Event-UUID': eventUuid,
    'X-Gitlab-Webhook-UUID': `webhook-${eventUuid}`,
  };
}

runVerifierContract('gitlab', {
  verifier: gitlabVerifier,
  pushHeaders: (deliveryId) => headers('Push Hook', deliveryId),
  pushBody,
  deletionBody: (ref) => pushBody(ref, ZERO),
  // GitLab sends the secret itself.
  sign: (_body, secret) => ({ 'X-Gitlab-Token': secret }),
  proofHeader: 'X-Gitlab-Token',
  bindsBody: false,
  malformedProofs: (valid) => [valid.toUpperCase(), `${valid} `.repeat(2), valid.slice(1), `Bearer ${valid}`],
  // GitLab has no ping: "Test" sends a Push Hook built from the latest push.
  testDelivery: { headers: headers('Push Hook', 'test-1'), body: pushBody('refs/heads/main', 'e'.repeat(40)), kind: 'push' },
  otherEvent: { headers: headers('Merge Request Hook', 'mr-1'), body: { object_kind: 'merge_request', object_attributes: { iid: 1 } } },
});

describe('gitlab specifics', () => {
  test('a push system hook is a push; other system hooks are other', () => {
    const push = gitlabVerifier.parse({ headers: headers('System Hook', 's-1'), rawBody: Buffer.from(JSON.stringify(pushBody('refs/heads/main', 'f'.repeat(40)))) });
    expect(push).toMatchObject({ kind: 'push', ref: 'refs/heads/main', after: 'f'.repeat(40), event: 'System Hook' });
    const created = gitlabVerifier.parse({ headers: headers('System Hook', 's-2'), rawBody: Buffer.from(JSON.stringify({ event_name: 'project_create', name: 'flows' })) });
    expect(created).toMatchObject({ kind: 'other' });
  });

  test('a Tag Push Hook is a push of the tag ref', () => {
    const event = gitlabVerifier.parse({ headers: headers('Tag Push Hook', 't-1'), rawBody: Buffer.from(JSON.stringify(pushBody('refs/tags/v2', 'f'.repeat(40)))) });
    expect(event).toMatchObject({ kind: 'push', ref: 'refs/tags/v2' });
  });

  test('the event UUID is the delivery id; the webhook UUID stands in when it is absent', () => {
    const body = Buffer.from(JSON.stringify(pushBody('refs/heads/main', 'f'.repeat(40))));
    expect(gitlabVerifier.parse({ headers: headers('Push Hook', 'ev-1'), rawBody: body })).toMatchObject({ deliveryId: 'ev-1' });
    const older = { 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Webhook-UUID': 'wh-1' };
    expect(gitlabVerifier.parse({ headers: older, rawBody: body })).toMatchObject({ deliveryId: 'wh-1' });
  });

  test('checkout_sha stands in for a missing after', () => {
    const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', checkout_sha: '1'.repeat(40) }));
    expect(gitlabVerifier.parse({ headers: headers('Push Hook', 'c-1'), rawBody: body })).toMatchObject({ after: '1'.repeat(40) });
  });

  test('a token that only shares a prefix with the secret, or extends it, is refused', () => {
    const rawBody = Buffer.from('{}');
    const secret = 'gitlab-secret-token';
    for (const token of ['gitlab-secret', `${secret}x`, 'g']) {
      expect(gitlabVerifier.verify({ headers: { 'X-Gitlab-Token': token }, rawBody }, secret).ok, token).toBe(false);
    }
    expect(gitlabVerifier.verify({ headers: { 'x-gitlab-token': secret }, rawBody }, secret)).toEqual({ ok: true });
  });
});
