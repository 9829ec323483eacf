import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { githubVerifier } from './github.ts';
import { runVerifierContract } from './verifier.case.ts';

const ZERO = '0'.repeat(40);

function pushBody(ref: string, after: string, before = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678') {
  return {
    ref,
    before,
    after,
    created: false,
    deleted: after === ZERO,
    forced: false,
    repository: { full_name: 'acme/flows', clone_url: 'https://github.com/acme/flows.git' },
    pusher: { name: 'octocat' },
    head_commit: after === ZERO ? null : { id: after, message: 'flows: add nightly', added: ['flows/nightly.yml'] },
    commits: [],
  };
}

function sign(body: Buffer, secret: string): Record<string, string> {
  return { 'X-Hub-Signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
}

runVerifierContract('github', {
  verifier: githubVerifier,
  pushHeaders: (deliveryId) => ({
    'Content-Type': 'application/json',
    'User-Agent': 'GitHub-Hookshot/5a6c2f1',
    'X-GitHub-Event': 'push',
    'X-GitHub-Delivery': deliveryId,
    'X-GitHub-Hook-ID': '292430182',
  }),
  pushBody,
  deletionBody: (ref) => pushBody(ref, ZERO),
  sign,
  proofHeader: 'X-Hub-Signature-256',
  bindsBody: true,
  malformedProofs: (valid) => {
    const hex = valid.slice('sha256='.length);
    return [hex, `sha1=${hex}`, `SHA256=${hex}`, `sha256:${hex}`, ` sha256=${hex.slice(1)}`, 'sha256=', `sha256=${hex.slice(0, 40)}`];
  },
  testDelivery: {
    headers: { 'X-GitHub-Event': 'ping', 'X-GitHub-Delivery': 'ping-1' },
    body: { zen: 'Design for failure.', hook_id: 292430182, hook: { type: 'Repository', events: ['push'] } },
    kind: 'ping',
  },
  otherEvent: {
    headers: { 'X-GitHub-Event': 'issues', 'X-GitHub-Delivery': 'issues-1' },
    body: { action: 'opened', issue: { number: 1 } },
  },
});

describe('github specifics', () => {
  const secret = 'github-secret';

  test('reads a form-encoded delivery (payload=<json>), the signature covering the form body', () => {
    const json = JSON.stringify(pushBody('refs/heads/main', 'b'.repeat(40)));
    const rawBody = Buffer.from(new URLSearchParams({ payload: json }).toString());
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-github-event': 'push',
      'x-github-delivery': 'form-1',
      ...sign(rawBody, secret),
    };
    expect(githubVerifier.verify({ headers, rawBody }, secret)).toEqual({ ok: true });
    expect(githubVerifier.parse({ headers, rawBody })).toMatchObject({ kind: 'push', ref: 'refs/heads/main', after: 'b'.repeat(40) });
  });

  test('a form-encoded delivery without a payload field is an error', () => {
    const rawBody = Buffer.from('ref=refs%2Fheads%2Fmain');
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'push' };
    expect(githubVerifier.parse({ headers, rawBody })).toEqual({ error: expect.stringContaining('payload') });
  });

  test('a delivery signed only with SHA-1 is refused, and the error says why', () => {
    const rawBody = Buffer.from('{}');
    const headers = {
      'x-github-event': 'push',
      'x-hub-signature': `sha1=${createHmac('sha1', secret).update(rawBody).digest('hex')}`,
    };
    const result = githubVerifier.verify({ headers, rawBody }, secret);
    expect(result).toEqual({ ok: false, error: expect.stringContaining('SHA-1') });
  });

  test('accepts an upper-case hex digest (hex is case-insensitive)', () => {
    const rawBody = Buffer.from('{"ref":"refs/heads/main"}');
    const hex = createHmac('sha256', secret).update(rawBody).digest('hex').toUpperCase();
    expect(githubVerifier.verify({ headers: { 'x-hub-signature-256': `sha256=${hex}` }, rawBody }, secret)).toEqual({ ok: true });
  });
});
