/** One branch of one repository, remote (http(s)) or local, read as commits, trees and blobs. */
import { Redactor, GitSyncError, toGitSyncError, type FailureContext } from './errors.ts';
import { LocalRepository } from './local-repository.ts';
import { normalizeFolders, type ObjectStore, type SkippedTreeEntry, type TreeFile } from './object-store.ts';
import { RemoteRepository } from './remote-repository.ts';
import { parseSourceUrl, type GitAuth } from './source-url.ts';

export interface GitCommitInfo {
  sha: string;
  author: string;
  email: string;
  /** Trimmed. */
  message: string;
  /** The author date, ISO 8601 in UTC. */
  date: string;
}

export interface GitSourceOptions {
  /** An http(s) URL (user-info is used as credentials), a `file://` URL, or a path to a work tree or bare repository. */
  url: string;
  branch: string;
  /** Where fetched objects of remote repositories live, e.g. `<dataDir>/git`. Unused for local repositories. */
  cacheDir: string;
  auth?: GitAuth;
  /** Limit for one fetch, in milliseconds (default 60 s). */
  timeoutMs?: number;
}

/** The interface both transports offer GitSource. */
interface Repository {
  readonly objects: ObjectStore;
  resolveHead(): Promise<string>;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 60_000;

export class GitSource {
  /** The URL without credentials, safe for logs, errors, the API and the UI. */
  readonly displayUrl: string;
  readonly branch: string;
  // ES private fields: the repository holds the credentials, and they must not show when a source is logged.
  readonly #repository: Repository | GitSyncError;
  readonly #failure: FailureContext;

  constructor(options: GitSourceOptions) {
    const location = parseSourceUrl(options.url, options.auth);
    const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    this.displayUrl = location.displayUrl;
    this.branch = options.branch;
    const redactor = new Redactor(location.secrets);
    this.#failure = { displayUrl: this.displayUrl, branch: options.branch, redactor, timeoutMs, remoteRef: `refs/heads/${options.branch}` };

    // A bad URL or branch is reported by fetchHead, as a stalled sync, rather than thrown at start-up.
    const branchProblem = branchNameProblem(options.branch);
    if (branchProblem !== null) {
      this.#repository = new GitSyncError('invalid-branch', `invalid branch name ${JSON.stringify(options.branch)} for ${this.displayUrl}: ${branchProblem}`);
    } else if (location.transport === 'unsupported') {
      this.#repository = new GitSyncError('invalid-url', redactor.redact(location.problem));
    } else if (location.transport === 'local') {
      this.#repository = new LocalRepository(location.path, options.branch, this.displayUrl);
    } else {
      this.#repository = new RemoteRepository({
        fetchUrl: location.fetchUrl,
        displayUrl: this.displayUrl,
        branch: options.branch,
        cacheDir: options.cacheDir,
        credentials: location.credentials,
        timeoutMs,
      });
    }
  }

  /** Fetches the branch (shallow the first time, incremental after) and returns its head commit. */
  fetchHead(): Promise<GitCommitInfo> {
    return this.guard(async (repository) => {
      const sha = await repository.resolveHead();
      const commit = await repository.objects.readCommit(sha);
      return {
        sha,
        author: commit.author.name,
        email: commit.author.email,
        message: commit.message.trim(),
        date: new Date(commit.author.timestamp * 1000).toISOString(),
      };
    });
  }

  /** Every blob under the given folders (recursive; '' is the whole tree) of a commit fetched before, sorted by path. */
  async listFiles(commitSha: string, folders: string[]): Promise<TreeFile[]> {
    // A folder climbing out of the repository is the caller's bug, not a sync failure: a plain RangeError.
    const normalized = normalizeFolders(folders);
    return this.guard((repository) => repository.objects.listFiles(commitSha, normalized));
  }

  /** Like listFiles, plus the symbolic links and submodules it leaves out (never read: see ObjectStore). */
  async listTree(commitSha: string, folders: string[]): Promise<{ files: TreeFile[]; skipped: SkippedTreeEntry[] }> {
    const normalized = normalizeFolders(folders);
    return this.guard((repository) => repository.objects.listTree(commitSha, normalized));
  }

  /** The blob's size from its header, without reading it; undefined when only reading it can tell. */
  blobSize(blobSha: string): Promise<number | undefined> {
    return this.guard((repository) => repository.objects.blobSize(blobSha));
  }

  readBlob(blobSha: string): Promise<Buffer> {
    return this.guard((repository) => repository.objects.readBlob(blobSha));
  }

  /** Closes idle keep-alive connections to the remote (none are kept for local repositories). */
  close(): void {
    if (this.#repository instanceof RemoteRepository) this.#repository.close();
  }

  private async guard<T>(operation: (repository: Repository) => Promise<T>): Promise<T> {
    if (this.#repository instanceof GitSyncError) throw this.#repository;
    try {
      return await operation(this.#repository);
    } catch (error) {
      throw toGitSyncError(error, this.#failure);
    }
  }
}

/** Why `name` is not a usable branch name (the rules of `git check-ref-format`), or null. */
export function branchNameProblem(name: string): string | null {
  if (name === '') return 'it is empty';
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'it contains a space, a control character or one of ~ ^ : ? * [ \\';
  if (name.includes('..') || name.includes('@{') || name === '@') return "it contains '..' or '@{', or is '@'";
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'it has an empty path component';
  if (name.endsWith('.')) return "it ends with '.'";
  if (name.startsWith('-')) return "it starts with '-'";
  for (const component of name.split('/')) {
    if (component.startsWith('.') || component.endsWith('.lock')) return "a component starts with '.' or ends with '.lock'";
  }
  return null;
}
