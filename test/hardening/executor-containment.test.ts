/**
 * Issue #12, findings 2 and 3: an execution that keeps failing the process running it is contained.
 * - A statement the database refuses fails the execution once, with the reason: it is not released
 *   to be claimed and fail again in a loop, and no finished task starts again.
 * - An execution whose runners died (their leases expired) more than BATON_LIMIT_EXECUTION_CRASHES
 *   times is failed by the next claim instead of resumed, and never claimed again.
 * - A kill works from any state: an execution a stuck process holds ends KILLED once its lease
 *   expires (nothing of it runs), one left KILLING by a dead process ends KILLED, and the answer
 *   of the kill and what is read after agree.
 * Processes are engines sharing one database, each with its own lease owner; a process "dies" by
 * abandoning its run without letting its lease go, which is what a crash leaves behind.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Limits } from '../../config/index.ts';
import { executions, type Database } from '../../db/index.ts';
import { createEngine, StaticFlowSource, Worker, type Engine } from '../../engine/index.ts';
import type { FlowDef } from '../../engine/flow/types.ts';
import { transition } from '../../engine/state.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { parseFlow } from '../support/fixtures.ts';
import { waitFor } from '../support/wait-for.ts';

const REFUSED = parseFlow(`id: refused
namespace: hardening.containment
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: stored
  - id: nul
    type: io.kestra.plugin.core.debug.Return
    format: "a\\0b"
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: never
`);

const SLOW = parseFlow(`id: slow
namespace: hardening.containment
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: stored
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
`);

/** Short leases: a process that dies is noticed in a fraction of a second. */
const LEASE_MS = 400;

describeEachDatabase('poison executions are contained', (open) => {
  let database: Database;
  const workers: Worker[] = [];
  const engines: Engine[] = [];

  const engine = async (owner?: string, limits: Partial<Limits> = {}): Promise<Engine> => {
    const e = createEngine({
      db: database.db,
      listen: database.listen,
      dataDir: await mkdtemp(join(tmpdir(), 'baton-containment-')),
      env: {},
      leaseMs: LEASE_MS,
      flows: new StaticFlowSource([REFUSED, SLOW] as FlowDef[]),
      limits: { ...DEFAULT_LIMITS, ...limits },
      role: owner ? { runsExecutions: true, leaseOwner: owner } : { runsExecutions: false },
    });
    engines.push(e);
    return e;
  };
  const startWorker = async (runner: Engine, log: string[]) => {
    const worker = new Worker({ engine: runner, threads: 2, pollMs: 100, log: (level, message) => log.push(`${level}: ${message}`) });
    workers.push(worker);
    await worker.start();
    return worker;
  };
  const created = async (server: Engine, flow: FlowDef): Promise<string> => {
    const run = await server.create({ flow });
    await server.start(run);
    return run.execution.id;
  };
  const stored = async (server: Engine, id: string) => (await server.resources.repository.findExecution(id))!;
  const terminal = (server: Engine, id: string) =>
    waitFor(async () => {
      const e = await stored(server, id);
      return ['SUCCESS', 'WARNING', 'FAILED', 'KILLED'].includes(e.state.current) ? e : undefined;
    }, `execution ${id} to end`, 20_000);
  const errors = async (server: Engine, id: string) => (await server.resources.repository.findLogs(id, { minLevel: 'ERROR' })).map((l) => l.message);
  const row = async (id: string) =>
    (await database.db.select({ interruptions: executions.interruptions, owner: executions.leaseOwner, killRequested: executions.killRequested }).from(executions).where(eq(executions.id, id)))[0];
  /** Runs the execution in a process that then dies mid-task: its lease is left to expire. */
  const dieWhileRunning = async (id: string, owner: string, server: Engine) => {
    const doomed = await engine(owner);
    const lease = await waitFor(async () => (await doomed.resources.queue.claimNext(owner, 1))[0], `${owner} to claim ${id}`);
    const running = doomed.runClaimed(lease);
    await waitFor(async () => ((await stored(server, id)).taskRunList.find((t) => t.taskId === 'nap')?.state.current === 'RUNNING' ? true : undefined), 'nap running');
    doomed.abandon(id, 'the process died');
    await running;
    return lease;
  };

  beforeAll(async () => {
    database = await open();
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.stop(0);
    for (const e of engines.splice(0)) await e.idle().catch(() => undefined);
  });

  it('a statement the database refuses fails the execution once, with the reason; it is never run again', async () => {
    const server = await engine();
    const log: string[] = [];
    await startWorker(await engine('worker-refused'), log);
    const id = await created(server, REFUSED);
    const end = await terminal(server, id);
    expect(end.state.current).toBe('FAILED');
    // What ran is on record (`last` too when the walk got there before the refusal was known); the
    // task run the database would not take is FAILED, without the outputs it refused.
    expect(end.taskRunList.slice(0, 2).map((t) => [t.taskId, t.state.current])).toEqual([['first', 'SUCCESS'], ['nul', 'FAILED']]);
    // Several polls later: not claimed again, nothing ran again, said once.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const later = await stored(server, id);
    expect(later.state.current).toBe('FAILED');
    expect(later.taskRunList.map((t) => t.attempts.length)).toEqual(later.taskRunList.map(() => 1));
    const failures = (await errors(server, id)).filter((m) => m.startsWith('Execution failed:'));
    expect(failures).toHaveLength(1);
    const nul = later.taskRunList.find((t) => t.taskId === 'nul')!;
    expect(nul.outputs).toBeNull();
    expect(failures[0]).toBe(`Execution failed: the database refused to store task 'nul' (task run ${nul.id}): unsupported Unicode escape sequence (\\u0000 cannot be converted to text.)`);
    expect(log.filter((l) => l.includes(id))).toEqual([`error: worker worker-refused: execution ${id} failed: ${failures[0]}`]);
    expect(await row(id)).toMatchObject({ interruptions: 0, owner: null });
    expect(await server.resources.queue.claimNext('anyone', 10)).toEqual([]);
  });

  it(`an execution whose process died more than BATON_LIMIT_EXECUTION_CRASHES times is failed, not resumed`, async () => {
    const server = await engine();
    const id = await created(server, SLOW);
    // Three processes in turn claim it, start its task and die; each claim after the first finds the
    // lease its predecessor left expired and counts it.
    for (const [n, owner] of ['doomed-1', 'doomed-2', 'doomed-3'].entries()) {
      const lease = await dieWhileRunning(id, owner, server);
      expect(lease.interruptions).toBe(n);
    }
    const log: string[] = [];
    await startWorker(await engine('worker-next', { executionCrashes: 2 }), log);
    const end = await terminal(server, id);
    expect(end.state.current).toBe('FAILED');
    expect(end.taskRunList.map((t) => [t.taskId, t.state.current])).toEqual([['first', 'SUCCESS'], ['nap', 'FAILED']]);
    const reason = 'interrupted 3 times: the process running it crashed or hung (or lost its database) each time, so it is not resumed again: ' +
      'exceeds the limit of 2 (raise it with BATON_LIMIT_EXECUTION_CRASHES)';
    expect(await errors(server, id)).toEqual([`Execution failed: ${reason}`]);
    expect(log).toEqual([`error: worker worker-next: execution ${id} failed: ${reason}`]);
    expect(await row(id)).toMatchObject({ interruptions: 3, owner: null });
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2));
    expect((await stored(server, id)).state.current).toBe('FAILED');
    expect(await server.resources.queue.claimNext('anyone', 10)).toEqual([]);
  });

  it('an execution that ends, or is handed back by a worker stopping, counts no interruption', async () => {
    const server = await engine();
    const runner = await engine('worker-clean', { executionCrashes: 1 });
    const handedBack = await created(server, SLOW);
    const first = await startWorker(runner, []);
    await waitFor(async () => ((await stored(server, handedBack)).taskRunList.find((t) => t.taskId === 'nap')?.state.current === 'RUNNING' ? true : undefined), 'nap running');
    expect(await first.stop(0)).toEqual({ finished: 0, handedBack: 1 });
    expect((await row(handedBack)).interruptions).toBe(0);
    // Claimed again, twice over the limit of interruptions had they counted: it runs (and is killed).
    await startWorker(await engine('worker-clean-2', { executionCrashes: 1 }), []);
    await waitFor(async () => ((await row(handedBack)).owner === 'worker-clean-2' ? true : undefined), 'the second worker to claim it');
    expect((await row(handedBack)).interruptions).toBe(0);
    await server.requestKill(handedBack);
    expect((await terminal(server, handedBack)).state.current).toBe('KILLED');
    const refused = await created(server, REFUSED);
    await terminal(server, refused);
    expect((await row(refused)).interruptions).toBe(0);
  });

  it('a kill of an execution a stuck process holds ends it KILLED once its lease expires; none of its tasks runs', async () => {
    const server = await engine();
    const id = await created(server, SLOW);
    // A process claims it and hangs before running anything: its lease is live, nobody heartbeats.
    const stuck = await engine('stuck');
    const lease = (await stuck.resources.queue.claimNext('stuck', 1))[0];
    expect(lease.executionId).toBe(id);
    const answer = await server.requestKill(id);
    expect(answer.state.current).toBe('CREATED');
    expect((await server.findExecution(id))?.state.current).toBe('CREATED');
    expect((await row(id)).killRequested).toBe(true);
    const log: string[] = [];
    await startWorker(await engine('worker-after-stuck'), log);
    const end = await terminal(server, id);
    expect(end.state.current).toBe('KILLED');
    expect(end.taskRunList).toEqual([]);
    expect((await server.findExecution(id))?.state.current).toBe('KILLED');
    await expect(server.requestKill(id)).rejects.toThrow(/KILLED/);
  });

  it('an execution left KILLING by a process that died ends KILLED when claimed', async () => {
    const server = await engine();
    const id = await created(server, SLOW);
    const lease = await dieWhileRunning(id, 'killing-then-dead', server);
    // Its last write before it died: the kill had begun (KILLING), fenced by its lease as any write of it.
    const last = await stored(server, id);
    await server.resources.repository.saveBatch([], { ...last, state: transition(last.state, 'KILLING', 'test') }, { lease, leaseMs: LEASE_MS });
    expect((await stored(server, id)).state.current).toBe('KILLING');
    await startWorker(await engine('worker-after-killing'), []);
    const end = await terminal(server, id);
    expect(end.state.current).toBe('KILLED');
    expect(end.taskRunList.map((t) => [t.taskId, t.state.current])).toEqual([['first', 'SUCCESS'], ['nap', 'KILLED']]);
  });

  it('a CREATED execution nobody has claimed yet is killed at once, and no worker runs it after', async () => {
    const server = await engine();
    const id = await created(server, SLOW);
    const answer = await server.requestKill(id);
    expect(answer.state.current).toBe('KILLED');
    expect((await server.findExecution(id))?.state.current).toBe('KILLED');
    await startWorker(await engine('worker-after-kill'), []);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await stored(server, id);
    expect(after.state.current).toBe('KILLED');
    expect(after.taskRunList).toEqual([]);
  });
});
