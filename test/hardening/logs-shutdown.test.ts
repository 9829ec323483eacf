/**
 * Issue #12: a task's last lines are not lost with the process that ran it. A real `baton worker` is
 * stopped (SIGTERM) while a task runs: past its grace period the execution is handed back and the task's
 * command is stopped; what the command printed until it ended, a last line without newline included, is
 * in the database once the worker has exited. (It came after the run was given up, into the write-behind
 * buffer, and was lost with it when the database closed, or with the command when the worker exited.)
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Execution } from '../../engine/index.ts';
import { createTestPostgresDatabase, postgresService, type TestPostgresDatabase } from '../support/databases.ts';
import { createRepo, gitService, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';
import { processTest as it, startBaton, type BatonProcess } from '../support/processes.ts';

const TALKING = `id: talking
namespace: hardening.shutdown
tasks:
  - id: talk
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      # SIGTERM is answered a second later, so the last line comes well after the run is handed back.
      - trap 'sleep 1; printf "said on the way out"; exit 1' TERM
      - for i in $(seq 1 20); do echo "line $i"; done
      - printf 'last words'
      - echo started >&2
      - sleep 60 & wait
`;

const describeProcesses = (name: string, factory: () => void) =>
  postgresService.describe(name, () => gitService.describe('(with git)', factory));

describeProcesses('log lines on shutdown (real processes) [postgres]', () => {
  let pg: TestPostgresDatabase;
  let git: GitServer;
  let repo: TestRepo;
  const processes: BatonProcess[] = [];

  beforeAll(async () => {
    pg = await createTestPostgresDatabase();
    git = await startGitServer();
    repo = await createRepo(git, 'logs-shutdown', { 'flows/talking.yaml': TALKING });
  });

  afterEach(async () => {
    for (const p of processes.splice(0)) await p.kill('SIGKILL');
  });

  afterAll(async () => {
    await git?.close();
    await pg?.drop();
  });

  it('a worker stopped while a task runs keeps every line the task printed, its last one included', async () => {
    const env = {
      DATABASE_URL: pg.url,
      BATON_GIT_URL: repo.url,
      BATON_GIT_BRANCH: 'main',
      BATON_SYNC_POLL_SECONDS: '0',
      BATON_API_TOKEN: '',
      BATON_ADMIN_USER: '',
      BATON_ADMIN_PASSWORD: '',
      BATON_SCHEDULER: 'off',
      BATON_SHUTDOWN_GRACE_SECONDS: '1',
    };
    const server = await startBaton('server', env);
    processes.push(server);
    const worker = await startBaton('worker', env);
    processes.push(worker);
    const created = (await (await fetch(`${server.url}/api/v1/executions/hardening.shutdown/talking`, { method: 'POST' })).json()) as Execution;
    const logsOf = async () => ((await (await fetch(`${server.url}/api/v1/logs/${created.id}?taskId=talk`)).json()) as { message: string }[]).map((l) => l.message);
    // 'started' is on stderr, printed after the partial line on stdout: once it is seen, both were printed.
    const deadline = Date.now() + 60_000;
    while (!(await logsOf()).includes('started')) {
      if (Date.now() > deadline) throw new Error(`the task never started\n${server.output()}\n${worker.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await worker.kill('SIGTERM'), worker.output()).toBe(0);
    expect(worker.output()).toMatch(/handed back/);

    const messages = await logsOf();
    expect(messages.filter((m) => m.startsWith('line '))).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 1}`));
    // The partial line and what the trap added to it make one last line, ended by the command's end.
    expect(messages, `${messages.join('\n')}\n${worker.output()}`).toContain('last wordssaid on the way out');
  });
});
