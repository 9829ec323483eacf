/**
 * An http(s) remote mirrored into a bare cache repository: `<cacheDir>/<hash of the display URL>`.
 *
 * The first fetch is shallow (depth 1). Later ones are plain incremental fetches: the cache's head is
 * sent as a "have", so a push of one commit transfers one small pack. Measured on a 100-file repo, that
 * is about twice as fast as repeating `depth: 1` (the server then recomputes the shallow boundary) and
 * faster than `relative` deepening (which also pulls one older commit per fetch). A force-push onto an
 * unrelated history can pull more history than depth 1 would; that is rare and bounded by compaction.
 *
 * Each fetch adds a pack file; once there are more than COMPACT_AFTER_PACKS, the next fetch is a fresh
 * depth-1 fetch into a new folder that then replaces the cache, so packs and history stay bounded.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { basename, dirname, join } from 'node:path';
import * as git from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';
import { GitSyncError } from './errors.ts';
import { ObjectStore } from './object-store.ts';
import type { BasicCredentials } from './source-url.ts';

/** Pack files in the cache before a fetch starts over shallow instead of adding one more. */
export const COMPACT_AFTER_PACKS = 64;

const REMOTE = 'origin';

export interface RemoteRepositoryOptions {
  fetchUrl: string;
  displayUrl: string;
  branch: string;
  cacheDir: string;
  credentials?: BasicCredentials;
  timeoutMs: number;
  /** Overrides COMPACT_AFTER_PACKS (tests). */
  compactAfterPacks?: number;
}

// Fetches into one cache folder must not overlap (isomorphic-git rewrites `shallow` and refs), also
// across GitSource instances for the same URL and another branch: one queue per folder.
const folderQueues = new Map<string, Promise<unknown>>();

function inFolderQueue<T>(folder: string, operation: () => Promise<T>): Promise<T> {
  const previous = folderQueues.get(folder) ?? Promise.resolve();
  const next = previous.then(operation, operation);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  folderQueues.set(folder, settled);
  void settled.then(() => {
    if (folderQueues.get(folder) === settled) folderQueues.delete(folder);
  });
  return next;
}

export class RemoteRepository {
  readonly objects: ObjectStore;
  readonly gitdir: string;
  private readonly agent: HttpAgent;
  // ES private fields: unlike TypeScript `private`, they never show up when the object is logged or serialized.
  readonly #authorization: string | undefined;
  private readonly options: Omit<RemoteRepositoryOptions, 'credentials'>;

  constructor(options: RemoteRepositoryOptions) {
    const { credentials, ...rest } = options;
    this.options = rest;
    this.#authorization = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
    const hash = createHash('sha256').update(options.displayUrl).digest('hex').slice(0, 24);
    this.gitdir = join(options.cacheDir, hash);
    this.objects = new ObjectStore(this.gitdir, options.displayUrl);
    // Keep-alive saves a TCP (and TLS) handshake on each of the two requests of every fetch.
    this.agent = options.fetchUrl.startsWith('https:') ? new HttpsAgent({ keepAlive: true, maxSockets: 4 }) : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  }

  private get remoteRef(): string {
    return `refs/heads/${this.options.branch}`;
  }

  private get trackingRef(): string {
    return `refs/remotes/${REMOTE}/${this.options.branch}`;
  }

  /** Fetches the branch and resolves to its head sha; rejects with a timeout after `timeoutMs`. */
  resolveHead(): Promise<string> {
    const controller = new AbortController();
    const work = inFolderQueue(this.gitdir, () => this.fetchWithRecovery(controller.signal));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new GitSyncError('timeout', `fetching ${this.options.displayUrl} timed out after ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
    });
    // The queue stays held until the aborted fetch has really settled, so no two fetches write at once.
    work.catch(() => undefined);
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private async fetchWithRecovery(signal: AbortSignal): Promise<string> {
    try {
      return await this.fetchOnce(signal);
    } catch (error) {
      if (signal.aborted || !isCorruptCache(error, this.remoteRef)) throw error;
      // A pack that fails its checksum or an object the cache claims but lacks: start over from scratch.
      await rm(this.gitdir, { recursive: true, force: true });
      this.objects.resetPacks();
      return this.fetchOnce(signal);
    }
  }

  private async fetchOnce(signal: AbortSignal): Promise<string> {
    await this.ensureInitialized(this.gitdir);
    const packFiles = await countPacks(this.gitdir);
    const known = await this.knownHead();
    if (known !== undefined && packFiles > (this.options.compactAfterPacks ?? COMPACT_AFTER_PACKS)) return this.compact(signal);
    return this.fetchInto(this.gitdir, known === undefined ? 1 : undefined, signal);
  }

  /** The cached head of the branch, when its commit is really present (a fetch cut short leaves the ref but not the pack). */
  private async knownHead(): Promise<string | undefined> {
    let sha: string;
    try {
      sha = await git.resolveRef({ fs, gitdir: this.gitdir, ref: this.trackingRef });
    } catch {
      return undefined;
    }
    return (await this.objects.hasCommit(sha)) ? sha : undefined;
  }

  private async compact(signal: AbortSignal): Promise<string> {
    await this.removeLeftovers();
    const fresh = `${this.gitdir}.compacting-${randomBytes(4).toString('hex')}`;
    try {
      await this.ensureInitialized(fresh);
      const sha = await this.fetchInto(fresh, 1, signal);
      const retired = `${this.gitdir}.retired-${randomBytes(4).toString('hex')}`;
      await rename(this.gitdir, retired);
      await rename(fresh, this.gitdir);
      this.objects.resetPacks();
      await rm(retired, { recursive: true, force: true });
      return sha;
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  }

  /** Folders a compaction cut short (process killed between the two renames) left next to the cache. */
  private async removeLeftovers(): Promise<void> {
    const name = basename(this.gitdir);
    const siblings = await readdir(dirname(this.gitdir)).catch(() => [] as string[]);
    const leftovers = siblings.filter((sibling) => sibling.startsWith(`${name}.compacting-`) || sibling.startsWith(`${name}.retired-`));
    await Promise.all(leftovers.map((leftover) => rm(join(dirname(this.gitdir), leftover), { recursive: true, force: true })));
  }

  private async ensureInitialized(gitdir: string): Promise<void> {
    const exists = await stat(join(gitdir, 'config')).then(
      () => true,
      () => false,
    );
    if (exists) return;
    if (gitdir === this.gitdir) await this.removeLeftovers();
    await mkdir(gitdir, { recursive: true });
    await git.init({ fs, gitdir, bare: true });
    // Only the display URL is written down: credentials never reach the disk.
    await git.setConfig({ fs, gitdir, path: `remote.${REMOTE}.url`, value: this.options.displayUrl });
    await git.setConfig({ fs, gitdir, path: `remote.${REMOTE}.fetch`, value: `+refs/heads/*:refs/remotes/${REMOTE}/*` });
  }

  private async fetchInto(gitdir: string, depth: number | undefined, signal: AbortSignal): Promise<string> {
    const attempt = (withDepth: number | undefined) =>
      git.fetch({
        fs,
        http: { request: (request) => nodeHttp.request({ ...request, agent: this.agent, signal }) },
        gitdir,
        url: this.options.fetchUrl,
        remote: REMOTE,
        // `ref` is what isomorphic-git offers the server as "have": our copy of the branch.
        ref: this.trackingRef,
        remoteRef: this.remoteRef,
        singleBranch: true,
        tags: false,
        depth: withDepth,
        // Sent up front rather than after a 401 challenge (onAuth): one round trip less per request.
        headers: this.authorizationHeaders(),
        // Shared with the reads, so the "have" commit found here is already loaded for them.
        cache: gitdir === this.gitdir ? this.objects.packCache : {},
      });
    let result;
    try {
      result = await attempt(depth);
    } catch (error) {
      // A server without shallow support still serves a full fetch.
      if ((error as { code?: unknown }).code !== 'RemoteCapabilityError' || depth === undefined) throw error;
      result = await attempt(undefined);
    }
    if (!result.fetchHead) {
      // An empty repository has no refs at all.
      throw new GitSyncError('branch-not-found', `branch '${this.options.branch}' not found in ${this.options.displayUrl} (the repository is empty)`);
    }
    return result.fetchHead;
  }

  private authorizationHeaders(): Record<string, string> {
    return this.#authorization === undefined ? {} : { Authorization: this.#authorization };
  }
}

async function countPacks(gitdir: string): Promise<number> {
  try {
    return (await readdir(join(gitdir, 'objects', 'pack'))).filter((name) => name.endsWith('.pack')).length;
  } catch {
    return 0;
  }
}

/** Errors that come from a damaged cache rather than from the server. */
function isCorruptCache(error: unknown, remoteRef: string): boolean {
  const { code, data } = (error ?? {}) as { code?: unknown; data?: { what?: unknown } };
  // NoRefspecError: the process died between `git init` and writing the remote's config.
  if (code === 'InternalError' || code === 'ObjectTypeError' || code === 'NoRefspecError') return true;
  return code === 'NotFoundError' && data?.what !== remoteRef;
}
