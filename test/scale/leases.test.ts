/**
 * The work queue and its leases on PostgreSQL, in one process with several engines standing in for
 * workers: claims never overlap, an expired lease is taken over with a new fencing token, the old
 * holder can neither renew nor write, the interrupted attempt is recorded RESUBMITTED, and terminal
 * executions are never claimed.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { executions, openDatabase, type Database } from '../../db/index.ts';
import { createEngine, LeaseLostError, Worker, type Engine, type Execution } from '../../engine/index.ts';
import type { FlowDef } from '../../engine/flow/types.ts';
import { StaticFlowSource } from '../../engine/index.ts';
import { createTestPostgresDatabase, postgresService, type TestPostgresDatabase } from '../support/databases.ts';
import { waitFor } from '../support/wait-for.ts';
import { parseFlow } from '../support/fixtures.ts';

const flow = (source: string): FlowDef => parseFlow(source);

const TWO_STEPS = flow(`id: two_steps
namespace: tests.leases
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: one
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1.5S
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.first.value }} done"
`);

const CHILD = flow(`id: child
namespace: tests.leases
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1.5S
outputs:
  - id: said
    type: STRING
    value: child done
`);

const PARENT = flow(`id: parent
namespace: tests.leases
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: tests.leases
    flowId: child
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.call.outputs.said }}"
`);

postgresService.describe('leases and fencing [postgres]', () => {
  let pg: TestPostgresDatabase;
  let database: Database;
  const engines: Engine[] = [];

  const engine = async (owner?: string, leaseMs = 600): Promise<Engine> => {
    const dataDir = await mkdtemp(join(tmpdir(), 'baton-leases-'));
    const e = createEngine({
      db: database.db, listen: database.listen, dataDir, env: {}, leaseMs, flows: new StaticFlowSource([TWO_STEPS, CHILD, PARENT]),
      role: owner ? { runsExecutions: true, leaseOwner: owner } : { runsExecutions: false },
    });
    engines.push(e);
    return e;
  };

  beforeAll(async () => {
    pg = await createTestPostgresDatabase();
    database = await openDatabase({ url: pg.url });
  });
  afterAll(async () => {
    for (const e of engines) await e.idle().catch(() => undefined);
    await database?.close();
    await pg?.drop();
  });

  it('claims never overlap: concurrent claimers get disjoint executions, each once', async () => {
    const server = await engine();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await server.create({ flow: TWO_STEPS })).execution.id);
    const queue = server.resources.queue;
    const claims = await Promise.all(['w1', 'w2', 'w3'].map((owner) => queue.claimNext(owner, 20)));
    const claimed = claims.flat().map((l) => l.executionId);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.length).toBe(30);
    expect((await queue.claimNext('w4', 10)).length).toBe(0);
    // Leave nothing behind for the next tests.
    await database.db.update(executions).set({ state: 'KILLED' }).where(sql`${executions.id} in ${ids}`);
  });

  it('an expired lease is taken over with a new token; the old holder cannot renew nor write', async () => {
    const server = await engine();
    const queue = server.resources.queue;
    const { execution } = await server.create({ flow: TWO_STEPS });
    const first = (await queue.claim(execution.id, 'w1'))!;
    expect(await queue.claim(execution.id, 'w2')).toBeUndefined();
    await database.db.update(executions).set({ leaseExpiresAt: sql`now() - interval '1 second'` }).where(sql`${executions.id} = ${execution.id}`);
    const second = (await queue.claim(execution.id, 'w2'))!;
    expect(second.token).toBe(first.token + 1);
    expect(await queue.renew(first)).toEqual({ held: false, killRequested: false });
    expect(await queue.renew(second)).toEqual({ held: true, killRequested: false });
    // A write of the old holder is refused whole; the new holder's goes through.
    const repository = server.resources.repository;
    const stale = { ...execution, state: { ...execution.state, current: 'FAILED' as const } };
    await expect(repository.saveBatch([], stale, { lease: first, leaseMs: 1000 })).rejects.toBeInstanceOf(LeaseLostError);
    expect((await repository.findExecution(execution.id))?.state.current).toBe('CREATED');
    await repository.saveBatch([], execution, { lease: second, leaseMs: 1000 });
    await database.db.update(executions).set({ state: 'KILLED' }).where(sql`${executions.id} = ${execution.id}`);
    // Terminal: nobody claims it again, even with its lease expired.
    await database.db.update(executions).set({ leaseExpiresAt: sql`now() - interval '1 second'` }).where(sql`${executions.id} = ${execution.id}`);
    expect(await queue.claim(execution.id, 'w3')).toBeUndefined();
  });

  it('the write of the end lets the lease go in the same statement, keeping the token as the fence', async () => {
    const server = await engine();
    const queue = server.resources.queue;
    const repository = server.resources.repository;
    const { execution } = await server.create({ flow: TWO_STEPS });
    const lease = (await queue.claim(execution.id, 'w1'))!;
    const ended = { ...execution, state: { ...execution.state, current: 'SUCCESS' as const } };
    await repository.saveBatch([], ended, { lease, leaseMs: 1000, endLease: true });
    const [row] = await database.db
      .select({ owner: executions.leaseOwner, expires: executions.leaseExpiresAt, token: executions.leaseToken, state: executions.state })
      .from(executions)
      .where(sql`${executions.id} = ${execution.id}`);
    expect(row).toEqual({ owner: null, expires: null, token: lease.token, state: 'SUCCESS' });
    // Writes after the end (afterExecution tasks) still pass the fence with that token, and keep the lease let go.
    await repository.saveBatch([], ended, { lease, leaseMs: 1000, endLease: true });
    await expect(repository.saveBatch([], ended, { lease: { ...lease, token: lease.token - 1 }, leaseMs: 1000, endLease: true })).rejects.toBeInstanceOf(LeaseLostError);
    // Terminal, with no lease: nobody can claim it.
    expect(await queue.claim(execution.id, 'w2')).toBeUndefined();
    expect(await queue.claimNext('w2', 10)).toEqual([]);
  });

  it('a worker that loses its lease stops writing; the next one resumes and records the attempt RESUBMITTED', async () => {
    const server = await engine();
    const a = await engine('worker-a');
    const b = await engine('worker-b');
    const run = await server.create({ flow: TWO_STEPS });
    await server.start(run);
    const id = run.execution.id;
    const lease = (await a.resources.queue.claim(id, 'worker-a'))!;
    const runA = a.runClaimed(lease);
    // Worker A is in the middle of `nap`; then it hangs (no heartbeat reaches the database) and its lease runs out.
    await waitFor(async () => ((await server.findExecution(id))?.taskRunList.find((t) => t.taskId === 'nap')?.state.current === 'RUNNING' ? true : undefined), 'nap running');
    await database.db.update(executions).set({ leaseExpiresAt: sql`now() - interval '1 second'` }).where(sql`${executions.id} = ${id}`);
    const taken = (await b.resources.queue.claim(id, 'worker-b'))!;
    expect(taken.token).toBe(lease.token + 1);
    const ended = (await b.runClaimed(taken))!;
    const stillA = await runA;
    expect(ended.state.current).toBe('SUCCESS');
    // A noticed (its heartbeat or its next write) and wrote nothing after B took over.
    const stored = (await server.findExecution(id)) as Execution;
    expect(stored.state.current).toBe('SUCCESS');
    const nap = stored.taskRunList.find((t) => t.taskId === 'nap')!;
    expect(nap.attempts.map((x) => x.state.current)).toEqual(['RESUBMITTED', 'SUCCESS']);
    expect(stored.taskRunList.filter((t) => t.taskId === 'first')).toHaveLength(1);
    expect(stored.taskRunList.find((t) => t.taskId === 'last')?.outputs?.value).toBe('one done');
    expect(stillA?.id).toBe(id);
    const [row] = await database.db.select({ owner: executions.leaseOwner, expires: executions.leaseExpiresAt }).from(executions).where(sql`${executions.id} = ${id}`);
    expect(row).toEqual({ owner: null, expires: null });
  });

  it('a kill requested through another process reaches the worker running it', async () => {
    const server = await engine();
    const worker = await engine('worker-k', 300);
    const run = await server.create({ flow: TWO_STEPS });
    await server.start(run);
    const id = run.execution.id;
    const lease = (await worker.resources.queue.claim(id, 'worker-k'))!;
    const running = worker.runClaimed(lease);
    await waitFor(async () => ((await server.findExecution(id))?.state.current === 'RUNNING' ? true : undefined), 'running');
    const answer = await server.requestKill(id);
    expect(answer.state.current).toBe('RUNNING');
    expect((await running)?.state.current).toBe('KILLED');
    expect((await server.awaitTerminal(id))?.state.current).toBe('KILLED');
  });

  it('a Worker runs what the server role leaves; awaitTerminal on the server sees the end', async () => {
    const server = await engine();
    const runner = await engine('worker-w');
    const worker = new Worker({ engine: runner, threads: 4, pollMs: 200 });
    await worker.start();
    try {
      const runs = await Promise.all([1, 2, 3].map(() => server.create({ flow: TWO_STEPS })));
      for (const r of runs) await server.start(r);
      const ends = await Promise.all(runs.map((r) => server.awaitTerminal(r.execution.id)));
      expect(ends.map((e) => e?.state.current)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    } finally {
      await worker.stop(5_000);
    }
  });

  it('stopping a worker hands unfinished executions back; another worker resumes them', async () => {
    const server = await engine();
    const first = await engine('worker-s1');
    const second = await engine('worker-s2');
    const w1 = new Worker({ engine: first, threads: 2, pollMs: 200 });
    await w1.start();
    const run = await server.create({ flow: TWO_STEPS });
    await server.start(run);
    const id = run.execution.id;
    await waitFor(async () => ((await server.findExecution(id))?.taskRunList.find((t) => t.taskId === 'nap')?.state.current === 'RUNNING' ? true : undefined), 'nap running');
    expect(await w1.stop(0)).toEqual({ finished: 0, handedBack: 1 });
    const w2 = new Worker({ engine: second, threads: 2, pollMs: 200 });
    await w2.start();
    try {
      const end = await server.awaitTerminal(id);
      expect(end?.state.current).toBe('SUCCESS');
      expect(end?.taskRunList.find((t) => t.taskId === 'nap')?.attempts.map((x) => x.state.current)).toEqual(['RESUBMITTED', 'SUCCESS']);
    } finally {
      await w2.stop(5_000);
    }
  });

  it('a resumed parent adopts the subflow execution its interrupted Subflow task started: the child runs once', async () => {
    const server = await engine();
    const a = await engine('worker-pa');
    const b = await engine('worker-pb');
    const run = await server.create({ flow: PARENT });
    await server.start(run);
    const id = run.execution.id;
    const runA = a.runClaimed((await a.resources.queue.claim(id, 'worker-pa'))!);
    const childId = await waitFor(async () => {
      const call = (await server.resources.repository.findExecution(id))?.taskRunList.find((t) => t.taskId === 'call');
      return typeof call?.outputs?.executionId === 'string' ? call.outputs.executionId : undefined;
    }, 'the child started');
    // Worker A hangs: both leases run out, and B takes over the parent and (through its Worker) the child.
    await database.db.update(executions).set({ leaseExpiresAt: sql`now() - interval '1 second'` }).where(sql`${executions.id} in ${[id, childId]}`);
    const worker = new Worker({ engine: b, threads: 4, pollMs: 200 });
    await worker.start();
    try {
      const end = await server.awaitTerminal(id);
      await runA;
      expect(end?.state.current).toBe('SUCCESS');
      expect(end?.taskRunList.find((t) => t.taskId === 'after')?.outputs?.value).toBe('child done');
      expect(end?.taskRunList.find((t) => t.taskId === 'call')?.attempts.map((x) => x.state.current)).toEqual(['RESUBMITTED', 'SUCCESS']);
      const children = await database.db.select({ id: executions.id }).from(executions).where(sql`${executions.parentExecutionId} = ${id}`);
      expect(children.map((c) => c.id)).toEqual([childId]);
      expect((await server.findExecution(childId))?.state.current).toBe('SUCCESS');
    } finally {
      await worker.stop(5_000);
    }
  });
});
