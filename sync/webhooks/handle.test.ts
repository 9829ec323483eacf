import { createHmac } from 'node:crypto';
import { beforeEach, describe, expect, test } from 'vitest';
import {
  MAX_WEBHOOK_BODY_BYTES,
  handlePushWebhook,
  type PushWebhookConfig,
  type RecordOutcome,
  type SyncRequestRecord,
  type WebhookAnswer,
} from './handle.ts';
import type { WebhookRequest } from './types.ts';

const SECRET = 'correct horse battery staple';
const MAIN = { secret: SECRET, branch: 'main' } satisfies PushWebhookConfig;
const AFTER = '9c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d';
const ZERO = '0'.repeat(40);

function hmacHex(body: Buffer, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function githubPush(options: { ref?: string; after?: string; delivery?: string; secret?: string | null; event?: string; body?: Buffer } = {}): WebhookRequest {
  const rawBody = options.body ?? json({ ref: options.ref ?? 'refs/heads/main', before: 'a'.repeat(40), after: options.after ?? AFTER });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': options.event ?? 'push',
    'x-github-delivery': options.delivery ?? 'gh-1',
  };
  const secret = options.secret === undefined ? SECRET : options.secret;
  if (secret !== null) headers['x-hub-signature-256'] = `sha256=${hmacHex(rawBody, secret)}`;
  return { headers, rawBody };
}

/**
 * The recorder the HTTP layer passes in, kept in memory: rows in an array and a set of
 * provider+delivery keys standing in for the table's unique index.
 */
class MemoryRecorder {
  readonly rows: SyncRequestRecord[] = [];
  private readonly seen = new Set<string>();

  readonly record = async (row: SyncRequestRecord): Promise<RecordOutcome> => {
    if (row.deliveryId !== undefined) {
      const key = `${row.provider}\u0000${row.deliveryId}`;
      if (this.seen.has(key)) return 'duplicate';
      this.seen.add(key);
    }
    this.rows.push(row);
    return 'recorded';
  };
}

let recorder: MemoryRecorder;
beforeEach(() => {
  recorder = new MemoryRecorder();
});

function handle(request: WebhookRequest, config: PushWebhookConfig = MAIN): Promise<WebhookAnswer> {
  return handlePushWebhook(request, config, recorder.record);
}

/** Neither the secret nor any signature/token the request carried may appear in an answer. */
function expectNoEcho(answer: WebhookAnswer, request: WebhookRequest, secret = SECRET): void {
  const text = JSON.stringify(answer);
  if (secret !== '') expect(text).not.toContain(secret);
  const headers = request.headers as Record<string, string>;
  for (const name of ['x-hub-signature-256', 'x-hub-signature', 'x-gitea-signature', 'x-gitlab-token']) {
    const value = headers[name]?.replace(/^sha256=/, '');
    // Values too short to be a secret ('', 'abc') could match ordinary words of the message.
    if (value && value.length >= 6) expect(text).not.toContain(value);
  }
}

describe('a push to the watched branch', () => {
  test('is recorded once and answered 202 "sync requested"', async () => {
    const answer = await handle(githubPush());
    expect(answer).toEqual({
      status: 202,
      body: { message: 'sync requested', provider: 'github', delivery: 'gh-1', duplicate: false },
    });
    expect(recorder.rows).toEqual([{ provider: 'github', deliveryId: 'gh-1', ref: 'refs/heads/main', after: AFTER }]);
  });

  test('a replayed delivery is answered as a duplicate and not recorded twice', async () => {
    const request = githubPush({ delivery: 'gh-replay' });
    expect((await handle(request)).body.duplicate).toBe(false);
    const again = await handle(request);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ message: 'sync requested', delivery: 'gh-replay', duplicate: true });
    expect(recorder.rows).toHaveLength(1);
  });

  test('a push whose commit the recorder finds already live is answered "nothing to sync", not "sync requested"', async () => {
    const live = async (): Promise<RecordOutcome> => 'head-unchanged';
    const answer = await handlePushWebhook(githubPush({ delivery: 'gh-new-id' }), MAIN, live);
    expect(answer).toEqual({
      status: 202,
      body: { message: `nothing to sync: ${AFTER} is already live`, provider: 'github', delivery: 'gh-new-id', duplicate: false, unchanged: true },
    });
  });

  test('a second delivery with its own id is recorded as well', async () => {
    await handle(githubPush({ delivery: 'gh-a' }));
    await handle(githubPush({ delivery: 'gh-b', after: 'b'.repeat(40) }));
    expect(recorder.rows.map((row) => row.deliveryId)).toEqual(['gh-a', 'gh-b']);
  });

  test('a delivery without an id is recorded and answered with delivery null', async () => {
    const request = githubPush();
    delete (request.headers as Record<string, string>)['x-github-delivery'];
    const answer = await handle(request);
    expect(answer.body).toMatchObject({ message: 'sync requested', delivery: null, duplicate: false });
    expect(recorder.rows).toEqual([{ provider: 'github', deliveryId: undefined, ref: 'refs/heads/main', after: AFTER }]);
  });

  test('the branch may be configured as a full ref', async () => {
    const answer = await handle(githubPush(), { secret: SECRET, branch: 'refs/heads/main' });
    expect(answer.body.message).toBe('sync requested');
    expect(recorder.rows).toHaveLength(1);
  });

  test('a deletion of the watched branch is recorded without the all-zero commit, with a note', async () => {
    const answer = await handle(githubPush({ after: ZERO }));
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ message: 'sync requested', note: expect.stringContaining('deleted refs/heads/main') });
    expect(recorder.rows).toEqual([{ provider: 'github', deliveryId: 'gh-1', ref: 'refs/heads/main', after: undefined }]);
  });

  test('an error from the recorder propagates, so the host sees a failed delivery', async () => {
    const failing = async (): Promise<RecordOutcome> => {
      throw new Error('database is down');
    };
    await expect(handlePushWebhook(githubPush(), MAIN, failing)).rejects.toThrow('database is down');
  });
});

describe('pushes that are not for the watched branch', () => {
  test('a push to another branch is ignored with a 202 naming both refs', async () => {
    const answer = await handle(githubPush({ ref: 'refs/heads/x' }));
    expect(answer).toEqual({ status: 202, body: { message: 'ignored: push to refs/heads/x, watching refs/heads/main', provider: 'github' } });
    expect(recorder.rows).toEqual([]);
  });

  test('a tag push is ignored, even for a tag named like the branch', async () => {
    const answer = await handle(githubPush({ ref: 'refs/tags/main' }));
    expect(answer.status).toBe(202);
    expect(answer.body.message).toBe('ignored: push to refs/tags/main, watching refs/heads/main');
    expect(recorder.rows).toEqual([]);
  });

  test('a branch whose name merely starts with the watched one is ignored', async () => {
    expect((await handle(githubPush({ ref: 'refs/heads/main-old' }))).body.message).toMatch(/^ignored: /);
    expect(recorder.rows).toEqual([]);
  });

  test('a hostile, very long ref is clipped in the answer', async () => {
    const answer = await handle(githubPush({ ref: `refs/heads/${'y'.repeat(10_000)}` }));
    expect(answer.body.message.length).toBeLessThan(400);
    expect(recorder.rows).toEqual([]);
  });

  test('a Bitbucket push moving several refs records the watched one', async () => {
    const rawBody = json({
      push: {
        changes: [
          { new: { type: 'branch', name: 'feature', target: { hash: 'f'.repeat(40) } }, old: null },
          { new: { type: 'branch', name: 'main', target: { hash: AFTER } }, old: null },
        ],
      },
    });
    const headers = {
      'x-event-key': 'repo:push',
      'x-request-uuid': 'bb-1',
      'x-hook-uuid': '{hook}',
      'x-hub-signature': `sha256=${hmacHex(rawBody, SECRET)}`,
    };
    const answer = await handle({ headers, rawBody });
    expect(answer.body).toMatchObject({ message: 'sync requested', provider: 'bitbucket', delivery: 'bb-1' });
    expect(recorder.rows).toEqual([{ provider: 'bitbucket', deliveryId: 'bb-1', ref: 'refs/heads/main', after: AFTER }]);
  });
});

describe('pings and other events', () => {
  test('a GitHub ping is answered 200 pong and nothing is recorded', async () => {
    const answer = await handle(githubPush({ event: 'ping', body: json({ zen: 'Keep it logically awesome.', hook_id: 1 }) }));
    expect(answer).toEqual({ status: 200, body: { message: 'pong', provider: 'github' } });
    expect(recorder.rows).toEqual([]);
  });

  test('a Bitbucket diagnostics:ping is answered 200 pong', async () => {
    const rawBody = json({ test: true });
    const headers = { 'x-event-key': 'diagnostics:ping', 'x-hub-signature': `sha256=${hmacHex(rawBody, SECRET)}` };
    expect(await handle({ headers, rawBody })).toMatchObject({ status: 200, body: { message: 'pong' } });
  });

  test('a ping is verified like any delivery', async () => {
    const answer = await handle(githubPush({ event: 'ping', secret: 'wrong', body: json({ zen: 'x' }) }));
    expect(answer.status).toBe(401);
  });

  test('a non-push event is answered 202 with the reason and not recorded', async () => {
    const answer = await handle(githubPush({ event: 'issues', body: json({ action: 'opened' }) }));
    expect(answer).toEqual({ status: 202, body: { message: 'ignored: github event "issues" is not a push', provider: 'github' } });
    expect(recorder.rows).toEqual([]);
  });

  test('a verified push whose payload cannot be read is a 400, not recorded', async () => {
    const answer = await handle(githubPush({ body: Buffer.from('{"ref": "refs/heads/main"') }));
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain('not valid JSON');
    expect(recorder.rows).toEqual([]);
  });
});

describe('authentication with a secret configured', () => {
  test('a missing signature is a 401, nothing recorded', async () => {
    const request = githubPush({ secret: null });
    const answer = await handle(request);
    expect(answer.status).toBe(401);
    expect(answer.body.message).toContain('missing X-Hub-Signature-256');
    expect(recorder.rows).toEqual([]);
  });

  test('a forged signature (right format, wrong key) is a 401, nothing recorded, nothing echoed', async () => {
    const request = githubPush({ secret: 'guessed secret' });
    const answer = await handle(request);
    expect(answer.status).toBe(401);
    expect(recorder.rows).toEqual([]);
    expectNoEcho(answer, request);
  });

  test('a body changed after signing is a 401', async () => {
    const request = githubPush();
    const rawBody = Buffer.from(request.rawBody.toString().replace('refs/heads/main', 'refs/heads/main '));
    expect((await handle({ ...request, rawBody })).status).toBe(401);
    expect(recorder.rows).toEqual([]);
  });

  test('a malformed signature is a 401 and does not throw', async () => {
    for (const signature of ['sha256=', 'sha256=abc', `sha1=${'0'.repeat(40)}`, 'garbage', `sha256=${'z'.repeat(64)}`]) {
      const request = githubPush();
      (request.headers as Record<string, string>)['x-hub-signature-256'] = signature;
      const answer = await handle(request);
      expect(answer.status, signature).toBe(401);
      expectNoEcho(answer, request);
    }
    expect(recorder.rows).toEqual([]);
  });

  test('an empty configured secret refuses every delivery, even one signed with the empty key', async () => {
    const request = githubPush({ secret: '' });
    const answer = await handle(request, { secret: '', branch: 'main' });
    expect(answer.status).toBe(401);
    expect(recorder.rows).toEqual([]);
  });

  test('GitLab: the right token is accepted the GitLab way', async () => {
    const rawBody = json({ object_kind: 'push', ref: 'refs/heads/main', after: AFTER, checkout_sha: AFTER });
    const headers = { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET, 'x-gitlab-event-uuid': 'gl-1' };
    const answer = await handle({ headers, rawBody });
    expect(answer.body).toMatchObject({ message: 'sync requested', provider: 'gitlab', delivery: 'gl-1' });
    expect(JSON.stringify(answer)).not.toContain(SECRET);
    expect(recorder.rows).toEqual([{ provider: 'gitlab', deliveryId: 'gl-1', ref: 'refs/heads/main', after: AFTER }]);
  });

  test('GitLab: a wrong token is a 401 and is not echoed', async () => {
    const rawBody = json({ ref: 'refs/heads/main', after: AFTER });
    const request = { headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'not-the-secret-token' }, rawBody };
    const answer = await handle(request);
    expect(answer.status).toBe(401);
    expectNoEcho(answer, request);
    expect(recorder.rows).toEqual([]);
  });

  test('GitLab headers with a valid GitHub-style signature but no token are a 401: GitLab deliveries verify by token', async () => {
    const rawBody = json({ ref: 'refs/heads/main', after: AFTER });
    const headers = { 'x-gitlab-event': 'Push Hook', 'x-hub-signature-256': `sha256=${hmacHex(rawBody, SECRET)}` };
    const answer = await handle({ headers, rawBody });
    expect(answer.status).toBe(401);
    expect(answer.body.message).toContain('X-Gitlab-Token');
    expect(recorder.rows).toEqual([]);
  });

  test('GitHub headers carrying the secret as an X-Gitlab-Token are a 401: GitHub deliveries verify by HMAC', async () => {
    const request = githubPush({ secret: null });
    (request.headers as Record<string, string>)['x-gitlab-token'] = SECRET;
    const answer = await handle(request);
    expect(answer.status).toBe(401);
    expectNoEcho(answer, request);
    expect(recorder.rows).toEqual([]);
  });

  test('Gitea: verified by X-Gitea-Signature and recorded as gitea, though GitHub headers are present', async () => {
    const rawBody = json({ ref: 'refs/heads/main', after: AFTER });
    const hex = hmacHex(rawBody, SECRET);
    const headers = {
      'x-gitea-event': 'push',
      'x-gitea-delivery': 'gt-1',
      'x-gitea-signature': hex,
      'x-github-event': 'push',
      'x-github-delivery': 'gt-1',
      'x-hub-signature-256': `sha256=${hex}`,
    };
    expect((await handle({ headers, rawBody })).body).toMatchObject({ message: 'sync requested', provider: 'gitea', delivery: 'gt-1' });
    const forged = { ...headers, 'x-gitea-delivery': 'gt-2', 'x-gitea-signature': hmacHex(rawBody, 'wrong') };
    expect((await handle({ headers: forged, rawBody })).status).toBe(401);
    expect(recorder.rows).toEqual([{ provider: 'gitea', deliveryId: 'gt-1', ref: 'refs/heads/main', after: AFTER }]);
  });
});

describe('without a secret configured', () => {
  test('every delivery is refused (401) unless unsigned pushes were allowed, naming what to set', async () => {
    for (const config of [{ branch: 'main' }, { branch: 'main', secret: '' }, { branch: 'main', secret: '', allowUnsigned: false }] satisfies PushWebhookConfig[]) {
      for (const request of [githubPush({ secret: null }), githubPush({ secret: '' }), githubPush({ secret: 'whatever the host was given' })]) {
        const answer = await handle(request, config);
        expect(answer.status).toBe(401);
        expect(answer.body.message).toContain('no BATON_GIT_WEBHOOK_SECRET is configured');
        expect(answer.body.message).toContain('BATON_GIT_WEBHOOK_UNSIGNED=allow');
      }
    }
    expect(recorder.rows).toEqual([]);
  });

  test('an empty secret is no secret: with unsigned pushes allowed, an unsigned push is accepted', async () => {
    const answer = await handle(githubPush({ secret: null }), { branch: 'main', secret: '', allowUnsigned: true });
    expect(answer.body).toMatchObject({ message: 'sync requested', duplicate: false });
  });
});

describe('without a secret, unsigned pushes allowed', () => {
  const OPEN = { branch: 'main', allowUnsigned: true } satisfies PushWebhookConfig;

  test('an unsigned push is accepted and recorded', async () => {
    const answer = await handle(githubPush({ secret: null }), OPEN);
    expect(answer.body).toMatchObject({ message: 'sync requested', duplicate: false });
    expect(recorder.rows).toHaveLength(1);
  });

  test('a present signature cannot be checked, so it is ignored rather than rejected', async () => {
    const answer = await handle(githubPush({ secret: 'whatever the host was given' }), OPEN);
    expect(answer.body.message).toBe('sync requested');
    expect(recorder.rows).toHaveLength(1);
  });

  test('branch filtering still applies', async () => {
    expect((await handle(githubPush({ secret: null, ref: 'refs/heads/dev' }), OPEN)).body.message).toBe(
      'ignored: push to refs/heads/dev, watching refs/heads/main',
    );
    expect(recorder.rows).toEqual([]);
  });
});

describe('requests the handler cannot place', () => {
  test('no provider headers is a 400 naming the headers it expects', async () => {
    const answer = await handle({ headers: { 'content-type': 'application/json' }, rawBody: json({ ref: 'refs/heads/main' }) });
    expect(answer.status).toBe(400);
    for (const header of ['X-GitHub-Event', 'X-Gitea-Event', 'X-Gitlab-Event', 'X-Event-Key']) expect(answer.body.message).toContain(header);
    expect(recorder.rows).toEqual([]);
  });

  test('a signature alone, without an event header, is not enough to place a request', async () => {
    const rawBody = json({ ref: 'refs/heads/main' });
    const answer = await handle({ headers: { 'x-hub-signature-256': `sha256=${hmacHex(rawBody, SECRET)}` }, rawBody });
    expect(answer.status).toBe(400);
  });

  test('a body over MAX_WEBHOOK_BODY_BYTES is a 413 before anything else; one at the cap is not', async () => {
    expect(MAX_WEBHOOK_BODY_BYTES).toBe(3 * 1024 * 1024);
    const over = githubPush({ body: Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, 0x20) });
    expect((await handle(over)).status).toBe(413);
    const atCap = githubPush({ body: Buffer.alloc(MAX_WEBHOOK_BODY_BYTES, 0x20) });
    // Signed, so it passes verification and fails only on reading the (blank) payload.
    expect((await handle(atCap)).status).toBe(400);
    expect(recorder.rows).toEqual([]);
  });

  test('headers may come as a Fetch Headers object', async () => {
    const request = githubPush();
    const answer = await handle({ ...request, headers: new Headers(request.headers as Record<string, string>) });
    expect(answer.body.message).toBe('sync requested');
  });
});
