/**
 * PostgreSQL restarted in the middle of an execution: the standalone process rides it out (writes are
 * retried, the lease is renewed once the database is back) and the execution ends SUCCESS, its task run
 * run once.
 */
import { chmod, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Execution } from '../../engine/index.ts';
import { createRepo, gitService, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';
import { privatePostgresService, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';
import { processTest as it, startBaton, type BatonProcess } from '../support/processes.ts';

const FLOW = `id: through_restart
namespace: tests.restart
tasks:
  - id: before
    type: io.kestra.plugin.core.debug.Return
    format: before
  - id: work
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - echo attempt >> "{{ envs.marks }}/{{ execution.id }}"
      - sleep 4
      - echo finished
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: after
`;

privatePostgresService.describe('PostgreSQL restarted during a run', () => {
  gitService.describe('(with git)', () => {
    let pg: PrivatePostgres;
    let git: GitServer;
    let repo: TestRepo;
    let baton: BatonProcess | undefined;
    let marks: string;

    beforeAll(async () => {
      pg = await startPrivatePostgres();
      git = await startGitServer();
      repo = await createRepo(git, 'restart', { 'flows/through_restart.yaml': FLOW });
      marks = await mkdtemp(join(tmpdir(), 'baton-restart-marks-'));
      // Written by the task's command, which runs as the unprivileged task user.
      await chmod(marks, 0o1777);
    });
    afterAll(async () => {
      await baton?.kill('SIGKILL');
      await git?.close();
      await pg?.stop();
    });

    it('the execution ends SUCCESS and its task ran once', async () => {
      baton = await startBaton('standalone', {
        DATABASE_URL: pg.url, BATON_GIT_URL: repo.url, BATON_GIT_BRANCH: 'main', BATON_SYNC_POLL_SECONDS: '0', BATON_API_TOKEN: '',
        BATON_ADMIN_USER: '', BATON_ADMIN_PASSWORD: '', BATON_LEASE_SECONDS: '10', KESTRA_MARKS: marks, BATON_SCHEDULER: 'off',
      });
      const base = baton.url;
      const get = async (id: string) => (await (await fetch(`${base}/api/v1/executions/${id}`)).json()) as Execution;
      const created = (await (await fetch(`${base}/api/v1/executions/tests.restart/through_restart`, { method: 'POST' })).json()) as Execution;
      for (let i = 0; i < 300; i++) {
        const e = await get(created.id).catch(() => undefined);
        if (e?.taskRunList?.find((t) => t.taskId === 'work')?.state.current === 'RUNNING') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const restartedAt = Date.now();
      await pg.restart();
      console.log(`# PostgreSQL restarted in ${Date.now() - restartedAt} ms during task 'work'`);
      let end: Execution | undefined;
      for (let i = 0; i < 600 && !['SUCCESS', 'FAILED', 'KILLED'].includes(end?.state?.current ?? ''); i++) {
        await new Promise((r) => setTimeout(r, 100));
        end = await get(created.id).catch(() => undefined);
      }
      expect(end?.state?.current, `${JSON.stringify(end)}\n${baton.output()}`).toBe('SUCCESS');
      expect(end!.taskRunList.map((t) => `${t.taskId}:${t.state.current}`)).toEqual(['before:SUCCESS', 'work:SUCCESS', 'after:SUCCESS']);
      expect((await readFile(join(marks, created.id), 'utf8')).trim().split('\n')).toEqual(['attempt']);
    });
  });
});
