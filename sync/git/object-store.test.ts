import { expect, test } from 'vitest';
import { branchNameProblem } from './git-source.ts';
import { LruCache } from './lru-cache.ts';
import { normalizeFolders } from './object-store.ts';

test('normalizeFolders trims slashes and dots, dedupes, and refuses to climb out', () => {
  expect(normalizeFolders(['flows/', './files', '/flows', 'a//b', '.', ''])).toEqual(['flows', 'files', 'a/b', '']);
  expect(() => normalizeFolders(['flows/../../etc'])).toThrow(RangeError);
});

test('branch names follow git check-ref-format', () => {
  for (const name of ['main', 'feature/x', 'release-1.2', 'user@work']) expect(branchNameProblem(name)).toBeNull();
  for (const name of ['', '../../config', 'a..b', 'a b', 'a:b', 'x.lock', '.hidden', 'a/', '/a', 'a//b', 'a.', '-x', '@', 'a@{1}', 'a\\b']) {
    expect(branchNameProblem(name), name).not.toBeNull();
  }
});

test('LruCache evicts the least recently used entries beyond its weight and skips oversized values', () => {
  const cache = new LruCache<string, string>(80, (value) => value.length);
  cache.set('a', 'x'.repeat(10));
  cache.set('b', 'x'.repeat(10));
  cache.set('c', 'x'.repeat(10));
  expect(cache.get('a')).toBeDefined(); // a is now the most recent
  for (let i = 0; i < 7; i++) cache.set(`n${i}`, 'x'.repeat(10));
  expect(cache.weight).toBe(80);
  expect(cache.get('b')).toBeUndefined();
  expect(cache.get('c')).toBeUndefined();
  expect(cache.get('a')).toBeDefined();
  cache.set('huge', 'x'.repeat(11)); // more than an eighth of the cache
  expect(cache.get('huge')).toBeUndefined();
  cache.set('a', 'y');
  expect(cache.get('a')).toBe('y');
  expect(cache.weight).toBe(71);
});
