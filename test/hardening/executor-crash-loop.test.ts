/**
 * Issue #12, finding 2, with real processes: `baton standalone` on its embedded database, killed -9
 * while it runs an execution, started again. Every start resumes what the last one left, so an
 * execution that takes its process down each time would crash-loop the server: past
 * BATON_LIMIT_EXECUTION_CRASHES interruptions the start fails it instead (saying why) and goes on.
 * And a start answers /healthz while what it resumes is still running.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Execution } from '../../engine/index.ts';
import { createRepo, gitService, startGitServer, type GitServer, type TestRepo } from '../support/git-server.ts';
import { processTest as it, startBaton, type BatonProcess } from '../support/processes.ts';

const NAP = `id: nap
namespace: hardening.crashes
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: started
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT120S
`;

const BIG = `id: big
namespace: hardening.crashes
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT2S
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ range(1, 10000) }}"
    tasks:
      - id: item
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
`;

const QUICK = `id: quick
namespace: hardening.crashes
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: hello
`;

const TERMINAL = new Set(['SUCCESS', 'WARNING', 'FAILED', 'KILLED', 'CANCELLED']);

gitService.describe('a standalone that keeps dying on an execution [pglite]', () => {
  let git: GitServer;
  let repo: TestRepo;
  const processes: BatonProcess[] = [];
  const dataDirs: string[] = [];

  const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${processes.map((p) => p.output()).join('\n---\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const standalone = async (dataDir: string, extra: Record<string, string> = {}) => {
    const p = await startBaton('standalone', {
      BATON_DATA_DIR: dataDir,
      BATON_GIT_URL: repo.url,
      BATON_GIT_BRANCH: 'main',
      BATON_SYNC_POLL_SECONDS: '0',
      BATON_API_TOKEN: '',
      BATON_ADMIN_USER: '',
      BATON_ADMIN_PASSWORD: '',
      BATON_SCHEDULER: 'off',
      ...extra,
    });
    processes.push(p);
    return p;
  };
  const execution = async (base: string, id: string) => (await (await fetch(`${base}/api/v1/executions/${id}`)).json()) as Execution;
  const start = async (base: string, flowId: string) =>
    ((await (await fetch(`${base}/api/v1/executions/hardening.crashes/${flowId}`, { method: 'POST' })).json()) as Execution).id;
  const napRunning = (base: string, id: string, attempts: number) =>
    until(`nap running (attempt ${attempts})`, async () => {
      const nap = (await execution(base, id)).taskRunList?.find((t) => t.taskId === 'nap');
      return nap?.state.current === 'RUNNING' && nap.attempts.length === attempts ? true : undefined;
    });
  const terminal = (base: string, id: string, timeoutMs?: number) =>
    until(`execution ${id} to end`, async () => {
      const e = await execution(base, id);
      return TERMINAL.has(e.state?.current) ? e : undefined;
    }, timeoutMs);

  beforeAll(async () => {
    git = await startGitServer();
    repo = await createRepo(git, 'crashes', { 'flows/nap.yaml': NAP, 'flows/big.yaml': BIG, 'flows/quick.yaml': QUICK });
  });
  afterEach(async () => {
    for (const p of processes.splice(0)) await p.kill('SIGKILL');
  });
  afterAll(async () => {
    await git?.close();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  });

  it('killed -9 on the same execution more than BATON_LIMIT_EXECUTION_CRASHES times: the next start fails it and goes on', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-crash-loop-'));
    dataDirs.push(dataDir);
    const limit = { BATON_LIMIT_EXECUTION_CRASHES: '1' };
    let baton = await standalone(dataDir, limit);
    const id = await start(baton.url, 'nap');
    await napRunning(baton.url, id, 1);
    expect(await baton.kill('SIGKILL')).toBeNull();
    // First interruption: within the limit, the next start resumes it (the interrupted attempt is resubmitted).
    baton = await standalone(dataDir, limit);
    await napRunning(baton.url, id, 2);
    expect(await baton.kill('SIGKILL')).toBeNull();
    // Second: past the limit. The start fails it rather than run it a third time, and serves meanwhile.
    baton = await standalone(dataDir, limit);
    const end = await terminal(baton.url, id);
    expect(end.state.current).toBe('FAILED');
    expect(end.taskRunList.map((t) => [t.taskId, t.state.current])).toEqual([['first', 'SUCCESS'], ['nap', 'FAILED']]);
    expect(end.taskRunList[1].attempts).toHaveLength(2);
    const logs = (await (await fetch(`${baton.url}/api/v1/logs/${id}`)).json()) as Array<{ level: string; message: string }>;
    expect(logs.filter((l) => l.level === 'ERROR').map((l) => l.message)).toEqual([
      'Execution failed: interrupted 2 times: the process running it crashed or hung (or lost its database) each time, so it is not resumed again: ' +
        'exceeds the limit of 1 (raise it with BATON_LIMIT_EXECUTION_CRASHES)',
    ]);
    expect(baton.output()).toContain(`execution ${id} failed: interrupted 2 times`);
    // The process is fine: it runs new work.
    const quick = await terminal(baton.url, await start(baton.url, 'quick'));
    expect(quick.state.current).toBe('SUCCESS');
    expect(await baton.kill('SIGTERM')).toBe(0);
  });

  it('a start answers /healthz while the execution it resumes walks a ForEach of 10,000 values', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-resume-big-'));
    dataDirs.push(dataDir);
    let baton = await standalone(dataDir);
    const id = await start(baton.url, 'big');
    await napRunning(baton.url, id, 1);
    expect(await baton.kill('SIGKILL')).toBeNull();
    baton = await standalone(dataDir);
    // Probes through the whole resumption: each is answered (a loose bound: the machine is shared).
    const probes: number[] = [];
    let end: Execution | undefined;
    const deadline = Date.now() + 150_000;
    while (!end && Date.now() < deadline) {
      const sent = Date.now();
      const ok = await fetch(`${baton.url}/healthz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.ok, () => false);
      expect(ok, `/healthz unanswered ${Date.now() - sent} ms after ${probes.length} answers`).toBe(true);
      probes.push(Date.now() - sent);
      // The execution (10,000 task runs: megabytes of JSON) is read once a second, not with every probe.
      if (probes.length % 20 === 0) {
        const e = await execution(baton.url, id);
        if (TERMINAL.has(e.state.current)) end = e;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const slowest = Math.max(...probes);
    console.log(`# /healthz during the resumption of a 10,000-value ForEach: ${probes.length} answers, slowest ${slowest} ms`);
    expect(end?.state.current).toBe('SUCCESS');
    expect(end?.taskRunList.filter((t) => t.taskId === 'item')).toHaveLength(10_000);
    expect(end?.taskRunList.find((t) => t.taskId === 'nap')?.attempts.map((a) => a.state.current)).toEqual(['RESUBMITTED', 'SUCCESS']);
    expect(probes.length).toBeGreaterThan(3);
    expect(await baton.kill('SIGTERM')).toBe(0);
  });
});
