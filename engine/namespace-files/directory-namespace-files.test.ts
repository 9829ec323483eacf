import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DirectoryNamespaceFiles, NamespaceFileError, type NamespaceFileErrorCode } from './directory-namespace-files.ts';

async function write(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

async function refusal(promise: Promise<unknown>): Promise<NamespaceFileError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof NamespaceFileError) return error;
    throw error;
  }
  throw new Error('expected a NamespaceFileError');
}

const HOSTILE_PATHS: ReadonlyArray<string> = [
  '../other.team/secret.sql',
  '/../../outside/secret.txt',
  'sql/../../other.team/secret.sql',
  './sql/query.sql',
  '..',
  '%2e%2e/other.team/secret.sql',
  '%2E%2E/%2E%2E/outside/secret.txt',
  'sql%2f..%2f..%2fother.team/secret.sql',
  '..%5c..%5coutside',
  'sql\\..\\..\\outside\\secret.txt',
  'C:/Windows/win.ini',
  'sql/query.sql\u0000.txt',
];

describe('DirectoryNamespaceFiles', () => {
  let base: string;
  let root: string;

  beforeEach(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'baton-nsfiles-'));
    root = path.join(base, 'files');
    await write(path.join(root, 'company.team', 'sql', 'query.sql'), 'select 1');
    await write(path.join(root, 'company.team', 'scripts', 'etl', 'main.py'), 'print(1)');
    await write(path.join(root, 'company.team', 'README.md'), '# team');
    await write(path.join(root, 'other.team', 'secret.sql'), 'other team only');
    await write(path.join(base, 'outside', 'secret.txt'), 'outside the root');
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  describe("per-namespace layout (root/<namespace>/<path>)", () => {
    let files: DirectoryNamespaceFiles;
    beforeEach(() => {
      files = new DirectoryNamespaceFiles({ root, layout: 'per-namespace' });
    });

    test('reads a file by a /-rooted or relative path', async () => {
      expect((await files.read('company.team', '/sql/query.sql')).toString()).toBe('select 1');
      expect((await files.read('company.team', 'sql/query.sql')).toString()).toBe('select 1');
      expect((await files.read('company.team', '//sql//query.sql')).toString()).toBe('select 1');
      expect((await files.read('other.team', '/secret.sql')).toString()).toBe('other team only');
    });

    test('lists sorted /-rooted paths of one namespace only', async () => {
      expect(await files.list('company.team')).toEqual(['/README.md', '/scripts/etl/main.py', '/sql/query.sql']);
      expect(await files.list('other.team')).toEqual(['/secret.sql']);
      expect(await files.list('nobody.here')).toEqual([]);
    });

    test('a missing file, a directory or an unknown namespace is NOT_FOUND', async () => {
      for (const [ns, p] of [['company.team', '/nope.sql'], ['company.team', '/sql'], ['company.team', '/'], ['nobody', '/a.sql'], ['company.team', '/README.md/x']]) {
        const error = await refusal(files.read(ns, p));
        expect(error.code).toBe('NOT_FOUND');
        expect(error.message).toContain(JSON.stringify(p));
      }
    });

    test.each(HOSTILE_PATHS)('path %j is TRAVERSAL', async (hostile) => {
      const error = await refusal(files.read('company.team', hostile));
      expect(error.code).toBe<NamespaceFileErrorCode>('TRAVERSAL');
    });

    test.each(['..', '../files', 'company/../other', '', '.hidden', 'a\\b', 'company.team/sql'])('namespace %j is TRAVERSAL', async (ns) => {
      expect((await refusal(files.read(ns, '/secret.sql'))).code).toBe('TRAVERSAL');
      expect((await refusal(files.list(ns))).code).toBe('TRAVERSAL');
    });

    test('symlinks escaping the root are refused and not listed', async () => {
      await symlink(path.join(base, 'outside', 'secret.txt'), path.join(root, 'company.team', 'leak.txt'));
      await symlink(path.join(base, 'outside'), path.join(root, 'company.team', 'leakdir'));
      expect((await refusal(files.read('company.team', '/leak.txt'))).code).toBe('TRAVERSAL');
      expect((await refusal(files.read('company.team', '/leakdir/secret.txt'))).code).toBe('TRAVERSAL');
      expect(await files.list('company.team')).toEqual(['/README.md', '/scripts/etl/main.py', '/sql/query.sql']);
    });

    test('a namespace directory that is a symlink out of the root is refused', async () => {
      await symlink(path.join(base, 'outside'), path.join(root, 'evil.team'));
      expect((await refusal(files.read('evil.team', '/secret.txt'))).code).toBe('TRAVERSAL');
      expect((await refusal(files.list('evil.team'))).code).toBe('TRAVERSAL');
    });

    test('symlinks inside the root are followed for files', async () => {
      await symlink(path.join(root, 'other.team', 'secret.sql'), path.join(root, 'company.team', 'shared.sql'));
      expect((await files.read('company.team', '/shared.sql')).toString()).toBe('other team only');
      expect(await files.list('company.team')).toContain('/shared.sql');
    });

    test('a root that does not exist has no files', async () => {
      const empty = new DirectoryNamespaceFiles({ root: path.join(base, 'absent'), layout: 'per-namespace' });
      expect(await empty.list('company.team')).toEqual([]);
      expect((await refusal(empty.read('company.team', '/a.sql'))).code).toBe('NOT_FOUND');
    });
  });

  describe('single-namespace directory (root/<path>)', () => {
    let files: DirectoryNamespaceFiles;
    beforeEach(() => {
      files = new DirectoryNamespaceFiles({ root: path.join(root, 'company.team'), namespace: 'company.team' });
    });

    test('reads and lists the files of its namespace', async () => {
      expect((await files.read('company.team', '/sql/query.sql')).toString()).toBe('select 1');
      expect(await files.list('company.team')).toEqual(['/README.md', '/scripts/etl/main.py', '/sql/query.sql']);
    });

    test('other namespaces have no files here', async () => {
      expect(await files.list('other.team')).toEqual([]);
      expect((await refusal(files.read('other.team', '/sql/query.sql'))).code).toBe('NOT_FOUND');
    });

    test.each(HOSTILE_PATHS)('path %j is TRAVERSAL, even for another namespace', async (hostile) => {
      expect((await refusal(files.read('company.team', hostile))).code).toBe('TRAVERSAL');
      expect((await refusal(files.read('other.team', hostile))).code).toBe('TRAVERSAL');
    });

    test('a sibling directory is out of reach through a symlink', async () => {
      await symlink(path.join(root, 'other.team'), path.join(root, 'company.team', 'sibling'));
      expect((await refusal(files.read('company.team', '/sibling/secret.sql'))).code).toBe('TRAVERSAL');
    });
  });
});
