import { inspect } from 'node:util';
import * as git from 'isomorphic-git';
import { expect, test } from 'vitest';
import { GitSyncError, REASON_KINDS, Redactor, toGitSyncError } from './errors.ts';

const SECRET = 's3cr3t/p@ss';
const redactor = new Redactor([SECRET, `robot:${SECRET}`]);
const context = { displayUrl: 'https://git.example.test/repo.git', branch: 'main', redactor, remoteRef: 'refs/heads/main', timeoutMs: 1000 };

test('redact removes secrets in plain, percent-encoded and Basic-header form, and user-info of any URL', () => {
  const header = Buffer.from(`robot:${SECRET}`).toString('base64');
  const text = `GET https://robot:${encodeURIComponent(SECRET)}@git.example.test/repo.git failed; password ${SECRET}; Authorization: Basic ${header}; see http://other:pw@host/`;
  const redacted = redactor.redact(text);
  expect(redacted).toBe('GET https://git.example.test/repo.git failed; password ***; Authorization: Basic ***; see http://host/');
});

test('a redacted error copies name, code and status, redacts message, stack and the whole cause chain, and drops data', () => {
  const inner = Object.assign(new Error(`connect failed for https://robot:${SECRET}@host/`), { code: 'ECONNRESET' });
  const outer = Object.assign(new git.Errors.HttpError(401, 'Unauthorized', `denied for ${SECRET}`), { cause: inner });
  const copy = redactor.error(outer);
  expect(copy).not.toBe(outer);
  expect(copy.name).toBe('HttpError');
  expect(copy.code).toBe('HttpError');
  expect(copy.statusCode).toBe(401);
  expect(copy.message).toBe('HTTP Error: 401 Unauthorized: denied for ***');
  expect((copy.cause as Error).message).toBe('connect failed for https://host/');
  expect((copy.cause as { code?: string }).code).toBe('ECONNRESET');
  const shown = inspect(copy, { depth: 10, showHidden: true }) + JSON.stringify(copy);
  expect(shown).not.toContain(SECRET);
  expect(shown).not.toContain('data');
});

test.each([
  [new git.Errors.HttpError(401, 'Unauthorized', ''), 'auth-failed', 'authentication failed for https://git.example.test/repo.git (HTTP 401)'],
  [new git.Errors.HttpError(403, 'Forbidden', 'token lacks scope'), 'auth-failed', 'authentication failed for https://git.example.test/repo.git (HTTP 403)'],
  [new git.Errors.HttpError(404, 'Not Found', ''), 'repository-not-found', 'repository not found: https://git.example.test/repo.git (HTTP 404)'],
  [new git.Errors.HttpError(502, 'Bad Gateway', ''), 'server-error', 'git server error for https://git.example.test/repo.git (HTTP 502); will retry'],
  [new git.Errors.HttpError(429, 'Too Many Requests', ''), 'server-error', 'git server error for https://git.example.test/repo.git (HTTP 429); will retry'],
  [new git.Errors.HttpError(400, 'Bad Request', ''), 'invalid-url', 'git server refused https://git.example.test/repo.git (HTTP 400)'],
  [new git.Errors.NotFoundError('refs/heads/main'), 'branch-not-found', "branch 'main' not found in https://git.example.test/repo.git"],
  [new git.Errors.SmartHttpError('<html>', '<html>'), 'invalid-url', 'https://git.example.test/repo.git does not answer as a git smart-HTTP server'],
  [new git.Errors.UserCanceledError(), 'auth-failed', 'authentication failed for https://git.example.test/repo.git'],
  [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'network', 'cannot reach https://git.example.test/repo.git: connect ECONNREFUSED 127.0.0.1:1'],
  [Object.assign(new Error('getaddrinfo EAI_AGAIN host'), { code: 'EAI_AGAIN' }), 'network', 'cannot reach https://git.example.test/repo.git: getaddrinfo EAI_AGAIN host'],
  [Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }), 'timeout', 'fetching https://git.example.test/repo.git timed out after 1000 ms'],
  [Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), 'tls', 'TLS verification failed for https://git.example.test/repo.git: certificate has expired'],
  [Object.assign(new Error(`EACCES: permission denied, open '/data/${SECRET}'`), { code: 'EACCES' }), 'permission-denied', "permission denied while reading https://git.example.test/repo.git: EACCES: permission denied, open '/data/***'"],
  [new Error(`something odd with ${SECRET}`), 'internal', 'git operation on https://git.example.test/repo.git failed: something odd with ***'],
] as const)('maps %s to %s', (error, reason, message) => {
  const mapped = toGitSyncError(error, context);
  expect(mapped).toBeInstanceOf(GitSyncError);
  expect(mapped.reason).toBe(reason);
  expect(mapped.kind).toBe(REASON_KINDS[reason]);
  expect(mapped.message).toBe(message);
  expect(mapped.cause).not.toBe(error);
  expect(inspect(mapped, { depth: 10 })).not.toContain(SECRET);
});

test('a NotFoundError for anything but the requested branch is not "branch not found"', () => {
  expect(toGitSyncError(new git.Errors.NotFoundError('0123abcd'), context).reason).toBe('internal');
});

test('stalled means a person must act, transient means retry', () => {
  expect(Object.entries(REASON_KINDS).filter(([, kind]) => kind === 'stalled').map(([reason]) => reason)).toEqual([
    'auth-failed',
    'branch-not-found',
    'repository-not-found',
    'invalid-url',
    'invalid-branch',
    'tls',
    'permission-denied',
  ]);
  expect(new GitSyncError('network', 'x').kind).toBe('transient');
});
