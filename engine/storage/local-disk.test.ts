import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { StorageError } from './errors.ts';
import { LocalDiskStorage } from './local-disk.ts';
import { runStorageContract } from './storage.case.ts';

const roots: string[] = [];

async function freshRoot(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'baton-local-disk-'));
  roots.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(roots.map((dir) => rm(dir, { recursive: true, force: true })));
});

runStorageContract('LocalDiskStorage', async () => new LocalDiskStorage(await freshRoot()));

describe('LocalDiskStorage on disk', () => {
  let base: string;
  let root: string;
  let outside: string;
  let storage: LocalDiskStorage;

  beforeEach(async () => {
    base = await freshRoot();
    root = path.join(base, 'store');
    outside = path.join(base, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'secret.txt'), 'do not read');
    storage = new LocalDiskStorage(root);
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  test('creates its root, and an object is a file at its decoded URI path', async () => {
    expect((await stat(root)).isDirectory()).toBe(true);
    await storage.put('kestra:///company/team/flow/my%20file.txt', 'hi');
    expect(await readFile(path.join(root, 'company', 'team', 'flow', 'my file.txt'), 'utf8')).toBe('hi');
    expect(storage.localPath('kestra:///company/team/flow/my%20file.txt'))
      .toBe(path.join(root, 'company', 'team', 'flow', 'my file.txt'));
  });

  test('put streams to a temporary file that is renamed into place', async () => {
    const dir = path.join(root, 'ns', 'flow');
    await mkdir(dir, { recursive: true });
    const chunk = Buffer.alloc(64 * 1024, 3);
    const chunks = 160; // 10 MB
    let sent = 0;
    const tempSizesSeen: number[] = [];
    let targetSeenEarly = false;
    const source = new Readable({
      async read() {
        if (sent === chunks * 3 / 4) {
          // Three quarters in: the bytes so far must already be on disk, in a temp file, not the target.
          const temps = (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
          for (const name of temps) tempSizesSeen.push((await stat(path.join(dir, name))).size);
          targetSeenEarly = (await readdir(dir)).includes('big.bin');
        }
        if (sent === chunks) {
          this.push(null);
          return;
        }
        sent++;
        this.push(chunk);
      },
    });
    await storage.put('kestra:///ns/flow/big.bin', source);
    expect(targetSeenEarly).toBe(false);
    expect(tempSizesSeen).toHaveLength(1);
    expect(tempSizesSeen[0]).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual(['big.bin']);
    expect((await stat(path.join(dir, 'big.bin'))).size).toBe(chunks * chunk.length);
  });

  test('temporary files left by a crash are never listed, nor addressable', async () => {
    await storage.put('kestra:///ns/real.txt', 'r');
    const orphan = '.baton-0f8fad5b-d9cb-469f-a165-70867728950e.tmp';
    await writeFile(path.join(root, 'ns', orphan), 'partial');
    expect(await storage.list('kestra:///ns')).toEqual(['kestra:///ns/real.txt']);
    await expect(storage.put(`kestra:///ns/${orphan}`, 'x')).rejects.toMatchObject({ code: 'INVALID_URI' });
    await storage.deletePrefix('kestra:///ns');
    await expect(stat(path.join(root, 'ns'))).rejects.toThrow();
  });

  describe('symlinks', () => {
    test('a symlinked directory leading outside is refused for every operation', async () => {
      await mkdir(path.join(root, 'ns'), { recursive: true });
      await symlink(outside, path.join(root, 'ns', 'escape'));
      const uri = 'kestra:///ns/escape/secret.txt';
      for (const call of [
        () => storage.get(uri),
        () => storage.readBuffer(uri),
        () => storage.exists(uri),
        () => storage.size(uri),
        () => storage.delete(uri),
        () => storage.put(uri, 'overwrite'),
        () => storage.put('kestra:///ns/escape/new/file.txt', 'planted'),
        () => storage.list('kestra:///ns/escape'),
        () => storage.deletePrefix('kestra:///ns/escape'),
        async () => storage.localPath(uri),
      ]) {
        const error = await call().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect((error as StorageError).code).toBe('TRAVERSAL');
      }
      expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('do not read');
      expect(await readdir(outside)).toEqual(['secret.txt']);
    });

    test('a symlinked file leading outside is refused and not listed', async () => {
      await mkdir(path.join(root, 'ns'), { recursive: true });
      await symlink(path.join(outside, 'secret.txt'), path.join(root, 'ns', 'link.txt'));
      await storage.put('kestra:///ns/plain.txt', 'p');
      await expect(storage.readBuffer('kestra:///ns/link.txt')).rejects.toMatchObject({ code: 'TRAVERSAL' });
      expect(await storage.list('kestra:///ns')).toEqual(['kestra:///ns/plain.txt']);
    });

    test('deleting a prefix unlinks symlinks and never touches their targets', async () => {
      await mkdir(path.join(root, 'ns', 'sub'), { recursive: true });
      await symlink(outside, path.join(root, 'ns', 'sub', 'escape'));
      await symlink(path.join(outside, 'secret.txt'), path.join(root, 'ns', 'sub', 'file-link'));
      await storage.put('kestra:///ns/sub/own.txt', 'o');
      const deleted = await storage.deletePrefix('kestra:///ns');
      expect(deleted).toContain('kestra:///ns/sub/own.txt');
      expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('do not read');
      await expect(stat(path.join(root, 'ns'))).rejects.toThrow();
    });

    test('symlinks that stay inside the root work', async () => {
      await storage.put('kestra:///shared/data.csv', 'a,b');
      await mkdir(path.join(root, 'ns'), { recursive: true });
      await symlink(path.join(root, 'shared', 'data.csv'), path.join(root, 'ns', 'data.csv'));
      expect((await storage.readBuffer('kestra:///ns/data.csv')).toString()).toBe('a,b');
      expect(await storage.list('kestra:///ns')).toEqual(['kestra:///ns/data.csv']);
    });

    test('a root reached through a symlink is its own real directory', async () => {
      const linkedRoot = path.join(base, 'linked-root');
      await symlink(root, linkedRoot);
      const viaLink = new LocalDiskStorage(linkedRoot);
      await viaLink.put('kestra:///ns/x.txt', 'x');
      expect(await readFile(path.join(root, 'ns', 'x.txt'), 'utf8')).toBe('x');
      expect(await viaLink.list('kestra:///')).toEqual(['kestra:///ns/x.txt']);
    });
  });
});
