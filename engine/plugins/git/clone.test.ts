/**
 * git.Clone against the real smart-HTTP git server of test/support/git-server.ts (git http-backend on
 * 127.0.0.1), with and without basic auth, alone and inside a WorkingDirectory shared with a script.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../index.ts';
import { formatProblem, validateFlowSource } from '../../flow/index.ts';
import { createTempDirTaskContext, type TempDirTaskContext } from '../../scripts/temp-dir-task-context.ts';
import { TaskFailure } from '../types.ts';
import { createRepo, gitService, runGit, startGitServer, type GitServer, type TestRepo } from '../../../test/support/git-server.ts';
import { describeEachDatabase } from '../../../test/support/databases.ts';
import { gitClone, parseGitmodules } from './clone.ts';

const USER = 'robot';
const PASSWORD = 'pa55-w0rd-t0k3n';

const open: Array<TempDirTaskContext<unknown>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.cleanup()));
});

async function clone(props: Record<string, unknown>) {
  const t = await createTempDirTaskContext<any>(props);
  open.push(t);
  const result = await gitClone.run(t.ctx);
  return { outputs: result!.outputs as { directory: string }, t, workingDir: await t.ctx.workingDirectory() };
}

async function failure(props: Record<string, unknown>) {
  const t = await createTempDirTaskContext<any>(props);
  open.push(t);
  const error = await gitClone.run(t.ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TaskFailure);
  return { error: error as TaskFailure, t };
}

const isFile = (path: string) => stat(path).then((s) => s.isFile(), () => false);

gitService.describe('git.Clone', () => {
  let server: GitServer;
  let secured: GitServer;
  let repo: TestRepo;
  let firstCommit: string;
  beforeAll(async () => {
    server = await startGitServer();
    secured = await startGitServer({ auth: { username: USER, password: PASSWORD } });
    repo = await createRepo(server, 'dbt-project', { 'dbt_project.yml': "name: 'zoomcamp'\n", 'models/a.sql': 'select 1\n' });
    firstCommit = await repo.head();
    await repo.commit({ 'models/b.sql': 'select 2\n' }, 'second model');
    await repo.commit({ 'feature.txt': 'on dev\n' }, 'dev work', { branch: 'dev' });
    await runGit(repo.workDir, ['tag', 'v1', firstCommit]);
    await runGit(repo.workDir, ['push', '--quiet', 'origin', 'v1']);
    await createRepo(secured, 'private', { 'secret.txt': 'hidden\n' });
  });
  afterAll(async () => {
    await server?.close();
    await secured?.close();
  });

  it('clones the default branch shallow into the working directory and outputs it', async () => {
    const { outputs, workingDir, t } = await clone({ url: repo.url, branch: 'main' });
    expect(outputs.directory).toBe(workingDir);
    expect(await readFile(join(workingDir, 'models/b.sql'), 'utf8')).toBe('select 2\n');
    expect(await runGit(workingDir, ['rev-parse', 'HEAD'])).toBe(await repo.head('main'));
    // depth 1 by default, as Kestra.
    expect(await readFile(join(workingDir, '.git/shallow'), 'utf8')).toContain(await repo.head('main'));
    expect(await runGit(workingDir, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(t.logs.map((l) => l.message)).toContain(`Start cloning from '${repo.url}'`);
  });

  it('clones another branch, into a sub-directory, with a deeper history', async () => {
    const { outputs, workingDir } = await clone({ url: repo.url, branch: 'dev', directory: 'checkout/dbt', depth: 5 });
    expect(outputs.directory).toBe(join(workingDir, 'checkout/dbt'));
    expect(await readFile(join(outputs.directory, 'feature.txt'), 'utf8')).toBe('on dev\n');
    expect(await runGit(outputs.directory, ['rev-list', '--count', 'HEAD'])).toBe('3');
  });

  it('checks out a commit or a tag', async () => {
    const atCommit = await clone({ url: repo.url, commit: firstCommit });
    expect(await runGit(atCommit.workingDir, ['rev-parse', 'HEAD'])).toBe(firstCommit);
    expect(await isFile(join(atCommit.workingDir, 'models/b.sql'))).toBe(false);

    const atTag = await clone({ url: repo.url, tag: 'v1' });
    expect(await runGit(atTag.workingDir, ['rev-parse', 'HEAD'])).toBe(firstCommit);
  });

  it('authenticates with username and password, which never reach the disk or the logs', async () => {
    const { workingDir, t } = await clone({ url: `${secured.url}/private.git`, username: USER, password: PASSWORD });
    expect(await readFile(join(workingDir, 'secret.txt'), 'utf8')).toBe('hidden\n');
    expect(await readFile(join(workingDir, '.git/config'), 'utf8')).not.toContain(PASSWORD);
    expect(t.secrets).toContain(PASSWORD);
    expect(JSON.stringify(t.logs)).not.toContain(PASSWORD);
  });

  it('takes credentials from the URL and strips them everywhere', async () => {
    const { workingDir, t } = await clone({ url: `${secured.url.replace('http://', `http://${USER}:${PASSWORD}@`)}/private.git` });
    expect(await isFile(join(workingDir, 'secret.txt'))).toBe(true);
    expect(await readFile(join(workingDir, '.git/config'), 'utf8')).not.toContain(PASSWORD);
    expect(JSON.stringify(t.logs)).not.toContain(PASSWORD);
  });

  it('a wrong password fails with an authentication message free of credentials', async () => {
    const wrong = 'wr0ng-s3cr3t-value';
    const { error, t } = await failure({ url: `${secured.url.replace('http://', `http://${USER}:${wrong}@`)}/private.git` });
    expect(error.message).toMatch(/^authentication failed for http:\/\/127\.0\.0\.1:\d+\/private\.git \(HTTP 401\)/);
    expect(`${error.message} ${(error.cause as Error).message} ${JSON.stringify(t.logs)}`).not.toContain(wrong);
  });

  it('names a missing branch, a missing repository and an unreachable server', async () => {
    expect((await failure({ url: repo.url, branch: 'nope' })).error.message).toContain("'nope' not found in");
    expect((await failure({ url: `${server.url}/missing.git` })).error.message).toMatch(/repository not found: .*missing\.git \(HTTP 404\)/);
    const down = await startGitServer();
    const url = `${down.url}/gone.git`;
    await down.close();
    expect((await failure({ url })).error.message).toContain(`cannot reach ${url}`);
  });

  it('refuses SSH, other schemes, paths outside the working directory and a second clone into one repository', async () => {
    expect((await failure({ url: 'git@github.com:kestra-io/kestra.git' })).error.message).toMatch(/SSH remotes are not supported/);
    expect((await failure({ url: repo.url, privateKey: 'KEY' })).error.message).toMatch(/^privateKey: SSH remotes are not supported/);
    expect((await failure({ url: 'file:///etc' })).error.message).toMatch(/only http\(s\) remotes/);
    expect((await failure({ url: repo.url, directory: '../outside' })).error.message).toMatch(/^directory: /);

    const t = await createTempDirTaskContext<any>({ url: repo.url });
    open.push(t);
    await gitClone.run(t.ctx);
    await expect(gitClone.run(t.ctx)).rejects.toThrow(/already holds a Git repository/);
  });

  it('applies gitConfig after the clone', async () => {
    const { workingDir } = await clone({ url: repo.url, gitConfig: { 'core.fileMode': false, 'user.name': 'Baton' } });
    expect(await runGit(workingDir, ['config', '--get', 'core.filemode'])).toBe('false');
    expect(await runGit(workingDir, ['config', '--get', 'user.name'])).toBe('Baton');
  });

  it('clones submodules at their recorded commit when asked', async () => {
    const lib = await createRepo(server, 'macros', { 'macros/m.sql': '{% macro m() %}1{% endmacro %}\n' });
    const parent = await createRepo(server, 'with-submodule', { 'README.md': 'parent\n' });
    await runGit(parent.workDir, ['-c', 'protocol.file.allow=always', 'submodule', '--quiet', 'add', '../macros.git', 'packages/macros']);
    await parent.commit({}, 'add submodule');
    const pinned = await lib.head();
    await lib.commit({ 'macros/m.sql': 'changed later\n' }, 'after the pin');

    const without = await clone({ url: parent.url });
    expect(await isFile(join(without.workingDir, 'packages/macros/macros/m.sql'))).toBe(false);

    const { workingDir } = await clone({ url: parent.url, cloneSubmodules: true });
    expect(await readFile(join(workingDir, 'packages/macros/macros/m.sql'), 'utf8')).toBe('{% macro m() %}1{% endmacro %}\n');
    expect(await runGit(join(workingDir, 'packages/macros'), ['rev-parse', 'HEAD'])).toBe(pinned);
  });

  it('parseGitmodules reads path and url of each section', () => {
    expect(parseGitmodules('[submodule "a"]\n\tpath = libs/a\n\turl = ../a.git\n[submodule "b"]\n\turl = https://x/b\n')).toEqual([
      { path: 'libs/a', url: '../a.git' },
    ]);
  });
});

gitService.describe('git.Clone in a WorkingDirectory', () => {
  describeEachDatabase('clone then script', (openDb) => {
    let server: GitServer;
    let engine: Engine;
    let dataDir: string;
    beforeAll(async () => {
      server = await startGitServer();
      await createRepo(server, 'scripts', { 'scripts/hello.sh': 'echo "hello from the clone"\n' });
      const { db } = await openDb();
      dataDir = await mkdtemp(join(tmpdir(), 'baton-clone-'));
      engine = createEngine({ db, dataDir, env: {} });
    });
    afterAll(async () => {
      await server?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('later tasks of the WorkingDirectory see the cloned files', async () => {
      const source = `
id: clone_and_run
namespace: zoomcamp
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: clone
        type: io.kestra.plugin.git.Clone
        url: ${server.url}/scripts.git
        branch: main
      - id: run
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner:
          type: io.kestra.plugin.core.runner.Process
        commands:
          - sh scripts/hello.sh
`;
      const { flow, problems } = validateFlowSource(source, 'clone.yaml');
      expect(problems.map(formatProblem)).toEqual([]);
      const logs: Array<{ taskId?: string | null; message: string }> = [];
      const stop = engine.onLog((l) => logs.push(l));
      const execution = await engine.execute({ flow: flow!, inputs: {} });
      await engine.idle();
      stop();
      expect(execution.state.current).toBe('SUCCESS');
      const cloned = execution.taskRunList.find((t) => t.taskId === 'clone');
      expect(typeof cloned?.outputs?.directory).toBe('string');
      expect(logs.some((l) => l.taskId === 'run' && l.message === 'hello from the clone')).toBe(true);
    });
  });
});
