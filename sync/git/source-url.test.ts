import { expect, test } from 'vitest';
import { parseSourceUrl, stripCredentials } from './source-url.ts';

test.each([
  ['https://user:pass@github.com/org/repo.git', 'https://github.com/org/repo.git'],
  ['https://ghp_abcdef1234567890@github.com/org/repo.git', 'https://github.com/org/repo.git'],
  ['https://x-access-token:tok3n@git.example.test:8443/org/repo.git', 'https://git.example.test:8443/org/repo.git'],
  ['https://oauth2:glpat-xyz@gitlab.example.test/group/sub/repo.git', 'https://gitlab.example.test/group/sub/repo.git'],
  ['http://user:pass@[::1]:8080/repo.git', 'http://[::1]:8080/repo.git'],
  ['http://[2001:db8::1]/repo.git', 'http://[2001:db8::1]/repo.git'],
  ['http://127.0.0.1:9418/repo.git', 'http://127.0.0.1:9418/repo.git'],
  ['https://git.example.test/repo.git?private_token=abc&x=1#main', 'https://git.example.test/repo.git'],
  ['https://u:p%40ss%3Aword@host.example.test/repo', 'https://host.example.test/repo'],
  // Not a valid URL (unencoded '/' and '#' in the password): everything before the last '@' goes.
  ['https://u:pa/ss@host.example.test/repo.git', 'https://host.example.test/repo.git'],
  ['https://u:p#ss@host.example.test/repo.git', 'https://host.example.test/repo.git'],
  ['HTTPS://User:Pw@Host.Example.test/Repo.git', 'https://host.example.test/Repo.git'],
  ['file:///srv/git/flows.git', 'file:///srv/git/flows.git'],
  ['/srv/git/flows', '/srv/git/flows'],
  ['../flows', '../flows'],
  ['git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
])('stripCredentials(%s) is %s', (url, expected) => {
  expect(stripCredentials(url)).toBe(expected);
});

test('credentials in the URL are decoded and used; the display URL has none', () => {
  const location = parseSourceUrl('https://robot:p%40ss%3Aword@git.example.test/repo.git', undefined);
  expect(location).toMatchObject({
    transport: 'http',
    fetchUrl: 'https://git.example.test/repo.git',
    displayUrl: 'https://git.example.test/repo.git',
    credentials: { username: 'robot', password: 'p@ss:word' },
  });
  // Both spellings of the password are redacted wherever they show up.
  expect(location.secrets).toEqual(expect.arrayContaining(['p@ss:word', 'p%40ss%3Aword', 'robot:p@ss:word']));
});

test('explicit auth wins over the URL; a token alone goes as x-access-token, with a user name as that user', () => {
  expect(parseSourceUrl('https://a:b@host.test/r.git', { username: 'c', password: 'd' })).toMatchObject({ credentials: { username: 'c', password: 'd' } });
  expect(parseSourceUrl('https://host.test/r.git', { token: 't0k' })).toMatchObject({ credentials: { username: 'x-access-token', password: 't0k' } });
  expect(parseSourceUrl('https://host.test/r.git', { token: 't0k', username: 'oauth2' })).toMatchObject({ credentials: { username: 'oauth2', password: 't0k' } });
  expect(parseSourceUrl('https://host.test/r.git', undefined)).toMatchObject({ credentials: undefined, secrets: [] });
});

test('a token as the only user-info is a secret; a short user name such as "git" is not', () => {
  const token = parseSourceUrl('https://ghp_abcdef1234567890@github.com/org/repo.git', undefined);
  expect(token).toMatchObject({ credentials: { username: 'ghp_abcdef1234567890', password: '' } });
  expect(token.secrets).toContain('ghp_abcdef1234567890');
  expect(parseSourceUrl('https://git@github.com/org/repo.git', undefined).secrets).not.toContain('git');
});

test('transports: http(s), file URLs and paths are local, everything else is unsupported', () => {
  expect(parseSourceUrl('file:///srv/git/flows.git', undefined)).toMatchObject({ transport: 'local', path: '/srv/git/flows.git' });
  expect(parseSourceUrl('flows-repo', undefined, '/srv')).toMatchObject({ transport: 'local', path: '/srv/flows-repo', displayUrl: '/srv/flows-repo' });
  expect(parseSourceUrl('/abs/repo', undefined, '/srv')).toMatchObject({ transport: 'local', path: '/abs/repo' });
  for (const url of ['ssh://git@host/r.git', 'git://host/r.git', 'git@github.com:org/repo.git', 'https://host/r.git?token=1', 'https://host/r.git#main', 'file://remote-host/srv/r.git']) {
    expect(parseSourceUrl(url, undefined)).toMatchObject({ transport: 'unsupported' });
  }
});
