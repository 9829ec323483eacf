/**
 * Fault tests with real processes on one PostgreSQL: kill -9 of a worker mid-task, kill -9 of a
 * standalone mid-execution, a server killed right after accepting webhooks, a burst of 200 flow-webhook
 * executions on 2 workers, a burst of 1,000 push deliveries (and one delivered twice). Each asserts:
 * nothing lost, nothing run again after it ended, no 5xx, final states right; figures are printed.
 */
import { chmod, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Execution } from '../../engine/index.ts';
import { createTestPostgresDatabase, postgresService, type TestPostgresDatabase } from '../support/databases.ts';
import { createRepo, gitService, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';
import { processTest as it, startBaton, type BatonProcess } from '../support/processes.ts';
import { isRunning } from '../support/pids.ts';

const SLOW = `id: slow
namespace: tests.faults
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: start
  - id: work
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - echo $$ >> "{{ envs.marks }}/{{ execution.id }}.pids"
      - echo attempt >> "{{ envs.marks }}/{{ execution.id }}"
      - sleep 6
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: done
`;

const QUICK = `id: quick
namespace: tests.faults
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.body.n }}"
  - id: second
    type: io.kestra.plugin.core.log.Log
    message: "n={{ outputs.first.value }}"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: fault-key
`;

const TICKING = `id: ticking
namespace: tests.faults
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.date }}"
triggers:
  - id: every_second
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "* * * * * *"
    withSeconds: true
    recoverMissedSchedules: NONE
`;

const TERMINAL = new Set(['SUCCESS', 'WARNING', 'FAILED', 'KILLED', 'CANCELLED']);

const describeFaults = (name: string, factory: () => void) =>
  postgresService.describe(name, () => gitService.describe('(with git)', factory));

describeFaults('faults and load across processes [postgres]', () => {
  let pg: TestPostgresDatabase;
  let git: GitServer;
  let repo: TestRepo;
  let marks: string;
  const processes: BatonProcess[] = [];
  let env: Record<string, string>;

  const start = async (role: 'standalone' | 'server' | 'scheduler' | 'worker', extra: Record<string, string> = {}) => {
    const p = await startBaton(role, { ...env, ...extra });
    processes.push(p);
    return p;
  };
  const execution = async (base: string, id: string): Promise<Execution> => (await (await fetch(`${base}/api/v1/executions/${id}`)).json()) as Execution;
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${processes.map((p) => p.output()).join('\n---\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const taskRunning = (base: string, id: string, taskId: string) =>
    until(`${taskId} running`, async () => ((await execution(base, id)).taskRunList?.find((t) => t.taskId === taskId)?.state.current === 'RUNNING' ? true : undefined));
  const terminal = (base: string, id: string, timeoutMs?: number) =>
    until(`execution ${id} to end`, async () => {
      const e = await execution(base, id);
      return TERMINAL.has(e.state?.current) ? e : undefined;
    }, timeoutMs);
  const attemptsOf = (e: Execution, taskId: string) => e.taskRunList.find((t) => t.taskId === taskId)?.attempts.map((a) => a.state.current);
  const marksOf = async (id: string) => (await readFile(join(marks, id), 'utf8')).trim().split('\n').length;
  /** The task is RUNNING and its command has started (its mark is written): a kill now interrupts it. */
  const commandStarted = async (base: string, id: string) => {
    await taskRunning(base, id, 'work');
    await until('the command to start', async () => ((await marksOf(id).catch(() => 0)) >= 1 ? true : undefined));
  };

  beforeAll(async () => {
    pg = await createTestPostgresDatabase();
    git = await startGitServer();
    repo = await createRepo(git, 'faults', { 'flows/slow.yaml': SLOW, 'flows/quick.yaml': QUICK });
    marks = await mkdtemp(join(tmpdir(), 'baton-faults-marks-'));
    // Written by the task's command, which runs as the unprivileged task user.
    await chmod(marks, 0o1777);
    env = {
      DATABASE_URL: pg.url,
      BATON_GIT_URL: repo.url,
      BATON_GIT_BRANCH: 'main',
      BATON_SYNC_POLL_SECONDS: '0',
      // The push test below sends unsigned deliveries: allowed, as the servers listen on loopback.
      BATON_GIT_WEBHOOK_UNSIGNED: 'allow',
      BATON_API_TOKEN: '',
      BATON_ADMIN_USER: '',
      BATON_ADMIN_PASSWORD: '',
      BATON_LEASE_SECONDS: '2',
      BATON_DEFAULT_TASK_RUNNER: 'io.kestra.plugin.core.runner.Process',
      KESTRA_MARKS: marks,
      BATON_SCHEDULER: 'off',
    };
  });

  // A test that fails half-way must not leave a worker behind to run the next test's executions.
  afterEach(async () => {
    for (const p of processes.splice(0)) await p.kill('SIGKILL');
  });

  afterAll(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    await git?.close();
    await pg?.drop();
  });

  it('kill -9 of a worker mid-task: another worker resumes it; the attempt is RESUBMITTED, nothing runs twice after the end', async () => {
    const server = await start('server');
    const first = await start('worker');
    const created = (await (await fetch(`${server.url}/api/v1/executions/tests.faults/slow`, { method: 'POST' })).json()) as Execution;
    await commandStarted(server.url, created.id);
    const killedAt = Date.now();
    expect(await first.kill('SIGKILL')).toBeNull();
    // Its command does not run on unsupervised (the spawner helper stops it), so the resumed attempt
    // never overlaps the interrupted one.
    const [orphan] = (await readFile(join(marks, `${created.id}.pids`), 'utf8')).trim().split('\n').map(Number);
    await until('the killed worker\'s command to stop', async () => (isRunning(orphan) ? undefined : true), 5_000);
    const second = await start('worker');
    const end = await terminal(server.url, created.id);
    console.log(`# kill -9 worker: resumed and ended ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill (lease 2 s)`);
    expect(end.state.current).toBe('SUCCESS');
    expect(attemptsOf(end, 'work')).toEqual(['RESUBMITTED', 'SUCCESS']);
    expect(end.taskRunList.filter((t) => t.taskId === 'first')).toHaveLength(1);
    expect(await marksOf(created.id)).toBe(2);
    // Long after the end, nothing ran again.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await marksOf(created.id)).toBe(2);
    expect((await execution(server.url, created.id)).state.current).toBe('SUCCESS');
    await second.kill('SIGTERM');
    await server.kill('SIGTERM');
  });

  it('kill -9 of a standalone mid-execution: the next one finishes it after restart', async () => {
    const before = await start('standalone');
    const created = (await (await fetch(`${before.url}/api/v1/executions/tests.faults/slow`, { method: 'POST' })).json()) as Execution;
    await commandStarted(before.url, created.id);
    await before.kill('SIGKILL');
    const after = await start('standalone');
    const end = await terminal(after.url, created.id);
    expect(end.state.current).toBe('SUCCESS');
    expect(attemptsOf(end, 'work')).toEqual(['RESUBMITTED', 'SUCCESS']);
    expect(await marksOf(created.id)).toBe(2);
    await after.kill('SIGTERM');
  });

  it('a server killed right after answering webhooks loses none of them: workers run them all', async () => {
    const server = await start('server');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        fetch(`${server.url}/api/v1/executions/webhook/tests.faults/quick/fault-key`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const ids = await Promise.all(answers.map(async (a) => ((await a.json()) as Execution).id));
    await server.kill('SIGKILL');
    const worker = await start('worker');
    const reader = await start('server');
    const ends = await Promise.all(ids.map((id) => terminal(reader.url, id)));
    expect(ends.map((e) => e.state.current)).toEqual(Array(20).fill('SUCCESS'));
    await worker.kill('SIGTERM');
    await reader.kill('SIGTERM');
  });

  it('a burst of 200 concurrent flow-webhook executions on 2 workers: every one runs once, no 5xx', async () => {
    const server = await start('server');
    const workers = [await start('worker', { BATON_WORKER_THREADS: '8' }), await start('worker', { BATON_WORKER_THREADS: '8' })];
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        fetch(`${server.url}/api/v1/executions/webhook/tests.faults/quick/fault-key`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) }),
      ),
    );
    const accepted = Date.now() - started;
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    const ids = await Promise.all(answers.map(async (a) => ((await a.json()) as Execution).id));
    const ends = await Promise.all(ids.map((id) => terminal(server.url, id, 120_000)));
    const elapsed = (Date.now() - started) / 1000;
    console.log(`# burst: 200 webhook executions on 2 workers, accepted in ${accepted} ms, all ended in ${elapsed.toFixed(2)} s (${(200 / elapsed).toFixed(0)}/s)`);
    expect(ends.every((e) => e.state.current === 'SUCCESS')).toBe(true);
    expect(ends.every((e) => e.taskRunList.length === 2 && e.taskRunList.every((t) => t.attempts.length === 1))).toBe(true);
    expect(ends.map((e) => Number(e.taskRunList[0].outputs?.value)).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    for (const w of workers) expect(await w.kill('SIGTERM')).toBe(0);
    await server.kill('SIGTERM');
  });

  it('1,000 push deliveries (one of them twice): no 5xx, each recorded once, the flows end at the pushed commit', async () => {
    const server = await start('server');
    const head = await repo.commit({ 'flows/quick.yaml': QUICK.replace('n={{', 'pushed n={{') }, 'change quick');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: head });
    const deliver = (delivery: string) =>
      fetch(`${server.url}/hooks/git`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': delivery }, body });
    const started = Date.now();
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < 1000) {
          const n = next++;
          const res = await deliver(`delivery-${n}`);
          statuses.push(res.status);
          await res.arrayBuffer();
        }
      }),
    );
    const twice = await deliver('delivery-7');
    statuses.push(twice.status);
    console.log(`# 1,000 push deliveries answered in ${Date.now() - started} ms`);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.every((s) => s === 202 || s === 200)).toBe(true);
    await until('the pushed commit to be live', async () => {
      const flow = (await (await fetch(`${server.url}/api/v1/flows/tests.faults/quick`)).json()) as { commit?: { sha: string } };
      return flow.commit?.sha === head ? true : undefined;
    });
    const revisions = (await (await fetch(`${server.url}/api/v1/flows/tests.faults/quick/revisions`)).json()) as unknown[];
    expect(revisions).toHaveLength(2);
    await server.kill('SIGTERM');
  });

  it('SIGTERM: a worker finishes the task it runs within the grace period, then exits 0', async () => {
    const server = await start('server');
    const worker = await start('worker', { BATON_SHUTDOWN_GRACE_SECONDS: '30' });
    const created = (await (await fetch(`${server.url}/api/v1/executions/tests.faults/slow`, { method: 'POST' })).json()) as Execution;
    await commandStarted(server.url, created.id);
    expect(await worker.kill('SIGTERM')).toBe(0);
    const end = await execution(server.url, created.id);
    expect(end.state.current).toBe('SUCCESS');
    expect(attemptsOf(end, 'work')).toEqual(['SUCCESS']);
    expect(await marksOf(created.id)).toBe(1);
    await server.kill('SIGTERM');
  });

  it('two scheduler processes fire each schedule date once; a worker runs them', async () => {
    const server = await start('server');
    await repo.commit({ 'flows/ticking.yaml': TICKING }, 'add a schedule');
    await fetch(`${server.url}/api/v1/sync`, { method: 'POST' });
    await until('the ticking flow to be live', async () => ((await fetch(`${server.url}/api/v1/flows/tests.faults/ticking`)).ok ? true : undefined));
    const schedulers = [await start('scheduler'), await start('scheduler')];
    const worker = await start('worker');
    await new Promise((r) => setTimeout(r, 5_000));
    for (const s of schedulers) expect(await s.kill('SIGTERM')).toBe(0);
    await repo.commit({ 'flows/ticking.yaml': null }, 'remove the schedule');
    const found = (await (await fetch(`${server.url}/api/v1/executions/search?namespace=tests.faults&flowId=ticking&size=100`)).json()) as { results: Execution[] };
    const dates = found.results.map((e) => String(e.trigger?.date));
    console.log(`# two schedulers: ${dates.length} executions for ${new Set(dates).size} distinct dates`);
    expect(dates.length).toBeGreaterThanOrEqual(2);
    expect(new Set(dates).size).toBe(dates.length);
    await worker.kill('SIGTERM');
    await server.kill('SIGTERM');
  });
});
