/**
 * Reads commits, trees and blobs from one git directory through isomorphic-git, with in-memory caches
 * keyed by object id. Git objects are content-addressed, so a cached object can never be stale: after a
 * one-file change only the changed blob and the trees above it are read from disk again.
 */
import fs from 'node:fs';
import * as git from 'isomorphic-git';
import { GitSyncError } from './errors.ts';
import { LruCache } from './lru-cache.ts';
import { objectSizeFromHeader, PackIndexes } from './object-size.ts';

/** One file of a commit's tree. */
export interface TreeFile {
  /** Repo-relative, '/'-separated. */
  path: string;
  blobSha: string;
  mode: string;
}

/** An entry of a commit's tree that is never read: a symbolic link or a submodule (gitlink). */
export interface SkippedTreeEntry {
  path: string;
  kind: 'symlink' | 'submodule';
}

export interface CommitRecord {
  tree: string;
  parents: string[];
  author: { name: string; email: string; timestamp: number };
  message: string;
}

interface TreeEntryRecord {
  mode: string;
  path: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const BLOB_CACHE_BYTES = 32 * 1024 * 1024;
const TREE_CACHE_ENTRIES = 200_000;
const COMMIT_CACHE_ENTRIES = 256;

const MODE_TREE = '040000';
const MODE_SYMLINK = '120000';
const MODE_SUBMODULE = '160000';

export class ObjectStore {
  /** isomorphic-git's pack index cache; replaced whenever the packs on disk may have been replaced. */
  private packs: object = {};
  private readonly commits = new LruCache<string, CommitRecord>(COMMIT_CACHE_ENTRIES);
  private readonly trees = new LruCache<string, TreeEntryRecord[]>(TREE_CACHE_ENTRIES, (entries) => entries.length + 1);
  private readonly blobs = new LruCache<string, Buffer>(BLOB_CACHE_BYTES, (blob) => blob.byteLength);
  private readonly packIndexes = new PackIndexes(() => this.dir);

  constructor(
    private dir: string,
    private readonly displayUrl: string,
  ) {}

  get gitdir(): string {
    return this.dir;
  }

  /** Points the store at another git directory (the object caches stay: ids do not change meaning). */
  moveTo(gitdir: string): void {
    if (gitdir === this.dir) return;
    this.dir = gitdir;
    this.resetPacks();
  }

  /** Forgets loaded pack indexes and packs, after the pack folder was rewritten (compaction, `git gc`). */
  resetPacks(): void {
    this.packs = {};
    this.packIndexes.reset();
  }

  /** The pack cache to hand to other isomorphic-git calls on the same folder (fetch). */
  get packCache(): object {
    return this.packs;
  }

  /** Whether the commit is on disk now (not merely remembered: the folder may have been wiped or replaced). */
  async hasCommit(sha: string): Promise<boolean> {
    checkObjectId(sha);
    try {
      await git.readCommit({ fs, gitdir: this.dir, oid: sha, cache: this.packs });
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'NotFoundError') return false;
      throw error;
    }
  }

  async readCommit(sha: string): Promise<CommitRecord> {
    checkObjectId(sha);
    const cached = this.commits.get(sha);
    if (cached) return cached;
    const { commit } = await this.missingAsObjectMissing(sha, 'commit', () => git.readCommit({ fs, gitdir: this.dir, oid: sha, cache: this.packs }));
    const record: CommitRecord = {
      tree: commit.tree,
      parents: commit.parent,
      author: { name: commit.author.name, email: commit.author.email, timestamp: commit.author.timestamp },
      message: commit.message,
    };
    this.commits.set(sha, record);
    return record;
  }

  async readTree(oid: string): Promise<TreeEntryRecord[]> {
    const cached = this.trees.get(oid);
    if (cached) return cached;
    const { tree } = await this.missingAsObjectMissing(oid, 'tree', () => git.readTree({ fs, gitdir: this.dir, oid, cache: this.packs }));
    const entries = tree.map(({ mode, path, oid: entryOid, type }) => ({ mode, path, oid: entryOid, type }));
    this.trees.set(oid, entries);
    return entries;
  }

  /** The blob's bytes; a copy, so callers may keep or change it. */
  async readBlob(oid: string): Promise<Buffer> {
    checkObjectId(oid);
    let blob = this.blobs.get(oid);
    if (!blob) {
      const read = await this.missingAsObjectMissing(oid, 'blob', () => git.readBlob({ fs, gitdir: this.dir, oid, cache: this.packs }));
      blob = Buffer.from(read.blob.buffer, read.blob.byteOffset, read.blob.byteLength);
      this.blobs.set(oid, blob);
    }
    return Buffer.from(blob);
  }

  /**
   * The blob's size in bytes, told from its header without reading (inflating) the blob, or undefined
   * when it cannot be told so: then readBlob tells.
   */
  async blobSize(oid: string): Promise<number | undefined> {
    checkObjectId(oid);
    return this.blobs.get(oid)?.byteLength ?? objectSizeFromHeader(this.dir, oid, this.packIndexes);
  }

  /** Every blob under `folders` (recursive) in the commit's tree, sorted by path. */
  async listFiles(commitSha: string, folders: string[]): Promise<TreeFile[]> {
    return (await this.listTree(commitSha, folders)).files;
  }

  /** Like listFiles, plus the symbolic links and submodules it leaves out, so callers can say so. */
  async listTree(commitSha: string, folders: string[]): Promise<{ files: TreeFile[]; skipped: SkippedTreeEntry[] }> {
    const commit = await this.readCommit(commitSha);
    const files = new Map<string, TreeFile>();
    const skipped = new Map<string, SkippedTreeEntry>();
    await Promise.all(
      normalizeFolders(folders).map(async (folder) => {
        const tree = await this.findTree(commit.tree, folder);
        if (tree !== undefined) await this.collect(tree, folder, files, skipped);
      }),
    );
    const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
    return { files: [...files.values()].sort(byPath), skipped: [...skipped.values()].sort(byPath) };
  }

  /** The tree at `folder` ('' for the root), or undefined when there is none (absent, or a file). */
  private async findTree(root: string, folder: string): Promise<string | undefined> {
    let oid = root;
    for (const name of folder === '' ? [] : folder.split('/')) {
      const entry = (await this.readTree(oid)).find((candidate) => candidate.path === name);
      if (entry === undefined || entry.mode !== MODE_TREE) return undefined;
      oid = entry.oid;
    }
    return oid;
  }

  private async collect(treeOid: string, prefix: string, into: Map<string, TreeFile>, skipped: Map<string, SkippedTreeEntry>): Promise<void> {
    const subtrees: Promise<void>[] = [];
    for (const entry of await this.readTree(treeOid)) {
      // git itself never writes these names, but a hostile server can; a path built from them could
      // climb out of the folder the caller maps files into.
      if (entry.path === '' || entry.path === '.' || entry.path === '..' || /[/\\\0]/.test(entry.path)) continue;
      const path = prefix === '' ? entry.path : `${prefix}/${entry.path}`;
      if (entry.mode === MODE_TREE) {
        subtrees.push(this.collect(entry.oid, path, into, skipped));
      } else if (entry.mode === MODE_SUBMODULE) {
        // A submodule is a commit of another repository, which is never fetched: there is nothing to read.
        skipped.set(path, { path, kind: 'submodule' });
      } else if (entry.mode === MODE_SYMLINK) {
        // A symlink's target is an arbitrary path (`/etc/passwd`, `../../secrets`); following it would read
        // outside the repository, and its blob is only the target's name, never flow content.
        skipped.set(path, { path, kind: 'symlink' });
      } else if (entry.type === 'blob') {
        into.set(path, { path, blobSha: entry.oid, mode: entry.mode });
      }
    }
    await Promise.all(subtrees);
  }

  private async missingAsObjectMissing<T>(oid: string, what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if ((error as { code?: unknown }).code === 'NotFoundError') {
        throw new GitSyncError('object-missing', `${what} ${oid} is not in the local copy of ${this.displayUrl}; fetch it first`);
      }
      throw error;
    }
  }
}

function checkObjectId(oid: string): void {
  if (!OBJECT_ID.test(oid)) throw new GitSyncError('object-missing', `not a git object id: ${JSON.stringify(oid)}`);
}

/** 'flows/', './files', '/flows' → 'flows', 'files'; '' or '.' is the repository root. */
export function normalizeFolders(folders: string[]): string[] {
  const result = new Set<string>();
  for (const folder of folders) {
    const segments = folder.split(/[/\\]+/).filter((segment) => segment !== '' && segment !== '.');
    if (segments.includes('..')) throw new RangeError(`folder ${JSON.stringify(folder)} climbs out of the repository`);
    result.add(segments.join('/'));
  }
  return [...result];
}
