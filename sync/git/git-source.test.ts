import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRepo, gitService, runGit, startGitServer, type GitServer, type TestRepo } from '../../test/support/git-server.ts';
import { gitSourceContract, type ContractRepo, type CreateContractRepo } from './git-source.case.ts';
import { GitSource, GitSyncError, isGitSyncError, type GitSourceOptions } from './index.ts';
import { RemoteRepository } from './remote-repository.ts';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'baton-git-source-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const opened: GitSource[] = [];
afterAll(() => {
  for (const source of opened) source.close();
});

async function newCacheDir(): Promise<string> {
  return mkdtemp(join(scratch, 'cache-'));
}

/** A GitSource whose keep-alive connections are closed after the file's tests. */
function gitSource(options: GitSourceOptions): GitSource {
  const source = new GitSource(options);
  opened.push(source);
  return source;
}

async function failureOf(promise: Promise<unknown>): Promise<GitSyncError> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(GitSyncError);
  return error as GitSyncError;
}

/** Everything an error can show: message, stack, cause chain, own properties (as logged or serialized). */
function everythingShownBy(error: Error): string {
  const parts: string[] = [inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error)];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    parts.push(current.message, current.stack ?? '', JSON.stringify(Object.entries(current)));
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

/** Runs the contract against repositories served by a fresh server, each read through `urlFor`. */
function describeTransport(
  name: string,
  setup: {
    serverAuth?: { username: string; password: string };
    urlFor: (repo: TestRepo) => Promise<string> | string;
    auth?: GitSourceOptions['auth'];
  },
): void {
  gitService.describe(`GitSource contract [${name}]`, () => {
    let server: GitServer;
    beforeAll(async () => {
      server = await startGitServer({ auth: setup.serverAuth });
    });
    afterAll(async () => {
      await server?.close();
    });
    const create: CreateContractRepo = async (repoName, files, options) => {
      const repo = await createRepo(server, repoName, files, options);
      const url = await setup.urlFor(repo);
      const cacheDir = await newCacheDir();
      const contract: ContractRepo = {
        repo,
        source: (overrides = {}) => gitSource({ url, branch: 'main', cacheDir, auth: setup.auth, ...overrides }),
      };
      return contract;
    };
    gitSourceContract(create);
  });
}

const TOKEN = 'ghp_T0kenValue1234567890abcdef';
const PASSWORD = 'pa55-w0rd!secret';

describeTransport('http', { urlFor: (repo) => repo.url });
describeTransport('http, basic auth', { serverAuth: { username: 'robot', password: PASSWORD }, urlFor: (repo) => repo.url, auth: { username: 'robot', password: PASSWORD } });
describeTransport('http, token', { serverAuth: { username: 'x-access-token', password: TOKEN }, urlFor: (repo) => repo.url, auth: { token: TOKEN } });
describeTransport('http, credentials in the URL', {
  serverAuth: { username: 'robot', password: 'p@ss:w/rd' },
  urlFor: (repo) => repo.url.replace('http://', `http://robot:${encodeURIComponent('p@ss:w/rd')}@`),
});
describeTransport('local work tree', { urlFor: (repo) => repo.workDir });
describeTransport('local bare', { urlFor: (repo) => repo.bareDir });
describeTransport('local linked worktree (.git file)', {
  urlFor: async (repo) => {
    const linked = `${repo.workDir}-linked`;
    await runGit(repo.workDir, ['worktree', 'add', '--quiet', '--detach', linked]);
    expect((await stat(join(linked, '.git'))).isFile()).toBe(true);
    return linked;
  },
});
describeTransport('file:// URL', { urlFor: (repo) => pathToFileURL(repo.bareDir).href });

/** Packs in a cache folder, with the number of objects each holds (from the pack header). */
async function packsIn(gitdir: string): Promise<{ name: string; objects: number; mtimeMs: number }[]> {
  const packDir = join(gitdir, 'objects', 'pack');
  const names = (await readdir(packDir)).filter((name) => name.endsWith('.pack'));
  return Promise.all(
    names.map(async (name) => {
      const handle = await open(join(packDir, name), 'r');
      try {
        const header = Buffer.alloc(12);
        await handle.read(header, 0, 12, 0);
        return { name, objects: header.readUInt32BE(8), mtimeMs: (await handle.stat()).mtimeMs };
      } finally {
        await handle.close();
      }
    }),
  );
}

async function onlyCacheFolder(cacheDir: string): Promise<string> {
  const entries = await readdir(cacheDir);
  expect(entries).toHaveLength(1);
  return join(cacheDir, entries[0]);
}

gitService.describe('GitSource over http', () => {
  let server: GitServer;
  let guarded: GitServer;
  beforeAll(async () => {
    server = await startGitServer();
    guarded = await startGitServer({ auth: { username: 'robot', password: PASSWORD } });
  });
  afterAll(async () => {
    await server?.close();
    await guarded?.close();
  });

  test('the first fetch is shallow; the next one, after a one-file change, is an incremental pack of a few objects', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`flows/f${i}.yaml`] = `id: f${i}\n`;
    const repo = await createRepo(server, 'incremental', files);
    for (let i = 0; i < 5; i++) await repo.commit({ [`flows/f${i}.yaml`]: `id: f${i}\nv: ${i}\n` });
    const cacheDir = await newCacheDir();
    const source = gitSource({ url: repo.url, branch: 'main', cacheDir });
    await source.fetchHead();
    const gitdir = await onlyCacheFolder(cacheDir);
    expect((await readFile(join(gitdir, 'shallow'), 'utf8')).trim()).toBe(await repo.head());
    const [first] = await packsIn(gitdir);
    // One commit, the root tree, flows/ and 20 blobs: no history.
    expect(first.objects).toBe(23);

    const changed = await repo.commit({ 'flows/f7.yaml': 'id: f7\nchanged: true\n' });
    expect((await source.fetchHead()).sha).toBe(changed);
    const packs = await packsIn(gitdir);
    expect(packs).toHaveLength(2);
    const second = packs.find((pack) => pack.name !== first.name)!;
    // The new commit, the root tree, flows/ and the changed blob.
    expect(second.objects).toBe(4);
    // Credentials or not, only the display URL is written to the cache's config.
    expect(await readFile(join(gitdir, 'config'), 'utf8')).toContain(`url = ${repo.url}`);
  });

  test('after too many packs the cache starts over with one shallow pack', async () => {
    const repo = await createRepo(server, 'compaction', { 'flows/a.yaml': 'id: a\n' });
    const cacheDir = await newCacheDir();
    const remote = new RemoteRepository({ fetchUrl: repo.url, displayUrl: repo.url, branch: 'main', cacheDir, timeoutMs: 10_000, compactAfterPacks: 3 });
    try {
      for (let i = 0; i < 4; i++) {
        await repo.commit({ [`flows/n${i}.yaml`]: `id: n${i}\n` });
        expect(await remote.resolveHead()).toBe(await repo.head());
      }
      expect(await packsIn(remote.gitdir)).toHaveLength(4);
      const last = await repo.commit({ 'flows/last.yaml': 'id: last\n' });
      expect(await remote.resolveHead()).toBe(last);
      const packs = await packsIn(remote.gitdir);
      expect(packs).toHaveLength(1);
      expect((await readFile(join(remote.gitdir, 'shallow'), 'utf8')).trim()).toBe(last);
      expect((await remote.objects.listFiles(last, ['flows'])).map((file) => file.path)).toEqual([
        'flows/a.yaml',
        'flows/last.yaml',
        'flows/n0.yaml',
        'flows/n1.yaml',
        'flows/n2.yaml',
        'flows/n3.yaml',
      ]);
      expect(await readdir(cacheDir)).toEqual([remote.gitdir.split('/').pop()]);
      // And it goes on incrementally from there.
      const after = await repo.commit({ 'flows/after.yaml': 'id: after\n' });
      expect(await remote.resolveHead()).toBe(after);
      expect(await packsIn(remote.gitdir)).toHaveLength(2);
    } finally {
      remote.close();
    }
  });

  test('a damaged cache is dropped and fetched again', async () => {
    const repo = await createRepo(server, 'damaged', { 'flows/a.yaml': 'id: a\n' });
    const cacheDir = await newCacheDir();
    await gitSource({ url: repo.url, branch: 'main', cacheDir }).fetchHead();
    const gitdir = await onlyCacheFolder(cacheDir);
    const [pack] = await packsIn(gitdir);
    const packPath = join(gitdir, 'objects', 'pack', pack.name);
    const bytes = await readFile(packPath);
    bytes.fill(0x42, 12, bytes.length - 20);
    await writeFile(packPath, bytes);

    const changed = await repo.commit({ 'flows/b.yaml': 'id: b\n' });
    const source = gitSource({ url: repo.url, branch: 'main', cacheDir });
    const head = await source.fetchHead();
    expect(head.sha).toBe(changed);
    expect((await source.listFiles(head.sha, ['flows'])).map((file) => file.path)).toEqual(['flows/a.yaml', 'flows/b.yaml']);
  });

  test('a compaction killed between its renames, or an init killed before the remote config, heals on the next fetch', async () => {
    const repo = await createRepo(server, 'interrupted', { 'flows/a.yaml': 'id: a\n' });
    const cacheDir = await newCacheDir();
    await gitSource({ url: repo.url, branch: 'main', cacheDir }).fetchHead();
    const gitdir = await onlyCacheFolder(cacheDir);
    await rename(gitdir, `${gitdir}.retired-0000`);
    await mkdir(`${gitdir}.compacting-1111`);
    expect((await gitSource({ url: repo.url, branch: 'main', cacheDir }).fetchHead()).sha).toBe(await repo.head());
    expect(await readdir(cacheDir)).toEqual([basename(gitdir)]);

    await writeFile(join(gitdir, 'config'), '[core]\n\tbare = true\n');
    const changed = await repo.commit({ 'flows/b.yaml': 'id: b\n' });
    expect((await gitSource({ url: repo.url, branch: 'main', cacheDir }).fetchHead()).sha).toBe(changed);
  });

  test('concurrent fetches of one cache folder queue up and agree', async () => {
    const repo = await createRepo(server, 'concurrent', { 'flows/a.yaml': 'id: a\n' });
    const cacheDir = await newCacheDir();
    const one = gitSource({ url: repo.url, branch: 'main', cacheDir });
    const other = gitSource({ url: repo.url, branch: 'main', cacheDir });
    const heads = await Promise.all([one.fetchHead(), other.fetchHead(), one.fetchHead()]);
    expect(new Set(heads.map((head) => head.sha))).toEqual(new Set([await repo.head()]));
  });

  test('two branches of one URL share a cache folder without disturbing each other', async () => {
    const repo = await createRepo(server, 'branches', { 'flows/main.yaml': 'id: main\n' });
    const feature = await repo.commit({ 'flows/feature.yaml': 'id: feature\n' }, 'feature', { branch: 'feature' });
    const cacheDir = await newCacheDir();
    const main = gitSource({ url: repo.url, branch: 'main', cacheDir });
    const other = gitSource({ url: repo.url, branch: 'feature', cacheDir });
    const [mainHead, featureHead] = await Promise.all([main.fetchHead(), other.fetchHead()]);
    expect(mainHead.sha).toBe(await repo.head('main'));
    expect(featureHead.sha).toBe(feature);
    expect((await other.listFiles(feature, ['flows'])).map((file) => file.path)).toEqual(['flows/feature.yaml', 'flows/main.yaml']);
    expect((await main.listFiles(mainHead.sha, ['flows'])).map((file) => file.path)).toEqual(['flows/main.yaml']);
  });

  test('a wrong password is stalled, and the password appears nowhere in the error', async () => {
    const repo = await createRepo(guarded, 'wrong-password', { 'flows/a.yaml': 'id: a\n' });
    const wrong = 'Wr0ng-Pa55word-9876';
    for (const source of [
      gitSource({ url: repo.url, branch: 'main', cacheDir: await newCacheDir(), auth: { username: 'robot', password: wrong } }),
      gitSource({ url: repo.url.replace('http://', `http://robot:${wrong}@`), branch: 'main', cacheDir: await newCacheDir() }),
      gitSource({ url: repo.url, branch: 'main', cacheDir: await newCacheDir(), auth: { token: wrong } }),
    ]) {
      const error = await failureOf(source.fetchHead());
      expect(error.kind).toBe('stalled');
      expect(error.reason).toBe('auth-failed');
      expect(error.message).toBe(`authentication failed for ${repo.url} (HTTP 401)`);
      expect(source.displayUrl).toBe(repo.url);
      const shown = everythingShownBy(error);
      expect(shown).toContain('HTTP Error: 401');
      expect(shown).not.toContain(wrong);
      expect(shown).not.toContain(encodeURIComponent(wrong));
      expect(shown).not.toContain(Buffer.from(`robot:${wrong}`).toString('base64'));
      expect(shown).not.toContain(Buffer.from(`x-access-token:${wrong}`).toString('base64'));
      // Nor does logging or serializing the source itself show it.
      const logged = inspect(source, { depth: 20, showHidden: true }) + JSON.stringify(source);
      expect(logged).toContain(repo.url);
      expect(logged).not.toContain(wrong);
      expect(logged).not.toContain(Buffer.from(`robot:${wrong}`).toString('base64'));
    }
  });

  test('no credentials for a guarded repository is stalled', async () => {
    const repo = await createRepo(guarded, 'no-credentials', { 'flows/a.yaml': 'id: a\n' });
    const error = await failureOf(gitSource({ url: repo.url, branch: 'main', cacheDir: await newCacheDir() }).fetchHead());
    expect(error).toMatchObject({ kind: 'stalled', reason: 'auth-failed' });
  });

  test('a repository that does not exist is stalled', async () => {
    const error = await failureOf(gitSource({ url: server.repoUrl('nope'), branch: 'main', cacheDir: await newCacheDir() }).fetchHead());
    expect(error).toMatchObject({ kind: 'stalled', reason: 'repository-not-found' });
    expect(error.message).toContain(server.repoUrl('nope'));
  });

  test('an empty repository has no branch: stalled', async () => {
    await runGit(server.root, ['init', '--quiet', '--bare', join(server.root, 'empty.git')]);
    const error = await failureOf(gitSource({ url: server.repoUrl('empty'), branch: 'main', cacheDir: await newCacheDir() }).fetchHead());
    expect(error).toMatchObject({ kind: 'stalled', reason: 'branch-not-found' });
  });

  test('a closed port on 127.0.0.1 is transient', async () => {
    const port = await closedPort();
    const url = `http://robot:${PASSWORD}@127.0.0.1:${port}/repo.git`;
    const source = gitSource({ url, branch: 'main', cacheDir: await newCacheDir() });
    const error = await failureOf(source.fetchHead());
    expect(error).toMatchObject({ kind: 'transient', reason: 'network' });
    expect(error.message).toContain(`cannot reach http://127.0.0.1:${port}/repo.git`);
    expect(everythingShownBy(error)).not.toContain(PASSWORD);
  });

  describe('misbehaving servers', () => {
    let misbehaving: Server;
    let base: string;
    beforeAll(async () => {
      misbehaving = createServer((request, response) => {
        if (request.url?.startsWith('/hang/')) return; // never answers
        if (request.url?.startsWith('/fail/')) {
          response.writeHead(503, { 'Content-Type': 'text/plain' });
          response.end('down for maintenance');
          return;
        }
        response.writeHead(200, { 'Content-Type': 'text/html' });
        response.end('<html><body>Sign in</body></html>');
      });
      await new Promise<void>((resolve) => misbehaving.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(misbehaving.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      misbehaving.closeAllConnections();
      await new Promise((resolve) => misbehaving.close(resolve));
    });

    test('a server that never answers times out: transient, after timeoutMs', async () => {
      const started = Date.now();
      const error = await failureOf(gitSource({ url: `${base}/hang/repo.git`, branch: 'main', cacheDir: await newCacheDir(), timeoutMs: 300 }).fetchHead());
      expect(error).toMatchObject({ kind: 'transient', reason: 'timeout' });
      expect(error.message).toBe(`fetching ${base}/hang/repo.git timed out after 300 ms`);
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    test('a 5xx answer is transient', async () => {
      const error = await failureOf(gitSource({ url: `${base}/fail/repo.git`, branch: 'main', cacheDir: await newCacheDir() }).fetchHead());
      expect(error).toMatchObject({ kind: 'transient', reason: 'server-error' });
      expect(error.message).toContain('HTTP 503');
    });

    test('an HTML page instead of a git server is stalled', async () => {
      const error = await failureOf(gitSource({ url: `${base}/html/repo.git`, branch: 'main', cacheDir: await newCacheDir(), auth: { token: TOKEN } }).fetchHead());
      expect(error).toMatchObject({ kind: 'stalled', reason: 'invalid-url' });
      expect(everythingShownBy(error)).not.toContain(TOKEN);
    });
  });

  test('prints the time of an incremental fetch + listFiles + reading 100 blobs after a one-file change (100-flow repo)', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 100; i++) {
      files[`flows/team${i % 5}/flow${i}.yaml`] =
        `id: flow${i}\nnamespace: company.team${i % 5}\ntasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: Hello ${i}\n` + `# ${'padding '.repeat(40)}\n`;
    }
    const repo = await createRepo(server, 'hundred', files);
    const source = gitSource({ url: repo.url, branch: 'main', cacheDir: await newCacheDir() });
    let started = performance.now();
    const first = await source.fetchHead();
    const firstFetch = performance.now() - started;
    started = performance.now();
    const coldFiles = await source.listFiles(first.sha, ['flows', 'files']);
    await Promise.all(coldFiles.map((file) => source.readBlob(file.blobSha)));
    const coldRead = performance.now() - started;

    const rounds: { fetch: number; list: number; read: number }[] = [];
    for (let round = 0; round < 9; round++) {
      const expected = await repo.commit({ [`flows/team1/flow${round * 5 + 1}.yaml`]: `id: flow${round * 5 + 1}\nround: ${round}\n` });
      const t0 = performance.now();
      const head = await source.fetchHead();
      const t1 = performance.now();
      const listed = await source.listFiles(head.sha, ['flows', 'files']);
      const t2 = performance.now();
      const contents = await Promise.all(listed.map((file) => source.readBlob(file.blobSha)));
      const t3 = performance.now();
      expect(head.sha).toBe(expected);
      expect(contents).toHaveLength(100);
      rounds.push({ fetch: t1 - t0, list: t2 - t1, read: t3 - t2 });
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1].toFixed(1);
    const totals = rounds.map((round) => round.fetch + round.list + round.read);
    console.log(
      `[git timing] 100-flow repo over local http: first (shallow) fetch ${firstFetch.toFixed(1)} ms, cold listFiles + read 100 blobs (nothing cached yet) ${coldRead.toFixed(1)} ms; ` +
        `after a one-file change (median of ${rounds.length}): fetch ${median(rounds.map((r) => r.fetch))} ms + listFiles ${median(rounds.map((r) => r.list))} ms + ` +
        `read 100 blobs ${median(rounds.map((r) => r.read))} ms = ${median(totals)} ms (min ${Math.min(...totals).toFixed(1)}, max ${Math.max(...totals).toFixed(1)})`,
    );
  });
});

gitService.describe('GitSource on a local repository', () => {
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  test('reads in place: new commits show without copying, also after git gc repacks', async () => {
    const repo = await createRepo(server, 'in-place', { 'flows/a.yaml': 'id: a\n' });
    const cacheDir = await newCacheDir();
    const source = gitSource({ url: repo.workDir, branch: 'main', cacheDir });
    expect((await source.fetchHead()).sha).toBe(await repo.head());
    expect(await readdir(cacheDir)).toEqual([]);
    await runGit(repo.workDir, ['gc', '--quiet', '--prune=now']);
    const sha = await repo.commit({ 'flows/b.yaml': 'id: b\n' });
    await runGit(repo.workDir, ['gc', '--quiet', '--prune=now']);
    const head = await source.fetchHead();
    expect(head.sha).toBe(sha);
    const files = await source.listFiles(head.sha, ['flows']);
    expect(await Promise.all(files.map(async (file) => (await source.readBlob(file.blobSha)).toString()))).toEqual(['id: a\n', 'id: b\n']);
  });

  test('a path that is not a repository, or does not exist, is stalled', async () => {
    const plain = await mkdtemp(join(scratch, 'plain-'));
    for (const url of [plain, join(plain, 'missing'), pathToFileURL(join(plain, 'missing')).href]) {
      const error = await failureOf(gitSource({ url, branch: 'main', cacheDir: await newCacheDir() }).fetchHead());
      expect(error).toMatchObject({ kind: 'stalled', reason: 'repository-not-found' });
    }
  });

  test('a folder climbing out of the repository is a caller error (RangeError), not a sync failure', async () => {
    const repo = await createRepo(server, 'climb', { 'flows/a.yaml': 'id: a\n' });
    const source = gitSource({ url: repo.bareDir, branch: 'main', cacheDir: await newCacheDir() });
    const head = await source.fetchHead();
    await expect(source.listFiles(head.sha, ['flows/../..'])).rejects.toThrow(RangeError);
  });

  test('a relative path is resolved against the working directory and displayed absolute', async () => {
    const repo = await createRepo(server, 'relative', { 'flows/a.yaml': 'id: a\n' });
    const source = gitSource({ url: relative(process.cwd(), repo.workDir), branch: 'main', cacheDir: await newCacheDir() });
    expect(source.displayUrl).toBe(repo.workDir);
    expect((await source.fetchHead()).sha).toBe(await repo.head());
  });
});

describe('GitSource configuration problems are stalled at fetchHead, with no secret shown', () => {
  const cases: [string, string, GitSourceOptions['auth'] | undefined][] = [
    ['an SSH URL', 'ssh://git@github.com/org/repo.git', undefined],
    ['an scp-like SSH remote', 'git@github.com:org/repo.git', undefined],
    ['a query string', `https://git.example.test/org/repo.git?private_token=${TOKEN}`, undefined],
    ['a git:// URL', 'git://git.example.test/org/repo.git', { token: TOKEN }],
  ];
  for (const [name, url, auth] of cases) {
    test(name, async () => {
      const source = new GitSource({ url, branch: 'main', cacheDir: scratch, auth });
      const error = await failureOf(source.fetchHead());
      expect(error).toMatchObject({ kind: 'stalled', reason: 'invalid-url' });
      expect(everythingShownBy(error)).not.toContain(TOKEN);
      expect(source.displayUrl).not.toContain(TOKEN);
    });
  }

  test('an invalid branch name', async () => {
    const error = await failureOf(new GitSource({ url: scratch, branch: '../../config', cacheDir: scratch }).fetchHead());
    expect(error).toMatchObject({ kind: 'stalled', reason: 'invalid-branch' });
    expect(isGitSyncError(error, 'stalled')).toBe(true);
  });
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
