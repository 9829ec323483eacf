import { realpathSync, type Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import type { NamespaceFiles } from './types.ts';

/** TRAVERSAL: the path or namespace tries to leave its directory (a 400); NOT_FOUND: no such file (a 404). */
export type NamespaceFileErrorCode = 'NOT_FOUND' | 'TRAVERSAL';

export class NamespaceFileError extends Error {
  override readonly name = 'NamespaceFileError';

  constructor(
    readonly code: NamespaceFileErrorCode,
    readonly namespace: string,
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${reason}: ${JSON.stringify(path)} in namespace ${JSON.stringify(namespace)}`, options);
  }
}

export type DirectoryNamespaceFilesOptions =
  /** `root/<namespace>/<path>`: the Git layout `files/company.team/sql/query.sql`. */
  | { root: string; layout: 'per-namespace' }
  /** `root/<path>` holds the files of this one namespace (the CLI's `--namespace-files DIR`). */
  | { root: string; namespace: string };

const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Namespace files read from a directory. Paths are '/'-rooted at the namespace (`/sql/q.sql` and
 * `sql/q.sql` are the same file, as in Kestra). Anything that could leave the directory is refused
 * as TRAVERSAL: `..` segments, backslashes, drive letters, NUL, percent-encoded dots or separators,
 * and symlinks resolving outside `root`. Symlinks that stay inside `root` are followed for files;
 * symlinked directories are not listed (no cycles).
 */
export class DirectoryNamespaceFiles implements NamespaceFiles {
  readonly root: string;
  private readonly namespace: string | undefined;
  private realRootCache: string | undefined;

  constructor(options: DirectoryNamespaceFilesOptions) {
    this.root = path.resolve(options.root);
    this.namespace = 'namespace' in options ? options.namespace : undefined;
  }

  async read(namespace: string, filePath: string): Promise<Buffer> {
    const dir = this.namespaceDir(namespace, filePath);
    const segments = confinedSegments(namespace, filePath);
    if (dir === undefined || segments.length === 0) {
      throw new NamespaceFileError('NOT_FOUND', namespace, filePath, 'No such namespace file');
    }
    const file = path.join(dir, ...segments);
    let real: string;
    try {
      real = await fs.realpath(file);
    } catch (error) {
      if (isMissing(error)) throw new NamespaceFileError('NOT_FOUND', namespace, filePath, 'No such namespace file', { cause: error });
      throw error;
    }
    if (!isInside(this.realRoot(), real)) {
      throw new NamespaceFileError('TRAVERSAL', namespace, filePath, 'Namespace file leaves its directory through a symlink');
    }
    try {
      return await fs.readFile(real);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (isMissing(error) || code === 'EISDIR') {
        throw new NamespaceFileError('NOT_FOUND', namespace, filePath, 'No such namespace file', { cause: error });
      }
      throw error;
    }
  }

  async list(namespace: string): Promise<string[]> {
    const dir = this.namespaceDir(namespace, '/');
    if (dir === undefined) return [];
    let realDir: string;
    try {
      realDir = await fs.realpath(dir);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    if (!isInside(this.realRoot(), realDir)) {
      throw new NamespaceFileError('TRAVERSAL', namespace, '/', 'Namespace directory leaves the root through a symlink');
    }
    const found: string[] = [];
    const visit = async (current: string, prefix: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(current, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(current, entry.name);
        const logical = `${prefix}/${entry.name}`;
        if (entry.isDirectory()) await visit(full, logical);
        else if (entry.isFile()) found.push(logical);
        else if (entry.isSymbolicLink() && await this.isConfinedFile(full)) found.push(logical);
      }
    };
    await visit(realDir, '');
    return found.sort();
  }

  /** The directory holding `namespace`'s files, or undefined when this source has none for it. */
  private namespaceDir(namespace: string, filePath: string): string | undefined {
    if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
      throw new NamespaceFileError('TRAVERSAL', String(namespace), filePath, 'Invalid namespace');
    }
    if (this.namespace !== undefined) return namespace === this.namespace ? this.root : undefined;
    return path.join(this.root, namespace);
  }

  private realRoot(): string {
    if (this.realRootCache === undefined) {
      try {
        this.realRootCache = realpathSync(this.root);
      } catch {
        return this.root; // no root yet: nothing below it exists either
      }
    }
    return this.realRootCache;
  }

  private async isConfinedFile(file: string): Promise<boolean> {
    try {
      const real = await fs.realpath(file);
      return isInside(this.realRoot(), real) && (await fs.stat(real)).isFile();
    } catch {
      return false;
    }
  }
}

/** The path's segments, each checked; `/a/b`, `a/b` and `a//b/` are the same file. */
function confinedSegments(namespace: string, filePath: string): string[] {
  const refuse = (reason: string) => new NamespaceFileError('TRAVERSAL', namespace, String(filePath), reason);
  if (typeof filePath !== 'string') throw refuse('Namespace file path must be a string');
  if (filePath.includes('\0')) throw refuse('NUL in namespace file path');
  if (filePath.includes('\\')) throw refuse('Backslash in namespace file path');
  if (/^[A-Za-z]:/.test(filePath)) throw refuse('Drive letter in namespace file path');
  const segments = filePath.split('/').filter((s) => s !== '');
  for (const segment of segments) {
    if (segment === '.' || segment === '..') throw refuse('Relative segment in namespace file path');
    // The path is not URL-decoded, but an encoded dot or separator only ever appears in an attack.
    const decoded = safeDecode(segment);
    if (decoded !== segment && (decoded === '.' || decoded === '..' || /[/\\\0]/.test(decoded))) {
      throw refuse('Encoded traversal in namespace file path');
    }
  }
  return segments;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  if (relative === '') return true;
  return relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
