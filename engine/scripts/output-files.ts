import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import type { TaskContext } from '../plugins/types.ts';
import { UnsafePathError, isWithin } from './working-dir-paths.ts';

/**
 * A matcher for `outputFiles` globs, relative to the working directory. Java globs (Kestra's) let
 * `**.csv` cross directories and `*` match dot files; picomatch needs `** /*.csv` and `dot` for that.
 */
export function outputFilesMatcher(patterns: readonly string[], property = 'outputFiles'): (relPath: string) => boolean {
  const globs = patterns.map((pattern) => {
    const clean = pattern.startsWith('./') ? pattern.slice(2) : pattern;
    if (!clean || clean.startsWith('/') || clean.split('/').includes('..')) {
      throw new UnsafePathError(property, pattern, 'must be a relative path or glob inside the working directory');
    }
    return toPicomatchGlob(clean);
  });
  return globs.length === 0 ? () => false : picomatch(globs, { dot: true });
}

/** `**` glued to other characters (`**.csv`, `out/**.txt`) means "any depth" in Java globs. */
export function toPicomatchGlob(pattern: string): string {
  return pattern.replace(/(^|\/)\*\*(?=[^/])/g, '$1**/*');
}

/**
 * Uploads every regular file of the working directory matching `patterns`; resolves to
 * `{relative/path: kestra:// URI}`. Each is stored as `{hash of its path}-{file name}` so equal
 * names from different folders do not collide (Kestra's naming).
 */
export async function uploadOutputFiles(
  ctx: TaskContext<unknown>,
  workingDir: string,
  patterns: readonly string[],
): Promise<Record<string, string>> {
  if (patterns.length === 0) return {};
  const matches = outputFilesMatcher(patterns);
  const uploaded: Record<string, string> = {};
  for (const file of await listFiles(workingDir)) {
    const rel = toPosix(relative(workingDir, file));
    if (!matches(rel)) continue;
    const stored = await uploadInside(ctx, workingDir, file, storedName(rel));
    if (stored) uploaded[rel] = stored;
  }
  return uploaded;
}

/** Uploads everything under the output directory, keyed and stored by its path relative to that directory. */
export async function uploadOutputDirectory(ctx: TaskContext<unknown>, outputDir: string): Promise<Record<string, string>> {
  const uploaded: Record<string, string> = {};
  for (const file of await listFiles(outputDir)) {
    const rel = toPosix(relative(outputDir, file));
    // Storage names are URI path segments: a `%` or space in a file name must be escaped.
    const stored = await uploadInside(ctx, outputDir, file, rel.split('/').map(encodeURIComponent).join('/'));
    if (stored) uploaded[rel] = stored;
  }
  return uploaded;
}

/**
 * Stores `file` (listed inside `root`) from a descriptor opened now, if it is still a regular file inside
 * `root`; undefined when it is not. Between the listing and the upload, something the task left running
 * (`setsid` escapes its process group) could swap the file or a directory on its path for a link to a
 * file of Baton's: the path the open descriptor really has (/proc/self/fd/N) is what is checked.
 */
async function uploadInside(ctx: TaskContext<unknown>, root: string, file: string, name: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO swapped in must not block the upload.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const [stats, real, realRoot] = await Promise.all([handle.stat(), openedPath(handle, file), realpath(root)]);
    if (!stats.isFile() || !isWithin(realRoot, real)) return undefined;
    return await ctx.storage.putFile(name, handle.createReadStream({ autoClose: false }));
  } finally {
    await handle.close();
  }
}

/** Where an open descriptor really points (Linux: /proc/self/fd/N); elsewhere the path's real path, checked before opening. */
async function openedPath(handle: FileHandle, file: string): Promise<string> {
  if (process.platform === 'linux') return readlink(`/proc/self/fd/${handle.fd}`);
  return realpath(file);
}

function storedName(relPath: string): string {
  const id = createHash('sha256').update(relPath).digest('base64url').slice(0, 22);
  return `${id}-${encodeURIComponent(basename(relPath))}`;
}

/**
 * Regular files below `root`, sorted. A symlink counts only when it resolves to a regular file inside
 * `root`: a script (or a container) must not be able to export host files by linking to them.
 */
export async function listFiles(root: string): Promise<string[]> {
  // Resolved only when a symlink is found: most output directories hold none, and each call is a round trip.
  let realRoot: Promise<string> | undefined;
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
      else if (entry.isSymbolicLink()) {
        const target = await realpath(path).catch(() => undefined);
        if (target && isWithin(await (realRoot ??= realpath(root)), target) && (await lstat(target)).isFile()) files.push(path);
      }
    }
  };
  await walk(root);
  return files.sort();
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
