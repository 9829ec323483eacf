/**
 * A repository on this machine, read in place (no copy): a work tree (`.git` folder, or a `.git` file
 * pointing elsewhere as in linked worktrees and submodules) or a bare repository.
 */
import fs from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as git from 'isomorphic-git';
import { GitSyncError } from './errors.ts';
import { ObjectStore } from './object-store.ts';

export class LocalRepository {
  readonly objects: ObjectStore;
  private packNames: string | undefined;

  constructor(
    private readonly path: string,
    private readonly branch: string,
    private readonly displayUrl: string,
  ) {
    this.objects = new ObjectStore(path, displayUrl);
  }

  /** The sha `refs/heads/<branch>` points at right now. */
  async resolveHead(): Promise<string> {
    const gitdir = await findCommonGitDir(this.path, this.displayUrl);
    this.objects.moveTo(gitdir);
    await this.forgetReplacedPacks(gitdir);
    try {
      return await git.resolveRef({ fs, gitdir, ref: `refs/heads/${this.branch}` });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'NotFoundError') {
        throw new GitSyncError('branch-not-found', `branch '${this.branch}' not found in ${this.displayUrl}`);
      }
      throw error;
    }
  }

  /**
   * `git gc` replaces packs behind our back. isomorphic-git only consults packs that are still listed,
   * so stale ones are harmless, but they stay in memory: drop the pack cache when the list changes.
   */
  private async forgetReplacedPacks(gitdir: string): Promise<void> {
    let names: string;
    try {
      names = (await readdir(join(gitdir, 'objects', 'pack'))).sort().join('\n');
    } catch {
      names = '';
    }
    if (this.packNames !== undefined && names !== this.packNames) this.objects.resetPacks();
    this.packNames = names;
  }
}

/**
 * The git directory holding refs/heads and objects for the repository at `path`. A linked worktree's own
 * git directory only holds its HEAD and index; its `commondir` file names the shared one.
 */
export async function findCommonGitDir(path: string, displayUrl: string): Promise<string> {
  const notFound = (detail: string) => new GitSyncError('repository-not-found', `${detail}: ${displayUrl}`);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw notFound('no repository at this path');
    throw error;
  });
  if (!info.isDirectory()) throw notFound('not a directory');

  let gitdir: string | undefined;
  const dotGit = join(path, '.git');
  const dotGitInfo = await stat(dotGit).catch(() => undefined);
  if (dotGitInfo?.isDirectory()) {
    gitdir = dotGit;
  } else if (dotGitInfo?.isFile()) {
    const pointer = /^gitdir:\s*(.+?)\s*$/m.exec(await readFile(dotGit, 'utf8'));
    if (!pointer) throw notFound('.git file without a "gitdir:" line');
    gitdir = resolve(path, pointer[1]);
  } else if (await isGitDir(path)) {
    gitdir = path;
  } else {
    throw notFound('not a git repository (no .git, and not a bare repository)');
  }

  try {
    const common = (await readFile(join(gitdir, 'commondir'), 'utf8')).trim();
    return resolve(gitdir, common);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return gitdir;
    throw error;
  }
}

async function isGitDir(dir: string): Promise<boolean> {
  const [head, objects, refs] = await Promise.all(['HEAD', 'objects', 'refs'].map((name) => stat(join(dir, name)).catch(() => undefined)));
  return !!head?.isFile() && !!objects?.isDirectory() && !!refs?.isDirectory();
}
