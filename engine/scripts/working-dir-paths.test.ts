import { mkdtemp, mkdir, readFile, rm, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskFailure } from '../plugins/types.ts';
import { UnsafePathError, prepareFileTarget, resolveInside } from './working-dir-paths.ts';

describe('working directory confinement', () => {
  let root: string;
  let outside: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'baton-confine-'));
    outside = await mkdtemp(join(tmpdir(), 'baton-outside-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('resolves relative paths, nested ones included', () => {
    expect(resolveInside(root, 'a.txt', 'inputFiles')).toBe(join(root, 'a.txt'));
    expect(resolveInside(root, 'dir/sub/a.txt', 'inputFiles')).toBe(join(root, 'dir/sub/a.txt'));
    expect(resolveInside(root, './a.txt', 'inputFiles')).toBe(join(root, 'a.txt'));
  });

  it('refuses absolute paths, parent segments, empty names and NUL bytes with the property named', () => {
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a/..', '', 'a\0b', 'C:\\x', '.']) {
      const error = (() => {
        try {
          resolveInside(root, bad, 'inputFiles');
        } catch (e) {
          return e;
        }
      })();
      expect(error, bad).toBeInstanceOf(UnsafePathError);
      expect(error, bad).toBeInstanceOf(TaskFailure);
      expect((error as Error).message.startsWith('inputFiles: ')).toBe(true);
    }
  });

  it('refuses a path that goes through a symlinked directory leading outside', async () => {
    await symlink(outside, join(root, 'escape'));
    await expect(prepareFileTarget(root, 'escape/x.txt', 'inputFiles')).rejects.toBeInstanceOf(UnsafePathError);
  });

  it('replaces a symlink at the target instead of writing through it', async () => {
    await writeFile(join(outside, 'victim.txt'), 'original');
    await symlink(join(outside, 'victim.txt'), join(root, 'file.txt'));
    const target = await prepareFileTarget(root, 'file.txt', 'inputFiles');
    await writeFile(target, 'new');
    expect(await readFile(join(outside, 'victim.txt'), 'utf8')).toBe('original');
    expect((await lstat(join(root, 'file.txt'))).isSymbolicLink()).toBe(false);
  });

  it('creates missing parent directories', async () => {
    const target = await prepareFileTarget(root, 'a/b/c.txt', 'inputFiles');
    await writeFile(target, 'x');
    expect(await readFile(join(root, 'a/b/c.txt'), 'utf8')).toBe('x');
    await mkdir(join(root, 'd'));
    await expect(prepareFileTarget(root, 'd', 'inputFiles')).rejects.toBeInstanceOf(UnsafePathError);
  });
});
