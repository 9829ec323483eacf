/**
 * A burst of simultaneous flow webhooks against `concurrency.limit: 1`: never two RUNNING at once.
 * On PostgreSQL the burst is split between two servers (two engines, as two processes would be) on one
 * database, so the limit is shown to hold across processes, not only inside one.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../db/index.ts';
import { isTerminal, type Engine, type Execution } from '../../engine/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { maxOverlap, runningInterval } from '../support/intervals.ts';
import { executionsOf, flowEngine, FlowPublisher, testApp } from './support.ts';

const BURST = 50;

const limitedFlow = (id: string, behavior: string) => `id: ${id}
namespace: tests.burst
concurrency:
  limit: 1
  behavior: ${behavior}
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.body.n }}"
  - id: second
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.02S
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: burst-key
`;

describeEachDatabase('a burst of flow webhooks against a concurrency limit', (open) => {
  let database: Database;
  const engines: Engine[] = [];
  const servers: ServerType[] = [];
  const bases: string[] = [];

  beforeAll(async () => {
    database = await open();
    await new FlowPublisher(database.db).only(limitedFlow('queued', 'QUEUE'), limitedFlow('cancelled', 'CANCEL'));
    // PGlite is one process's database; PostgreSQL gets a second server, as a second process.
    const processes = database.driver === 'postgres' ? 2 : 1;
    for (let i = 0; i < processes; i++) {
      const engine = await flowEngine(database.db, {}, database.listen);
      const app = await testApp(database.db, engine);
      const server = await new Promise<ServerType>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      engines.push(engine);
      servers.push(server);
      bases.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
  });

  afterAll(async () => {
    for (const engine of engines) await engine.idle();
    for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function burst(flowId: string): Promise<Execution[]> {
    const responses = await Promise.all(
      Array.from({ length: BURST }, (_, n) =>
        fetch(`${bases[n % bases.length]}/api/v1/executions/webhook/tests.burst/${flowId}/burst-key`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ n }),
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(BURST).fill(200));
    const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as Execution).id));
    for (const engine of engines) for (const id of ids) await engine.settled(id);
    const stored = await executionsOf(database.db, flowId);
    expect(stored.length).toBe(BURST);
    expect(stored.every((e) => isTerminal(e.state.current))).toBe(true);
    return stored;
  }

  it(`QUEUE: all ${BURST} run, one at a time`, async () => {
    const ends = await burst('queued');
    expect(ends.map((e) => e.state.current)).toEqual(Array(BURST).fill('SUCCESS'));
    expect(maxOverlap(ends.map((e) => runningInterval(e)))).toBe(1);
    expect(ends.filter((e) => e.state.histories.some((h) => h.state === 'QUEUED')).length).toBeGreaterThan(0);
    // Every execution saw its own body: nothing was mixed up or lost while waiting.
    expect(ends.map((e) => Number(e.taskRunList.find((t) => t.taskId === 'first')?.outputs?.value)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: BURST }, (_, n) => n),
    );
  });

  it(`CANCEL: those arriving while one runs are CANCELLED, never run, and never overlap`, async () => {
    const ends = await burst('cancelled');
    const ran = ends.filter((e) => e.state.current === 'SUCCESS');
    const cancelled = ends.filter((e) => e.state.current === 'CANCELLED');
    expect(ran.length + cancelled.length).toBe(BURST);
    expect(ran.length).toBeGreaterThan(0);
    expect(cancelled.length).toBeGreaterThan(0);
    expect(cancelled.every((e) => e.taskRunList.length === 0)).toBe(true);
    expect(maxOverlap(ran.map((e) => runningInterval(e)))).toBe(1);
  });
});
