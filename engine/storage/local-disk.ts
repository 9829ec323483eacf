import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, realpathSync, type Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError } from './errors.ts';
import type { InternalStorage } from './types.ts';
import { encodeSegment, parseKestraUri, type KestraUri } from './uris.ts';

/** In-flight writes live beside their target under this name until renamed; listings never show them. */
const TEMP_NAME = /^\.baton-[0-9a-f-]{36}\.tmp$/;

interface Located extends KestraUri {
  file: string;
}

/**
 * Internal storage on a local directory: `kestra:///a/b/c.txt` is `{rootDir}/a/b/c.txt`.
 * Writes go to a temporary file in the target directory and are renamed into place, so readers see
 * the old object or the new one, never a partial one. Nothing outside `rootDir` is reachable, through
 * `..` or through symlinks (checked with realpath against the real root at call time; a process that
 * can race symlinks into `rootDir` already owns it and is out of scope).
 */
export class LocalDiskStorage implements InternalStorage {
  readonly rootDir: string;
  private readonly realRoot: string;

  constructor(rootDir: string) {
    this.rootDir = path.resolve(rootDir);
    mkdirSync(this.rootDir, { recursive: true });
    this.realRoot = realpathSync(this.rootDir);
  }

  async put(uri: string, data: Buffer | string | Readable | { file: string }): Promise<string> {
    const target = this.locate(uri);
    if (target.segments.length === 0) throw new StorageError('INVALID_URI', uri, 'Cannot write to the storage root');
    if (TEMP_NAME.test(target.segments[target.segments.length - 1])) {
      throw new StorageError('INVALID_URI', uri, 'Reserved object name');
    }
    const dir = path.dirname(target.file);
    await this.confine(dir, uri);
    await fs.mkdir(dir, { recursive: true });
    await this.confine(dir, uri);

    const temp = path.join(dir, `.baton-${randomUUID()}.tmp`);
    try {
      if (data instanceof Uint8Array || typeof data === 'string') {
        await fs.writeFile(temp, data, { flag: 'wx' });
      } else if (data instanceof Readable) {
        await pipeline(data, createWriteStream(temp, { flags: 'wx' }));
      } else if (typeof data?.file === 'string') {
        await pipeline(createReadStream(data.file), createWriteStream(temp, { flags: 'wx' }));
      } else {
        throw new TypeError('put() takes a Buffer, a string, a Readable or { file: path }');
      }
      await fs.rename(temp, target.file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    return target.uri;
  }

  async get(uri: string): Promise<Readable> {
    const handle = await this.openObject(uri);
    return handle.createReadStream();
  }

  async readBuffer(uri: string): Promise<Buffer> {
    const handle = await this.openObject(uri);
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async exists(uri: string): Promise<boolean> {
    const target = this.locate(uri);
    await this.confine(target.file, uri);
    const stat = await statOrUndefined(target.file);
    return stat?.isFile() ?? false;
  }

  async size(uri: string): Promise<number> {
    const target = this.locate(uri);
    await this.confine(target.file, uri);
    const stat = await statOrUndefined(target.file);
    if (!stat?.isFile()) throw new StorageError('NOT_FOUND', uri, 'No such object');
    return stat.size;
  }

  /** Deletes one object; a "directory" is not an object (false) — use `deletePrefix` for those. */
  async delete(uri: string): Promise<boolean> {
    const target = this.locate(uri);
    await this.confine(target.file, uri);
    const stat = await statOrUndefined(target.file);
    if (!stat?.isFile()) return false;
    try {
      await fs.unlink(target.file);
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /** Removes the prefix and everything below it (symlinks are unlinked, never followed); resolves to the objects removed. */
  async deletePrefix(prefix: string): Promise<string[]> {
    const target = this.locate(prefix);
    await this.confine(target.file, prefix);
    const stat = await lstatOrUndefined(target.file);
    if (!stat) return [];
    if (!stat.isDirectory()) {
      const wasObject = stat.isFile() || (stat.isSymbolicLink() && (await statOrUndefined(target.file))?.isFile());
      await fs.rm(target.file, { force: true }); // a symlink is unlinked, its target kept
      return wasObject ? [target.uri] : [];
    }
    const deleted = await this.walk(target.file, target.segments, { includeAllLinks: true });
    if (target.segments.length === 0) {
      // Keep the root directory itself: it may be a mount point or be watched.
      for (const entry of await fs.readdir(target.file)) {
        await fs.rm(path.join(target.file, entry), { recursive: true, force: true });
      }
    } else {
      await fs.rm(target.file, { recursive: true, force: true });
    }
    return deleted;
  }

  /** Every object at or below `prefix`, sorted; temporary files and symlinks leaving the root are skipped. */
  async list(prefix: string): Promise<string[]> {
    const target = this.locate(prefix);
    await this.confine(target.file, prefix);
    const stat = await statOrUndefined(target.file);
    if (!stat) return [];
    if (stat.isFile()) return [target.uri];
    if (!stat.isDirectory()) return [];
    return this.walk(target.file, target.segments, { includeAllLinks: false });
  }

  localPath(uri: string): string {
    const target = this.locate(uri);
    let probe = target.file;
    for (;;) {
      try {
        this.assertInside(realpathSync(probe), uri);
        return target.file;
      } catch (error) {
        if (!isMissing(error) || probe === this.rootDir) throw error;
        probe = path.dirname(probe);
      }
    }
  }

  private locate(uri: string): Located {
    const parsed = parseKestraUri(uri);
    // Segments are validated (no '..', no separators), so the join cannot leave rootDir lexically.
    return { ...parsed, file: path.join(this.rootDir, ...parsed.segments) };
  }

  /** Refuses `file` when it, or its deepest existing ancestor, resolves outside the real root. */
  private async confine(file: string, uri: string): Promise<void> {
    let probe = file;
    for (;;) {
      try {
        this.assertInside(await fs.realpath(probe), uri);
        return;
      } catch (error) {
        if (!isMissing(error) || probe === this.rootDir) throw error;
        probe = path.dirname(probe);
      }
    }
  }

  private assertInside(real: string, uri: string): void {
    if (!isInside(this.realRoot, real)) {
      throw new StorageError('TRAVERSAL', uri, 'Storage path leaves the storage root through a symlink');
    }
  }

  private async openObject(uri: string): Promise<fs.FileHandle> {
    const target = this.locate(uri);
    await this.confine(target.file, uri);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(target.file, 'r');
    } catch (error) {
      if (isMissing(error)) throw new StorageError('NOT_FOUND', uri, 'No such object', { cause: error });
      throw error;
    }
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      throw new StorageError('NOT_FOUND', uri, 'No such object (a directory)');
    }
    return handle;
  }

  /**
   * Objects below `dir`, as URIs. Symlinked directories are not descended (no cycles, no escape);
   * symlinked files count when they resolve inside the root, or always when `includeAllLinks` (deletion
   * removes the link itself, whatever it points to).
   */
  private async walk(dir: string, segments: string[], options: { includeAllLinks: boolean }): Promise<string[]> {
    const found: string[] = [];
    const visit = async (current: string, currentSegments: string[]): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(current, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return; // removed concurrently
        throw error;
      }
      for (const entry of entries) {
        if (TEMP_NAME.test(entry.name)) continue;
        const full = path.join(current, entry.name);
        const entrySegments = [...currentSegments, entry.name];
        if (entry.isDirectory()) {
          await visit(full, entrySegments);
        } else if (entry.isFile()) {
          found.push(toUri(entrySegments));
        } else if (entry.isSymbolicLink()) {
          if (options.includeAllLinks || await this.isConfinedFile(full)) found.push(toUri(entrySegments));
        }
      }
    };
    await visit(dir, segments);
    return found.sort();
  }

  private async isConfinedFile(file: string): Promise<boolean> {
    try {
      const real = await fs.realpath(file);
      return isInside(this.realRoot, real) && (await fs.stat(real)).isFile();
    } catch {
      return false; // dangling link
    }
  }
}

function toUri(segments: string[]): string {
  return `kestra:///${segments.map(encodeSegment).join('/')}`;
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

async function statOrUndefined(file: string) {
  try {
    return await fs.stat(file);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

async function lstatOrUndefined(file: string) {
  try {
    return await fs.lstat(file);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}
