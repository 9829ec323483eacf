import { createHmac } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { syncHistory, type Db } from '../../db/index.ts';
import { createEngine } from '../../engine/index.ts';
import { createApp } from '../../server/index.ts';
import { createSyncer, FlowStore, syncConfigFromEnv, type Syncer } from '../../sync/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createRepo, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';
import { waitFor } from '../support/wait-for.ts';

const SECRET = 'webhook-secret-123';
const TOKEN = 'api-token-xyz';
const GIT_USER = 'baton';
const GIT_PASSWORD = 'p4ss-w0rd-never-shown';

const flowYaml = (id: string, message: string, namespace = 'company.team') =>
  `id: ${id}\nnamespace: ${namespace}\ntasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: "${message}"\n`;

function githubPush(body: object, options: { secret?: string; delivery?: string; event?: string } = {}) {
  const raw = JSON.stringify(body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': options.event ?? 'push',
    'x-github-delivery': options.delivery ?? crypto.randomUUID(),
  };
  if (options.secret !== undefined) headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', options.secret).update(raw).digest('hex')}`;
  return { method: 'POST', headers, body: raw };
}

describeEachDatabase('git sync end to end', (open) => {
  let server: GitServer;
  let repo: TestRepo;
  let app: Hono;
  let syncer: Syncer;
  let database: Db;
  const syncCount = async () => Number((await database.select({ n: count() }).from(syncHistory))[0].n);
  const auth = { authorization: `Bearer ${TOKEN}` };
  const api = (path: string, init: RequestInit = {}) => app.request(path, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });

  beforeAll(async () => {
    const { db } = await open();
    database = db;
    server = await startGitServer({ auth: { username: GIT_USER, password: GIT_PASSWORD } });
    repo = await createRepo(server, 'flows-repo', {
      'flows/hello.yaml': flowYaml('hello', 'v1'),
      'flows/team/uses-files.yaml': [
        'id: uses-files',
        'namespace: company.team',
        'tasks:',
        '  - id: sql',
        '    type: io.kestra.plugin.core.debug.Return',
        "    format: \"{{ read('sql/query.sql') | trim }}\"",
        '  - id: script',
        '    type: io.kestra.plugin.scripts.shell.Commands',
        '    namespaceFiles:',
        '      enabled: true',
        '    commands:',
        '      - cat sql/query.sql',
        '',
      ].join('\n'),
      'files/company.team/sql/query.sql': 'SELECT 42;\n',
      'README.md': 'not a flow\n',
    }, { author: { name: 'Ada Lovelace', email: 'ada@example.com' }, message: 'first flows' });
    const withCredentials = repo.url.replace('http://', `http://${GIT_USER}:${GIT_PASSWORD}@`);
    const env = { BATON_GIT_URL: withCredentials, BATON_GIT_BRANCH: 'main', BATON_GIT_WEBHOOK_SECRET: SECRET, BATON_SYNC_POLL_SECONDS: '0' };
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-sync-'));
    const config = syncConfigFromEnv(env);
    const flows = new FlowStore(db);
    const engine = createEngine({ db, dataDir, flows: flows.flowSource(), namespaceFiles: flows.namespaceFiles(), env: {} });
    syncer = await createSyncer({ db, config, dataDir, env });
    app = createApp({ db, engine, flows, syncer, sync: config, branch: syncer.branch, repository: syncer.repository, apiToken: TOKEN });
    const first = await syncer.start();
    expect(first.result).toBe('APPLIED');
  });

  afterAll(async () => {
    await syncer?.stop();
    await server?.close();
  });

  it('the initial sync made every flow live with its commit', async () => {
    const res = await api('/api/v1/flows/company.team/hello?source=true');
    expect(res.status).toBe(200);
    const flow = await res.json();
    expect(flow).toMatchObject({ id: 'hello', namespace: 'company.team', revision: 1, deleted: false, source: flowYaml('hello', 'v1') });
    expect(flow.commit).toMatchObject({ author: 'Ada Lovelace', email: 'ada@example.com', message: 'first flows', sha: await repo.head() });
    expect(flow.gitPath).toBe('flows/hello.yaml');
  });

  it('push → signed webhook → new revision live, with commit provenance; diff between revisions', async () => {
    const sha = await repo.commit({ 'flows/hello.yaml': flowYaml('hello', 'v2') }, 'say v2', { author: { name: 'Grace Hopper', email: 'grace@example.com' } });
    const res = await app.request('/hooks/git', githubPush({ ref: 'refs/heads/main', after: sha }, { secret: SECRET }));
    expect(res.status).toBe(202);
    const flow = await waitFor(async () => {
      const f = await (await api('/api/v1/flows/company.team/hello')).json();
      return f.revision === 2 ? f : undefined;
    }, 'revision 2');
    expect(flow.commit).toMatchObject({ sha, author: 'Grace Hopper', email: 'grace@example.com', message: 'say v2' });
    const revisions = await (await api('/api/v1/flows/company.team/hello/revisions')).json();
    expect(revisions.map((r: { revision: number }) => r.revision)).toEqual([1, 2]);
    expect(revisions[1]).toMatchObject({ source: flowYaml('hello', 'v2'), commit: { sha, message: 'say v2' } });
    const diff = await (await api('/api/v1/flows/company.team/hello/diff?from=1&to=2')).text();
    expect(diff).toContain('-    message: "v1"');
    expect(diff).toContain('+    message: "v2"');
    // The unchanged flow got no new revision.
    expect((await (await api('/api/v1/flows/company.team/uses-files')).json()).revision).toBe(1);
  });

  it('forged, missing and wrong-provider signatures are 401 and change nothing', async () => {
    const sha = await repo.commit({ 'flows/hello.yaml': flowYaml('hello', 'forged') }, 'should not apply via these hooks');
    const body = { ref: 'refs/heads/main', after: sha };
    expect((await app.request('/hooks/git', githubPush(body, { secret: 'wrong-secret' }))).status).toBe(401);
    expect((await app.request('/hooks/git', githubPush(body))).status).toBe(401);
    const gitlab = await app.request('/hooks/git', {
      method: 'POST',
      headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'not-the-secret', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(gitlab.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect((await (await api('/api/v1/flows/company.team/hello')).json()).revision).toBe(2);
    // Put the repository back so later tests start from v2.
    await repo.commit({ 'flows/hello.yaml': flowYaml('hello', 'v2') }, 'back to v2');
    expect((await syncer.request('manual')).result).toMatch(/APPLIED|UNCHANGED/);
  });

  it('ping answers 200; a push to another branch answers 202 and does nothing', async () => {
    const ping = await app.request('/hooks/git', githubPush({ zen: 'hi' }, { secret: SECRET, event: 'ping' }));
    expect(ping.status).toBe(200);
    const other = await app.request('/hooks/git', githubPush({ ref: 'refs/heads/feature', after: 'a'.repeat(40) }, { secret: SECRET }));
    expect(other.status).toBe(202);
    expect(JSON.stringify(await other.json())).toMatch(/feature/);
  });

  it('a replayed delivery is applied once', async () => {
    const delivery = crypto.randomUUID();
    const body = { ref: 'refs/heads/main', after: await repo.head() };
    const first = await (await app.request('/hooks/git', githubPush(body, { secret: SECRET, delivery }))).json();
    const second = await (await app.request('/hooks/git', githubPush(body, { secret: SECRET, delivery }))).json();
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
  });

  it('a body over 3 MiB is 413', async () => {
    const res = await app.request('/hooks/git', githubPush({ ref: 'refs/heads/main', padding: 'x'.repeat(3 * 1024 * 1024 + 10) }, { secret: SECRET }));
    expect(res.status).toBe(413);
  });

  it('a commit with an invalid flow applies nothing; the status names file, line and column', async () => {
    const sha = await repo.commit(
      {
        'flows/hello.yaml': flowYaml('hello', 'v3 never live'),
        'flows/broken.yaml': 'id: broken\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.nope.Nope\n',
      },
      'break things',
    );
    const outcome = await syncer.request('manual');
    expect(outcome.result).toBe('REFUSED');
    const status = await (await api('/api/v1/sync')).json();
    expect(status.state).toBe('REFUSED');
    expect(status.lastAttempt.sha).toBe(sha);
    expect(status.errors).toEqual([expect.objectContaining({ path: 'flows/broken.yaml', line: 5, column: expect.any(Number), message: expect.stringMatching(/unknown task type/) })]);
    expect(status.lastAppliedCommit.sha).not.toBe(sha);
    // The last good revision stays live.
    expect((await (await api('/api/v1/flows/company.team/hello')).json()).revision).toBe(2);
    expect((await api('/api/v1/flows/company.team/broken')).status).toBe(404);
    // Fixing the commit applies it.
    await repo.commit({ 'flows/broken.yaml': null, 'flows/hello.yaml': flowYaml('hello', 'v3') }, 'fix');
    expect((await syncer.request('manual')).result).toBe('APPLIED');
    expect((await (await api('/api/v1/flows/company.team/hello')).json()).revision).toBe(3);
    expect((await (await api('/api/v1/sync')).json()).errors).toEqual([]);
  });

  it('re-running a sync of the applied commit changes nothing', async () => {
    const before = await (await api('/api/v1/flows/company.team/hello')).json();
    const outcome = await syncer.request('manual');
    expect(outcome.result).toBe('UNCHANGED');
    expect((await (await api('/api/v1/flows/company.team/hello')).json()).revision).toBe(before.revision);
  });

  it('a flow removed from Git is 404 but keeps its history; renames are delete + create', async () => {
    await repo.commit({ 'flows/temp.yaml': flowYaml('temp', 'short-lived') }, 'add temp');
    await syncer.request('manual');
    expect((await api('/api/v1/flows/company.team/temp')).status).toBe(200);
    await repo.commit({ 'flows/temp.yaml': null }, 'remove temp');
    const removal = await syncer.request('manual');
    expect(removal.changes.deleted).toEqual(['company.team.temp']);
    expect((await api('/api/v1/flows/company.team/temp')).status).toBe(404);
    const deleted = await (await api('/api/v1/flows/company.team/temp?allowDeleted=true')).json();
    expect(deleted).toMatchObject({ id: 'temp', deleted: true, revision: 2 });
    const history = await (await api('/api/v1/flows/company.team/temp/revisions')).json();
    expect(history.map((r: { deleted: boolean }) => r.deleted)).toEqual([false, true]);

    // A flow whose id changes: the old one is deleted, the new one created.
    await repo.commit({ 'flows/temp2.yaml': flowYaml('renamed-a', 'x') }, 'add a');
    await syncer.request('manual');
    await repo.commit({ 'flows/temp2.yaml': flowYaml('renamed-b', 'x') }, 'rename a to b');
    const rename = await syncer.request('manual');
    expect(rename.changes).toMatchObject({ added: ['company.team.renamed-b'], deleted: ['company.team.renamed-a'] });
    // A namespace move is the same.
    await repo.commit({ 'flows/temp2.yaml': flowYaml('renamed-b', 'x', 'company.other') }, 'move namespace');
    const move = await syncer.request('manual');
    expect(move.changes).toMatchObject({ added: ['company.other.renamed-b'], deleted: ['company.team.renamed-b'] });
    // A moved file with the same content is no new revision, but its path follows.
    await repo.commit({ 'flows/temp2.yaml': null, 'flows/moved/temp2.yaml': flowYaml('renamed-b', 'x', 'company.other') }, 'move file');
    const moveFile = await syncer.request('manual');
    expect(moveFile.changes.updated).toEqual([]);
    expect((await (await api('/api/v1/flows/company.other/renamed-b')).json()).gitPath).toBe('flows/moved/temp2.yaml');
  });

  it('namespace files: API with traversal refused; tasks read them; executions record revision and commit', async () => {
    const content = await api('/api/v1/namespaces/company.team/files?path=/sql/query.sql');
    expect(content.status).toBe(200);
    expect(await content.text()).toBe('SELECT 42;\n');
    const listing = await (await api('/api/v1/namespaces/company.team/files/directory?path=/')).json();
    expect(listing).toEqual([{ fileName: 'sql', type: 'Directory' }]);
    for (const bad of ['../../etc/passwd', '/sql/../../x', '%2e%2e/%2e%2e/etc/passwd', '..%2f..%2fetc', 'sql\\..\\..\\x']) {
      const res = await api(`/api/v1/namespaces/company.team/files?path=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
    }
    const run = await api('/api/v1/executions/company.team/uses-files?wait=true', { method: 'POST' });
    expect(run.status).toBe(200);
    const execution = await run.json();
    expect(execution.state.current).toBe('SUCCESS');
    expect(execution.taskRunList[0].outputs.value).toBe('SELECT 42;');
    const flow = await (await api('/api/v1/flows/company.team/uses-files')).json();
    expect(execution.flowRevision).toBe(flow.revision);
    expect(execution.commitSha).toBe(flow.commit.sha);
  });

  it('Git is the source of truth: writes answer 409 naming the Git path', async () => {
    const put = await api('/api/v1/flows/company.team/hello', { method: 'PUT', body: 'id: x' });
    expect(put.status).toBe(409);
    expect((await put.json()).message).toContain('flows/hello.yaml');
    expect((await api('/api/v1/flows', { method: 'POST', body: 'id: x' })).status).toBe(409);
    const file = await api('/api/v1/namespaces/company.team/files?path=/sql/query.sql', { method: 'DELETE' });
    expect(file.status).toBe(409);
    expect((await file.json()).message).toContain('files/company.team/sql/query.sql');
  });

  it('credentials never appear in the status, errors or history', async () => {
    const status = await (await api('/api/v1/sync')).text();
    expect(status).not.toContain(GIT_PASSWORD);
    expect(JSON.parse(status).repository).toBe(repo.url);
    const all = JSON.stringify(await (await api('/api/v1/flows/search')).json());
    expect(all).not.toContain(GIT_PASSWORD);
  });

  it('/api requires the bearer token; /healthz is open', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/api/v1/sync')).status).toBe(401);
    expect((await app.request('/api/v1/sync', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await api('/api/v1/sync')).status).toBe(200);
  });

  it('bursts coalesce: many pushes during a sync lead to one more sync of the newest head', async () => {
    const before = await syncCount();
    let sha = '';
    for (let i = 0; i < 5; i++) sha = await repo.commit({ 'flows/hello.yaml': flowYaml('hello', `burst ${i}`) }, `burst ${i}`);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => app.request('/hooks/git', githubPush({ ref: 'refs/heads/main', after: sha }, { secret: SECRET }))),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const live = await waitFor(async () => {
      const f = await (await api('/api/v1/flows/company.team/hello?source=true')).json();
      return f.commit.sha === sha ? f : undefined;
    }, 'the newest head');
    expect(live.source).toContain('burst 4');
    await new Promise((r) => setTimeout(r, 300));
    // 20 deliveries: far fewer syncs (one running plus one more), never one per delivery.
    const syncs = (await syncCount()) - before;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(3);
  });
});
