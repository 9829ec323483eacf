/**
 * The contract every transport of GitSource keeps (http with and without auth, local work tree, bare,
 * linked worktree, file://), run by git-source.test.ts once per transport against real repositories.
 */
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runGit, TEST_EPOCH, type TestRepo } from '../../test/support/git-server.ts';
import { GitSource, isGitSyncError, type GitSourceOptions } from './index.ts';

export interface ContractRepo {
  repo: TestRepo;
  /** A GitSource on the repository, `branch` defaulting to 'main'; extra options override. */
  source(options?: Partial<GitSourceOptions>): GitSource;
}

/** Creates a repository with `files` on 'main' (author and message as given). */
export type CreateContractRepo = (name: string, files: Record<string, string>, options?: { author?: { name: string; email: string }; message?: string }) => Promise<ContractRepo>;

const FILES = {
  'flows/hello.yaml': 'id: hello\nnamespace: company.team\n',
  'flows/nested/deeper/deep.yml': 'id: deep\n',
  'files/company.team/scripts/run.sh': '#!/bin/sh\necho hi\n',
  'files/company.team/data.csv': 'a,b\n1,2\n',
  'README.md': '# not a flow\n',
  'flowsy/decoy.yaml': 'id: decoy\n',
  'other/flows/x.yaml': 'id: x\n',
};

export function gitSourceContract(create: CreateContractRepo): void {
  test('fetchHead returns the head commit: sha, author, email, trimmed message, ISO author date', async () => {
    const { repo, source } = await create('info', FILES, { author: { name: 'Grace Hopper', email: 'grace@example.test' }, message: '  Add flows\n\nWith a body.\n\n' });
    const head = await source().fetchHead();
    expect(head).toEqual({
      sha: await repo.head(),
      author: 'Grace Hopper',
      email: 'grace@example.test',
      message: 'Add flows\n\nWith a body.',
      date: new Date(TEST_EPOCH).toISOString(),
    });
  });

  test('listFiles returns every blob under the requested folders only, nested, sorted, with blob shas', async () => {
    const { repo, source } = await create('list', FILES);
    const git = source();
    const head = await git.fetchHead();
    const files = await git.listFiles(head.sha, ['flows', 'files']);
    expect(files.map((file) => file.path)).toEqual([
      'files/company.team/data.csv',
      'files/company.team/scripts/run.sh',
      'flows/hello.yaml',
      'flows/nested/deeper/deep.yml',
    ]);
    for (const file of files) {
      expect(file.blobSha).toBe(await runGit(repo.bareDir, ['rev-parse', `${head.sha}:${file.path}`]));
      expect(file.mode).toBe('100644');
    }
    expect((await git.listFiles(head.sha, ['flows/nested/'])).map((file) => file.path)).toEqual(['flows/nested/deeper/deep.yml']);
    expect((await git.listFiles(head.sha, ['./flows', 'flows/nested'])).map((file) => file.path)).toEqual(['flows/hello.yaml', 'flows/nested/deeper/deep.yml']);
    expect(await git.listFiles(head.sha, ['missing', 'README.md', 'flows/hello.yaml'])).toEqual([]);
    expect(await git.listFiles(head.sha, [])).toEqual([]);
    expect((await git.listFiles(head.sha, [''])).length).toBe(Object.keys(FILES).length);
  });

  test('readBlob returns the bytes of a listed file, binary included', async () => {
    const binary = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const { source } = await create('blobs', { ...FILES, 'files/ns/latin1.bin': binary });
    const git = source();
    const head = await git.fetchHead();
    const files = await git.listFiles(head.sha, ['flows', 'files']);
    const hello = files.find((file) => file.path === 'flows/hello.yaml')!;
    expect((await git.readBlob(hello.blobSha)).toString('utf8')).toBe(FILES['flows/hello.yaml']);
    const bin = files.find((file) => file.path === 'files/ns/latin1.bin')!;
    expect(await git.readBlob(bin.blobSha)).toEqual(Buffer.from(binary, 'utf8'));
    // Callers get their own copy: changing it does not change the next read.
    const first = await git.readBlob(hello.blobSha);
    first.fill(0);
    expect((await git.readBlob(hello.blobSha)).toString('utf8')).toBe(FILES['flows/hello.yaml']);
  });

  test('a new commit is seen by the next fetchHead: added, changed and deleted files', async () => {
    const { repo, source } = await create('update', FILES);
    const git = source();
    const first = await git.fetchHead();
    const second = await repo.commit({ 'flows/hello.yaml': 'id: hello\nchanged: true\n', 'flows/new.yaml': 'id: new\n', 'flows/nested/deeper/deep.yml': null }, 'second');
    const head = await git.fetchHead();
    expect(head.sha).toBe(second);
    expect(head.message).toBe('second');
    const files = await git.listFiles(head.sha, ['flows']);
    expect(files.map((file) => file.path)).toEqual(['flows/hello.yaml', 'flows/new.yaml']);
    expect((await git.readBlob(files[0].blobSha)).toString()).toBe('id: hello\nchanged: true\n');
    // The first commit is still readable as long as its objects are in the copy.
    expect((await git.listFiles(first.sha, ['flows'])).map((file) => file.path)).toEqual(['flows/hello.yaml', 'flows/nested/deeper/deep.yml']);
    // Unchanged: same sha again.
    expect((await git.fetchHead()).sha).toBe(second);
  });

  test('a force-pushed (rewritten) branch is followed', async () => {
    const { repo, source } = await create('rewrite', FILES);
    const git = source();
    const root = await repo.head();
    await repo.commit({ 'flows/a.yaml': 'id: a\n' }, 'a');
    expect((await git.fetchHead()).sha).toBe(await repo.head());
    await runGit(repo.workDir, ['reset', '--quiet', '--hard', root]);
    const rewritten = await repo.commit({ 'flows/b.yaml': 'id: b\n' }, 'b instead of a');
    const head = await git.fetchHead();
    expect(head.sha).toBe(rewritten);
    const paths = (await git.listFiles(head.sha, ['flows'])).map((file) => file.path);
    expect(paths).toContain('flows/b.yaml');
    expect(paths).not.toContain('flows/a.yaml');
  });

  test('symlinks and submodules are skipped', async () => {
    const { repo, source } = await create('links', FILES);
    await symlink('/etc/passwd', join(repo.workDir, 'flows/passwd.yaml'));
    const nested = join(repo.workDir, 'flows/vendored');
    await mkdir(nested, { recursive: true });
    await runGit(nested, ['init', '--quiet']);
    await runGit(nested, ['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--quiet', '--allow-empty', '-m', 'inner']);
    const sha = await repo.commit({}, 'add a symlink and a gitlink');
    expect(await runGit(repo.bareDir, ['ls-tree', sha, 'flows/'])).toMatch(/^120000 blob [0-9a-f]+\tflows\/passwd\.yaml$/m);
    expect(await runGit(repo.bareDir, ['ls-tree', sha, 'flows/'])).toMatch(/^160000 commit [0-9a-f]+\tflows\/vendored$/m);
    const git = source();
    const head = await git.fetchHead();
    expect((await git.listFiles(head.sha, ['flows'])).map((file) => file.path)).toEqual(['flows/hello.yaml', 'flows/nested/deeper/deep.yml']);
  });

  test('a missing branch is stalled and names the branch and the URL', async () => {
    const { source } = await create('nobranch', FILES);
    const git = source({ branch: 'does-not-exist' });
    const error = await git.fetchHead().then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(isGitSyncError(error, 'stalled')).toBe(true);
    expect(error).toMatchObject({ reason: 'branch-not-found' });
    expect((error as Error).message).toBe(`branch 'does-not-exist' not found in ${git.displayUrl}`);
  });

  test('reading a commit or blob that was never fetched is transient (fetch again)', async () => {
    const { source } = await create('unknown', FILES);
    const git = source();
    await git.fetchHead();
    await expect(git.listFiles('0123456789abcdef0123456789abcdef01234567', ['flows'])).rejects.toMatchObject({ kind: 'transient', reason: 'object-missing' });
    await expect(git.readBlob('0123456789abcdef0123456789abcdef01234567')).rejects.toMatchObject({ kind: 'transient', reason: 'object-missing' });
    await expect(git.readBlob('not-a-sha')).rejects.toMatchObject({ reason: 'object-missing' });
  });
}
