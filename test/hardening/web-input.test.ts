/**
 * Issue #12, finding 8 (web part): NUL bytes or an out-of-range `page` gave 500; no body limit on
 * authenticated /api requests (a 30 MiB KV value was accepted); an empty BATON_GIT_WEBHOOK_SECRET
 * accepted unsigned pushes; KV took namespaces that cannot exist; a signed push replayed under a new
 * delivery id synced again. Each now has its answer: 400, 413, 401, 400, and "nothing to sync", counted.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count } from 'drizzle-orm';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncHistory, syncRequests, type Db } from '../../db/index.ts';
import { createEngine } from '../../engine/index.ts';
import { createApp, startServer, type RunningServer } from '../../server/index.ts';
import { planListen, UnsignedWebhooksError } from '../../server/start.ts';
import { createSyncer, FlowStore, syncConfigFromEnv, type Syncer } from '../../sync/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createRepo, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';
import { openApiHarness, type ApiHarness } from '../api/harness.ts';

const NS = 'web.input';
const BODY_LIMIT = 64 * 1024;
const UPLOAD_LIMIT = 256 * 1024;

const FLOW = `id: hello
namespace: ${NS}
inputs:
  - id: name
    type: STRING
    defaults: world
  - id: doc
    type: FILE
    required: false
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.name }}"
`;

/** A body that never ends: chunks until the reader stops pulling. Counts what was pulled. */
function endlessBody(chunk = 16 * 1024): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const bytes = new Uint8Array(chunk).fill(0x61);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += bytes.length;
      controller.enqueue(bytes);
    },
  });
  return { stream, pulled: () => pulled };
}

describeEachDatabase('malformed parameters and bodies', (open) => {
  let h: ApiHarness;
  let executionId: string;

  beforeAll(async () => {
    h = await openApiHarness(open, { engineEnv: { BATON_LIMIT_REQUEST_BODY_BYTES: String(BODY_LIMIT), BATON_LIMIT_UPLOAD_BYTES: String(UPLOAD_LIMIT) } });
    await h.publish(FLOW);
    executionId = (await (await h.api(`/api/v1/executions/${NS}/hello?wait=true`, { method: 'POST' })).json()).id;
  });

  it.each([
    ['/api/v1/executions/search?namespace=a%00b', "query parameter 'namespace' contains a NUL character"],
    ['/api/v1/executions/search?labels=a%00:b', "query parameter 'labels' contains a NUL character"],
    ['/api/v1/executions/a%00b', 'the path contains a NUL character'],
    ['/api/v1/flows/search?q=%00', "query parameter 'q' contains a NUL character"],
    ['/api/v1/flows/a%00/b', 'the path contains a NUL character'],
    ['/api/v1/logs/x%00y', 'the path contains a NUL character'],
    ['/api/v1/namespaces/%00/files?path=/a', 'the path contains a NUL character'],
    ['/api/v1/triggers/a%00/b', 'the path contains a NUL character'],
    ['/ui/executions?namespace=%00', "query parameter 'namespace' contains a NUL character"],
    ['/ui/flows?q=%00', "query parameter 'q' contains a NUL character"],
    ['/ui/executions/a%00', 'the path contains a NUL character'],
    ['/api/v1/executions/%E0%A4%A', 'the path has malformed percent-encoding'],
    ['/api/v1/flows/search?q=%ff', "query parameter 'q' has malformed percent-encoding or bytes that are not UTF-8"],
    ['/api/v1/flows/search?q=%zz', "query parameter 'q' has malformed percent-encoding"],
    ['/api/v1/executions/search?page=1e20', "query parameter 'page' must be a positive integer, got '1e20'"],
    ['/api/v1/executions/search?page=99999999999', "query parameter 'page' must be at most 2147483647"],
    ['/api/v1/triggers/search?size=0x10', "query parameter 'size' must be a positive integer"],
    ['/api/v1/flows/search?page=-1', "query parameter 'page' must be a positive integer"],
    [`/api/v1/flows/${NS}/hello?revision=99999999999999`, "query parameter 'revision' must be at most 2147483647"],
    [`/api/v1/flows/${NS}/hello/diff?from=1&to=2147483648`, "query parameter 'to' must be at most 2147483647"],
    ['/api/v1/executions/search?startDate=%2B275760-09-13T00:00:00Z', "query parameter 'startDate' must be an ISO-8601 date-time between years 1 and 9999"],
    ['/api/v1/executions/search?state=DONE', "unknown state 'DONE'"],
  ])('%s → 400 naming what is wrong', async (path, message) => {
    const res = await h.api(path);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.message).toContain(message);
  });

  it('pages of the dashboard drop a page number the database cannot take, instead of failing', async () => {
    for (const path of ['/ui/executions?page=99999999999999999999', `/ui/flows/${NS}/hello/executions?page=99999999999999999999`, '/ui/executions?from=%2B275760-01-01']) {
      expect((await h.api(path)).status, path).toBe(200);
    }
  });

  it('bodies holding text PostgreSQL cannot store are a 400 naming where', async () => {
    const json = (path: string, body: string, method = 'POST') => h.api(path, { method, headers: { 'content-type': 'application/json' }, body });
    const cases: [Promise<Response> | Response, string][] = [
      [json(`/api/v1/executions/${NS}/hello`, '{"name":"a\\u0000b"}'), 'the inputs at name contains a NUL character'],
      [json(`/api/v1/executions/${NS}/hello`, '{"name":"\\ud800"}'), 'the inputs at name contains an unpaired surrogate'],
      [json(`/api/v1/namespaces/${NS}/kv/k`, '{"a":["\\u0000"]}', 'PUT'), 'the value at a[0] contains a NUL character'],
      [h.api(`/api/v1/namespaces/${NS}/kv/k`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'a\0b' }), 'the value contains a NUL character'],
      [json('/api/v1/triggers', '{"namespace":"a\\u0000","flowId":"b","triggerId":"c"}', 'PUT'), 'the request body at namespace contains a NUL character'],
      [h.app.request(`/api/v1/executions/webhook/${NS}/nope/key`, { method: 'POST', body: 'x' }), 'webhook not found'],
    ];
    for (const [pending, message] of cases) {
      const res = await pending;
      const body = await res.json();
      expect(body.message, message).toContain(message);
      expect(res.status).toBe(message === 'webhook not found' ? 404 : 400);
    }
  });

  it('refuses a body over BATON_LIMIT_REQUEST_BODY_BYTES with 413, by its Content-Length, before reading it', async () => {
    const res = await h.api(`/api/v1/namespaces/${NS}/kv/big`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(BODY_LIMIT + 1) });
    expect(res.status).toBe(413);
    expect((await res.json()).message).toBe(`request body too large: it exceeds the limit of ${BODY_LIMIT} bytes (raise it with BATON_LIMIT_REQUEST_BODY_BYTES)`);
    expect((await h.api(`/api/v1/namespaces/${NS}/kv/big`)).status).toBe(404);
    expect((await h.api(`/api/v1/namespaces/${NS}/kv/fits`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(BODY_LIMIT) })).status).toBe(200);
  });

  it('stops reading a chunked body as soon as it passes the limit: an endless body gets 413, not a hang', async () => {
    const { stream, pulled } = endlessBody();
    const res = await h.api(`/api/v1/namespaces/${NS}/kv/endless`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled()).toBeLessThan(BODY_LIMIT + 4 * 16 * 1024);
  });

  it('gives uploads BATON_LIMIT_UPLOAD_BYTES on the routes that take files, and only there', async () => {
    const upload = (bytes: number, path = `/api/v1/executions/${NS}/hello`) => {
      const form = new FormData();
      form.set('doc', new Blob([Buffer.alloc(bytes, 0x62)]), 'doc.bin');
      return h.api(path, { method: 'POST', body: form });
    };
    expect((await upload(BODY_LIMIT * 2)).status).toBe(200);
    const over = await upload(UPLOAD_LIMIT + 1024);
    expect(over.status).toBe(413);
    expect((await over.json()).message).toContain('BATON_LIMIT_UPLOAD_BYTES');
    // Elsewhere a multipart body is an ordinary body.
    const elsewhere = await upload(BODY_LIMIT * 2, '/api/v1/triggers/backfill/delete');
    expect(elsewhere.status).toBe(413);
    expect((await elsewhere.json()).message).toContain('BATON_LIMIT_REQUEST_BODY_BYTES');
  });

  it('KV refuses namespaces that cannot exist (Kestra rule) with a 400, on every method and the dashboard', async () => {
    for (const namespace of ['A..B', 'Upper', '-dash', '.dot', 'a b', 'x'.repeat(151)]) {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/kv`;
      for (const [method, suffix] of [['GET', ''], ['GET', '/k'], ['PUT', '/k'], ['DELETE', '/k']]) {
        const res = await h.api(`${path}${suffix}`, { method, headers: { 'content-type': 'text/plain' }, body: method === 'PUT' ? 'v' : undefined });
        expect(res.status, `${method} ${namespace}`).toBe(400);
        expect((await res.json()).message).toContain("path parameter 'namespace' must be a namespace");
      }
    }
    const page = await h.api('/ui/kv?namespace=A..B');
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('the namespace must be a namespace');
    expect((await h.api(`/api/v1/namespaces/${NS}/kv/ok`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'v' })).status).toBe(200);
    expect((await h.api(`/api/v1/namespaces/${NS}/kv/bad%20key`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'v' })).status).toBe(400);
  });

  it('the execution that served as a fixture is untouched by all of this', async () => {
    expect((await h.api(`/api/v1/executions/${executionId}`)).status).toBe(200);
  });
});

describe('a real server: an oversized upload', () => {
  let git: GitServer;
  let server: RunningServer;

  beforeAll(async () => {
    git = await startGitServer();
    const repo = await createRepo(git, 'web-input', { 'flows/hello.yaml': FLOW });
    server = await startServer({
      dataDir: await mkdtemp(join(tmpdir(), 'baton-web-input-')),
      port: 0,
      quiet: true,
      env: { BATON_GIT_URL: repo.url, BATON_SYNC_POLL_SECONDS: '0', BATON_LIMIT_REQUEST_BODY_BYTES: String(BODY_LIMIT) },
    });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await git?.close();
  });

  it('answers 413 to a chunked body that keeps coming, without waiting for its end, and keeps serving', async () => {
    const target = new URL(`${server.url}/api/v1/namespaces/${NS}/kv/huge`);
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ hostname: target.hostname, port: target.port, path: target.pathname, method: 'PUT', headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (err) => (sent > BODY_LIMIT ? undefined : reject(err)));
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      // Up to 30 MiB, as in the finding: the answer must come long before.
      const write = () => {
        while (sent < 30 * 1024 * 1024 && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', write);
        }
        if (!req.destroyed) req.end();
      };
      write();
    });
    expect(status).toBe(413);
    expect(sent).toBeLessThan(30 * 1024 * 1024);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('BATON_GIT_WEBHOOK_SECRET and BATON_GIT_WEBHOOK_UNSIGNED', () => {
  it('an empty secret is no secret, and unsigned pushes are refused unless explicitly allowed', () => {
    expect(syncConfigFromEnv({ BATON_GIT_WEBHOOK_SECRET: '' })).toMatchObject({ webhookSecret: undefined, allowUnsignedWebhooks: false });
    expect(syncConfigFromEnv({})).toMatchObject({ webhookSecret: undefined, allowUnsignedWebhooks: false });
    expect(syncConfigFromEnv({ BATON_GIT_WEBHOOK_UNSIGNED: 'allow' })).toMatchObject({ allowUnsignedWebhooks: true });
    expect(() => syncConfigFromEnv({ BATON_GIT_WEBHOOK_UNSIGNED: 'yes' })).toThrow(/BATON_GIT_WEBHOOK_UNSIGNED must be 'allow' or 'refuse', got 'yes'/);
  });

  it('refuses to start with unsigned pushes allowed on an address others can reach', async () => {
    expect(planListen({ BATON_HOST: '0.0.0.0', BATON_API_TOKEN: 't' }).loopback).toBe(false);
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-web-unsigned-'));
    await expect(
      startServer({ dataDir, port: 0, quiet: true, env: { BATON_HOST: '0.0.0.0', BATON_API_TOKEN: 't', BATON_GIT_WEBHOOK_UNSIGNED: 'allow', BATON_GIT_URL: dataDir } }),
    ).rejects.toThrow(UnsignedWebhooksError);
  });
});

function githubPush(body: object, secret: string | undefined, delivery: string) {
  const raw = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': delivery };
  if (secret !== undefined) headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
  return { method: 'POST', headers, body: raw };
}

describeEachDatabase('push webhooks: empty secrets and replays', (open) => {
  const SECRET = 'web-input-webhook-secret';
  let git: GitServer;
  let repo: TestRepo;
  let db: Db;
  const syncers: Syncer[] = [];

  /** The app with the syncer of `env`'s webhook settings, synced once. */
  const appWith = async (env: Record<string, string>): Promise<{ app: Hono; syncer: Syncer }> => {
    const full = { BATON_GIT_URL: repo.url, BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0', ...env };
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-web-push-'));
    const config = syncConfigFromEnv(full);
    const flows = new FlowStore(db);
    const engine = createEngine({ db, dataDir, flows: flows.flowSource(), namespaceFiles: flows.namespaceFiles(), env: {} });
    const syncer = await createSyncer({ db, config, dataDir, env: full });
    syncers.push(syncer);
    expect(['APPLIED', 'UNCHANGED']).toContain((await syncer.start()).result);
    return { app: createApp({ db, engine, flows, syncer, sync: config, branch: syncer.branch, repository: syncer.repository }), syncer };
  };
  const syncs = async () => Number((await db.select({ n: count() }).from(syncHistory))[0].n);
  const requests = async () => Number((await db.select({ n: count() }).from(syncRequests))[0].n);

  beforeAll(async () => {
    db = (await open()).db;
    git = await startGitServer();
    repo = await createRepo(git, 'web-push', { 'flows/hello.yaml': FLOW });
  });
  afterAll(async () => {
    for (const syncer of syncers) await syncer.stop();
    await git?.close();
  });

  it('BATON_GIT_WEBHOOK_SECRET="" refuses an unsigned push (and one signed with the empty key), naming what to set', async () => {
    const { app } = await appWith({ BATON_GIT_WEBHOOK_SECRET: '' });
    const before = await requests();
    for (const secret of [undefined, '']) {
      const res = await app.request('/hooks/git', githubPush({ ref: 'refs/heads/main', after: await repo.head() }, secret, crypto.randomUUID()));
      expect(res.status).toBe(401);
      expect((await res.json()).message).toContain('no BATON_GIT_WEBHOOK_SECRET is configured');
    }
    expect(await requests()).toBe(before);
  });

  it('BATON_GIT_WEBHOOK_UNSIGNED=allow accepts it (loopback only, checked at start)', async () => {
    const { app } = await appWith({ BATON_GIT_WEBHOOK_UNSIGNED: 'allow' });
    const head = await repo.commit({ 'flows/hello.yaml': FLOW.replace('Hello', 'Hi') }, 'reword');
    const res = await app.request('/hooks/git', githubPush({ ref: 'refs/heads/main', after: head }, undefined, crypto.randomUUID()));
    expect(res.status).toBe(202);
    expect((await res.json()).message).toBe('sync requested');
  });

  it('a signed push replayed under a new delivery id leads to no second sync once its commit is live, and is counted', async () => {
    const { app, syncer } = await appWith({ BATON_GIT_WEBHOOK_SECRET: SECRET });
    const head = await repo.commit({ 'flows/hello.yaml': FLOW.replace('Hello', 'Howdy') }, 'reword again');
    const push = { ref: 'refs/heads/main', before: 'a'.repeat(40), after: head };
    const first = await app.request('/hooks/git', githubPush(push, SECRET, 'delivery-1'));
    expect((await first.json()).message).toBe('sync requested');
    // The push is applied by the sync it asked for.
    for (let i = 0; i < 400 && (syncer.busy || (await (await app.request('/api/v1/sync')).json()).lastAppliedCommit?.sha !== head); i++) await new Promise((r) => setTimeout(r, 25));
    expect((await (await app.request('/api/v1/sync')).json()).lastAppliedCommit.sha).toBe(head);

    const syncsBefore = await syncs();
    for (const delivery of ['delivery-2', 'delivery-3']) {
      const replay = await app.request('/hooks/git', githubPush(push, SECRET, delivery));
      expect(replay.status).toBe(202);
      expect(await replay.json()).toMatchObject({ message: `nothing to sync: ${head} is already live`, delivery, duplicate: false, unchanged: true });
    }
    // A delivery id seen before is a duplicate, whether it asked for a sync or not.
    for (const delivery of ['delivery-1', 'delivery-2']) {
      expect(await (await app.request('/hooks/git', githubPush(push, SECRET, delivery))).json()).toMatchObject({ delivery, duplicate: true });
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(syncer.busy).toBe(false);
    expect(await syncs()).toBe(syncsBefore);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/^baton_git_push_skipped_total\{reason="head-unchanged"\} 2$/m);
    expect(metrics).toMatch(/^baton_git_push_skipped_total\{reason="duplicate-delivery"\} 2$/m);
  });
});
