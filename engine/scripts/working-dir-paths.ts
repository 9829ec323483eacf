import { lstat, mkdir, realpath, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { TaskFailure } from '../plugins/types.ts';

/** A file path given to a script task that would land outside its working directory (or is malformed). */
export class UnsafePathError extends TaskFailure {
  override readonly name = 'UnsafePathError';

  constructor(
    /** The task property at fault, e.g. `inputFiles`. */
    readonly property: string,
    readonly path: string,
    reason: string,
  ) {
    super(`${property}: ${JSON.stringify(path)} ${reason}`);
  }
}

/**
 * The absolute path of `relPath` inside `root`, refusing absolute paths, `..` segments and NUL bytes
 * so a task can only write where its working directory is.
 */
export function resolveInside(root: string, relPath: string, property: string): string {
  if (!relPath || relPath.includes('\0')) throw new UnsafePathError(property, relPath, 'is not a valid file name');
  if (isAbsolute(relPath) || /^[a-zA-Z]:[\\/]/.test(relPath) || relPath.startsWith('\\')) {
    throw new UnsafePathError(property, relPath, 'must be a relative path inside the working directory, not an absolute one');
  }
  if (relPath.split(/[\\/]/).includes('..')) {
    throw new UnsafePathError(property, relPath, "must stay inside the working directory ('..' is not allowed)");
  }
  const target = resolve(root, relPath);
  if (target === resolve(root) || !isWithin(root, target)) {
    throw new UnsafePathError(property, relPath, 'must name a file inside the working directory');
  }
  return target;
}

/**
 * Resolves `relPath` inside `root` and makes it safe to write: parent directories exist and are
 * really inside `root` (no symlinked directory leads out), and a symlink already at the target is removed
 * rather than written through.
 */
export async function prepareFileTarget(root: string, relPath: string, property: string): Promise<string> {
  const target = resolveInside(root, relPath, property);
  await mkdir(dirname(target), { recursive: true });
  const [realRoot, realParent] = await Promise.all([realpath(root), realpath(dirname(target))]);
  if (realParent !== realRoot && !isWithin(realRoot, realParent)) {
    throw new UnsafePathError(property, relPath, 'goes through a link that leads outside the working directory');
  }
  const existing = await lstat(target).catch(() => undefined);
  if (existing?.isSymbolicLink()) await unlink(target);
  else if (existing?.isDirectory()) throw new UnsafePathError(property, relPath, 'is an existing directory');
  return target;
}

/** True when `path` is strictly below `root` (both absolute). */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
}
