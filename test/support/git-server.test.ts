import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createRepo, gitService, parseCgiHead, runGit, startGitServer, TEST_AUTHOR, type GitServer } from './git-server.ts';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'baton-git-server-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('parseCgiHead reads Status, repeated headers and the start of the body', () => {
  const head = parseCgiHead(Buffer.from('Status: 404 Not Found\r\nContent-Type: text/plain\r\nX-A: 1\r\nX-A: 2\r\n\r\nbody'));
  expect(head).toEqual({ status: 404, statusText: 'Not Found', headers: { 'Content-Type': 'text/plain', 'X-A': ['1', '2'] }, body: Buffer.from('body') });
  expect(parseCgiHead(Buffer.from('Content-Type: text/plain\n\n'))?.status).toBe(200);
  expect(parseCgiHead(Buffer.from('Content-Type: text/plain\r\n'))).toBeNull();
});

gitService.describe('git smart-HTTP test server', () => {
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  test('the git CLI clones over HTTP (protocol v2) and gets the pushed files and author', async () => {
    const repo = await createRepo(server, 'plain', { 'flows/a.yaml': 'id: a\n', 'README.md': 'hello\n' }, { message: 'first' });
    expect(repo.url).toBe(`${server.url}/plain.git`);
    const target = join(scratch, 'plain-clone');
    await runGit(scratch, ['-c', 'protocol.version=2', 'clone', '--quiet', repo.url, target]);
    expect(await readFile(join(target, 'flows/a.yaml'), 'utf8')).toBe('id: a\n');
    expect(await runGit(target, ['rev-parse', 'HEAD'])).toBe(await repo.head());
    expect(await runGit(target, ['log', '-1', '--format=%an <%ae> %aI %s'])).toBe(`${TEST_AUTHOR.name} <${TEST_AUTHOR.email}> 2024-01-01T00:00:00+00:00 first`);
  });

  test('commit() adds, changes and deletes files, pushes other branches, and rewrites history with a force-push', async () => {
    const repo = await createRepo(server, 'changing', { 'a.txt': 'a1', 'b.txt': 'b1' });
    const first = await repo.head();
    const second = await repo.commit({ 'a.txt': 'a2', 'b.txt': null, 'dir/c.txt': 'c' }, 'change');
    expect(second).not.toBe(first);
    expect(await repo.head()).toBe(second);
    expect(await runGit(repo.bareDir, ['ls-tree', '-r', '--name-only', second])).toBe('a.txt\ndir/c.txt');

    const feature = await repo.commit({ 'f.txt': 'f' }, 'feature', { branch: 'feature', author: { name: 'Ada', email: 'ada@example.test' } });
    expect(await repo.head('feature')).toBe(feature);
    expect(await repo.head('main')).toBe(second);
    expect(await runGit(repo.bareDir, ['log', '-1', '--format=%an <%ae>', feature])).toBe('Ada <ada@example.test>');

    await runGit(repo.workDir, ['switch', '--quiet', 'main']);
    await runGit(repo.workDir, ['reset', '--quiet', '--hard', first]);
    const rewritten = await repo.commit({ 'z.txt': 'z' }, 'rewrite');
    expect(await runGit(repo.bareDir, ['rev-parse', `${rewritten}^`])).toBe(first);
    expect(await repo.head()).toBe(rewritten);
  });

  test('gzip-encoded negotiation bodies (protocol v0, many refs) are understood', async () => {
    const repo = await createRepo(server, 'many-refs', { 'a.txt': 'a' });
    // 80 branches on distinct commits make the want list of a v0 fetch well over the 1 KiB the git CLI
    // starts gzipping at; fast-import writes them in one process.
    const head = await repo.head();
    let stream = '';
    for (let i = 0; i < 80; i++) {
      const message = `branch ${i}\n`;
      stream += `commit refs/heads/branch-with-a-long-name-${i}\ncommitter T <t@t> 1700000000 +0000\ndata ${message.length}\n${message}from ${head}\n\n`;
    }
    const imported = spawnSync('git', ['fast-import', '--quiet'], { cwd: repo.bareDir, input: stream });
    expect(imported.status, imported.stderr.toString()).toBe(0);
    const target = join(scratch, 'many-refs-clone');
    await runGit(scratch, ['init', '--quiet', target]);
    await runGit(target, ['-c', 'protocol.version=0', 'fetch', '--quiet', repo.url, 'refs/heads/*:refs/remotes/origin/*'], { GIT_TRACE_CURL: join(scratch, 'curl-trace'), GIT_TRACE_CURL_NO_DATA: '1' });
    expect(await runGit(target, ['rev-parse', 'refs/remotes/origin/branch-with-a-long-name-79'])).toBe(await repo.head('branch-with-a-long-name-79'));
    const trace = await readFile(join(scratch, 'curl-trace'), 'utf8');
    expect(trace).toMatch(/Content-Encoding: gzip/i);
  });

  test('an unknown repository is a 404 to the git CLI', async () => {
    await expect(runGit(scratch, ['clone', '--quiet', server.repoUrl('missing'), join(scratch, 'missing')])).rejects.toThrow(/not found|404/i);
  });
});

gitService.describe('git smart-HTTP test server with basic auth', () => {
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer({ auth: { username: 'robot', password: 's3cret-pw' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  test('answers 401 with a Basic challenge when credentials are missing or wrong', async () => {
    await createRepo(server, 'guarded', { 'a.txt': 'a' });
    const anonymous = await fetch(`${server.repoUrl('guarded')}/info/refs?service=git-upload-pack`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    const wrong = await fetch(`${server.repoUrl('guarded')}/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Basic ${Buffer.from('robot:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
  });

  test('the git CLI clones with the right credentials and is refused with wrong ones', async () => {
    const repo = await createRepo(server, 'guarded-clone', { 'flows/a.yaml': 'id: a\n' });
    const withAuth = repo.url.replace('http://', 'http://robot:s3cret-pw@');
    const target = join(scratch, 'guarded-clone');
    await runGit(scratch, ['clone', '--quiet', withAuth, target]);
    expect(await readFile(join(target, 'flows/a.yaml'), 'utf8')).toBe('id: a\n');

    const wrong = repo.url.replace('http://', 'http://robot:wrong@');
    await expect(runGit(scratch, ['clone', '--quiet', wrong, join(scratch, 'guarded-wrong')])).rejects.toThrow(/Authentication failed|401/i);
    await expect(runGit(scratch, ['clone', '--quiet', repo.url, join(scratch, 'guarded-none')])).rejects.toThrow(/Authentication failed|could not read Username|401/i);
  });
});
