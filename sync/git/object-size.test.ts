/**
 * A blob's size told from its header (object-size.ts), so the sync refuses an oversized flow without
 * inflating it: loose objects, packed ones and deltas against another blob (by offset and by id), in a
 * local repository (as `git` writes it) and in the cache of a remote one (as a fetch writes it). git's
 * own `cat-file` is the reference.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRepo, gitService, runGit, startGitServer, type GitServer } from '../../test/support/git-server.ts';
import { GitSource } from './git-source.ts';
import { ObjectStore } from './object-store.ts';

/** A text of `lines` lines whose `changed` line differs: two versions of it delta well against each other. */
const text = (lines: number, changed: number) => Array.from({ length: lines }, (_, i) => (i === changed ? `changed ${i}\n` : `line ${i} of a long file\n`)).join('');

gitService.describe('the size of a git object from its header', () => {
  let dir: string;
  let server: GitServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baton-object-size-'));
    server = await startGitServer();
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Every blob of the repository at `gitdir` with its size as git reports it. */
  const blobSizes = async (gitdir: string) => {
    const listing = await runGit(gitdir, ['cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype) %(objectsize)']);
    return listing.split('\n').map((line) => line.split(' ')).filter(([, type]) => type === 'blob').map(([oid, , size]) => ({ oid, size: Number(size) }));
  };

  it('loose, packed and deltified blobs of a local repository', async () => {
    const work = join(dir, 'local');
    await runGit(dir, ['init', '--quiet', '--initial-branch=main', work]);
    const commit = async (content: string, message: string) => {
      await writeFile(join(work, 'big.yaml'), content);
      await runGit(work, ['add', '-A']);
      await runGit(work, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', message]);
    };
    await commit(text(200_000, 1), 'one');
    await commit(text(200_000, 2), 'two');
    await writeFile(join(work, 'empty.yaml'), '');
    await commit(text(3, 0), 'small');
    const gitdir = join(work, '.git');
    const store = new ObjectStore(gitdir, 'local');
    const loose = await blobSizes(gitdir);
    expect(loose.length).toBe(4);
    for (const { oid, size } of loose) expect(await store.blobSize(oid), `loose ${oid}`).toBe(size);

    // Packed, deltas naming their base by offset (git's default), then by object id.
    for (const useOffsets of ['true', 'false']) {
      await runGit(work, ['-c', `repack.useDeltaBaseOffset=${useOffsets}`, 'repack', '--quiet', '-a', '-d', '-f']);
      await runGit(work, ['prune-packed']);
      store.resetPacks();
      // One of the two big versions is now stored as a delta against the other (verify-pack names its base).
      const [idx] = (await readdir(join(gitdir, 'objects', 'pack'))).filter((name) => name.endsWith('.idx'));
      const entries = (await runGit(gitdir, ['verify-pack', '-v', join(gitdir, 'objects', 'pack', idx)])).split('\n');
      expect(entries.filter((line) => / blob /.test(line) && line.trim().split(/\s+/).length === 7)).toHaveLength(1);
      for (const { oid, size } of await blobSizes(gitdir)) {
        expect(await store.blobSize(oid), `packed (offsets ${useOffsets}) ${oid}`).toBe(size);
        expect((await store.readBlob(oid)).byteLength).toBe(size);
      }
    }
    expect(await store.blobSize('0123456789abcdef0123456789abcdef01234567')).toBeUndefined();
  });

  it('blobs of a remote repository, as fetched into its cache', async () => {
    const repo = await createRepo(server, 'sizes', { 'flows/big.yaml': text(100_000, 1) });
    const source = new GitSource({ url: repo.url, branch: 'main', cacheDir: join(dir, 'cache') });
    await source.fetchHead();
    await repo.commit({ 'flows/big.yaml': text(100_000, 7), 'flows/small.yaml': 'id: x\n' }, 'change one line');
    const head = await source.fetchHead();
    const reference = new Map((await blobSizes(repo.bareDir)).map(({ oid, size }) => [oid, size]));
    // Another source on the same cache: nothing read yet, so every size comes from a header.
    const fresh = new GitSource({ url: repo.url, branch: 'main', cacheDir: join(dir, 'cache') });
    await fresh.fetchHead();
    const files = await fresh.listFiles(head.sha, ['flows']);
    expect(files.map((file) => file.path)).toEqual(['flows/big.yaml', 'flows/small.yaml']);
    for (const file of files) {
      expect(await fresh.blobSize(file.blobSha), file.path).toBe(reference.get(file.blobSha));
      expect((await fresh.readBlob(file.blobSha)).byteLength).toBe(reference.get(file.blobSha));
    }
  });
});
