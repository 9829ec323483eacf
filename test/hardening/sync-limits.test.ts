/**
 * Issue #12, sync: a commit holding a flow over a size limit (bytes, tasks, alias bomb) is refused like
 * any invalid commit — every problem at its file and line, the last good commit stays live — with the
 * limits given to createSyncer; symbolic links and submodules the sync leaves out are named as warnings
 * on the sync status instead of vanishing silently. Real git over HTTP, both databases.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../config/index.ts';
import type { Db } from '../../db/index.ts';
import { createSyncer, FlowStore, loadSyncStatus, syncConfigFromEnv, type Syncer } from '../../sync/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createRepo, runGit, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';

const LOG = 'io.kestra.plugin.core.log.Log';

const flowYaml = (id: string, message: string) =>
  `id: ${id}\nnamespace: company.team\ntasks:\n  - id: hello\n    type: ${LOG}\n    message: "${message}"\n`;

function manyTasks(id: string, n: number): string {
  const tasks = Array.from({ length: n }, (_, i) => `  - id: t${i}\n    type: ${LOG}\n    message: hi\n`);
  return `id: ${id}\nnamespace: company.team\ntasks:\n${tasks.join('')}`;
}

describeEachDatabase('sync within the flow limits', (open) => {
  let server: GitServer;
  let repo: TestRepo;
  let db: Db;
  let syncer: Syncer;
  let dataDir: string;
  let env: Record<string, string>;
  const live = async (id: string) => (await new FlowStore(db).getFlow('company.team', id)).source;

  beforeAll(async () => {
    ({ db } = await open());
    server = await startGitServer();
    repo = await createRepo(server, 'limits', { 'flows/hello.yaml': flowYaml('hello', 'v1'), 'README.md': 'flows\n' });
    env = { BATON_GIT_URL: repo.url, BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0' };
    dataDir = await mkdtemp(join(tmpdir(), 'baton-sync-limits-'));
    syncer = await createSyncer({ db, config: syncConfigFromEnv(env), dataDir, env });
    expect((await syncer.request('test')).result).toBe('APPLIED');
  });

  afterAll(async () => {
    await syncer?.stop();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a commit with a flow file over flowFileBytes, by its size; the last good commit stays live', async () => {
    // A valid flow in every other way: only its size refuses it.
    const big = flowYaml('big', 'x'.repeat(DEFAULT_LIMITS.flowFileBytes));
    const sha = await repo.commit({ 'flows/big.yaml': big, 'flows/hello.yaml': flowYaml('hello', 'v2') }, 'a huge flow');
    const outcome = await syncer.request('test');
    expect(outcome.result).toBe('REFUSED');
    expect(outcome.commit?.sha).toBe(sha);
    expect(outcome.errors).toEqual([{
      path: 'flows/big.yaml',
      line: 1,
      column: 1,
      message: `flow file is ${Buffer.byteLength(big)} bytes: exceeds the limit of ${DEFAULT_LIMITS.flowFileBytes} bytes (raise it with BATON_LIMIT_FLOW_FILE_BYTES)`,
    }]);
    expect(await live('hello')).toBe(flowYaml('hello', 'v1'));
    const status = await loadSyncStatus(db);
    expect(status).toMatchObject({ state: 'REFUSED', errors: outcome.errors, lastAttempt: { sha } });
    await repo.commit({ 'flows/big.yaml': null }, 'no huge flow');
  });

  it('refuses a flow over flowTasks and an alias bomb, each at its file; a flow of exactly flowTasks tasks is fine', async () => {
    const bomb = ['id: bomb', 'namespace: company.team', 'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((name, i) => `${name}: &${name} [${Array.from({ length: 10 }, () => `*${'abcdefgh'[i]}`).join(', ')}]`),
      `tasks:\n  - id: t\n    type: ${LOG}\n    message: hi`].join('\n');
    await repo.commit({
      'flows/too-many.yaml': manyTasks('too-many', DEFAULT_LIMITS.flowTasks + 1),
      'flows/just-enough.yaml': manyTasks('just-enough', DEFAULT_LIMITS.flowTasks),
      'flows/bomb.yaml': bomb,
    }, 'large flows');
    const outcome = await syncer.request('test');
    expect(outcome.result).toBe('REFUSED');
    expect(outcome.errors).toEqual([
      { path: 'flows/bomb.yaml', line: 4, column: 8, message: expect.stringMatching(/^the YAML aliases \(\*name\) expand to too many copies .*alias bomb/) },
      { path: 'flows/too-many.yaml', line: 1, column: 1, message: 'flow has 1001 tasks: exceeds the limit of 1000 (raise it with BATON_LIMIT_FLOW_TASKS)' },
    ]);
    expect(await live('hello')).toBe(flowYaml('hello', 'v1'));
  });

  it('applies the limits createSyncer is given', async () => {
    await repo.commit({ 'flows/bomb.yaml': null }, 'no bomb');
    const raised = await createSyncer({
      db, config: syncConfigFromEnv(env), dataDir: join(dataDir, 'raised'), env, limits: { ...DEFAULT_LIMITS, flowTasks: 2_000 },
    });
    try {
      const outcome = await raised.request('test');
      expect(outcome.errors).toEqual([]);
      expect(outcome.result).toBe('APPLIED');
      expect(await live('too-many')).toBe(manyTasks('too-many', 1_001));
    } finally {
      await raised.stop();
    }
    // And from BATON_LIMIT_* when none are given.
    await repo.commit({ 'flows/hello.yaml': flowYaml('hello', 'v3') }, 'v3');
    const fromEnv = await createSyncer({
      db, config: syncConfigFromEnv(env), dataDir: join(dataDir, 'env'), env: { ...env, BATON_LIMIT_FLOW_TASKS: '999' },
    });
    try {
      expect((await fromEnv.request('test')).errors.map((e) => e.path)).toEqual(['flows/just-enough.yaml', 'flows/too-many.yaml']);
    } finally {
      await fromEnv.stop();
    }
    await repo.commit({ 'flows/too-many.yaml': null, 'flows/just-enough.yaml': null }, 'smaller');
    expect((await syncer.request('test')).result).toBe('APPLIED');
    expect(await live('hello')).toBe(flowYaml('hello', 'v3'));
  });

  it('names symbolic links and submodules under flows/ and files/ as warnings on the sync status', async () => {
    await mkdir(join(repo.workDir, 'files', 'company.team'), { recursive: true });
    await mkdir(join(repo.workDir, 'docs'), { recursive: true });
    await symlink('/etc/passwd', join(repo.workDir, 'flows', 'passwd.yaml'));
    await symlink('../../README.md', join(repo.workDir, 'files', 'company.team', 'readme.md'));
    await symlink('../README.md', join(repo.workDir, 'docs', 'readme.md')); // outside both folders: not Baton's business
    const vendored = join(repo.workDir, 'flows', 'vendored');
    await mkdir(vendored);
    await runGit(vendored, ['init', '--quiet']);
    await runGit(vendored, ['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--quiet', '--allow-empty', '-m', 'inner']);
    await repo.commit({ 'files/company.team/data.csv': 'a,b\n' }, 'links');

    const outcome = await syncer.request('test');
    expect(outcome.result).toBe('APPLIED');
    const expected = [
      { path: 'files/company.team/readme.md', line: 0, column: 0, message: 'symbolic link not synced: its target could lie outside the repository; commit the file itself' },
      { path: 'flows/passwd.yaml', line: 0, column: 0, message: 'symbolic link not synced: its target could lie outside the repository; commit the file itself' },
      { path: 'flows/vendored', line: 0, column: 0, message: 'submodule not synced: its files live in another repository; commit them here' },
    ];
    expect(outcome.warnings).toEqual(expected);
    expect((await loadSyncStatus(db))?.warnings).toEqual(expected);
    // The same head again changes nothing, and keeps the warnings.
    expect((await syncer.request('test')).result).toBe('UNCHANGED');
    expect((await loadSyncStatus(db))?.warnings).toEqual(expected);

    await rm(join(repo.workDir, 'flows', 'passwd.yaml'));
    await rm(join(repo.workDir, 'files', 'company.team', 'readme.md'));
    await runGit(repo.workDir, ['rm', '--quiet', '--cached', 'flows/vendored']);
    await rm(vendored, { recursive: true, force: true });
    await repo.commit({}, 'no links');
    expect((await syncer.request('test')).warnings).toEqual([]);
    expect((await loadSyncStatus(db))?.warnings).toEqual([]);
  });
});
